package edge_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/edge"
)

func TestBudget(t *testing.T) {
	b := edge.NewBudget(10)
	if !b.Take(6) || !b.Take(4) {
		t.Fatal("want 6 and 4 bytes of a 10-byte budget granted")
	}
	if b.Take(1) {
		t.Error("a byte beyond the budget was granted")
	}
	b.Give(6)
	if !b.Take(5) || b.InFlight() != 9 {
		t.Errorf("after giving 6 back: in flight %d; want 5 more granted, 9 in flight", b.InFlight())
	}
}

func TestLargeBodiesLeaveRoomForSmallOnes(t *testing.T) {
	b := edge.NewBudget(4 << 20)
	for i := range 2 {
		if !b.Take(1 << 20) {
			t.Fatalf("1 MiB body %d refused; want two granted from a 4 MiB budget", i+1)
		}
	}
	if b.Take(1 << 20) {
		t.Error("a third 1 MiB body was granted: large bodies must hold at most half the budget")
	}
	for i := range 64 {
		if !b.Take(32 << 10) {
			t.Fatalf("small body %d refused with the large half spent", i)
		}
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
	}{
		{"a short value is kept whole", "/webhooks/forstok", len("/webhooks/forstok")},
		{"a long value is cut at 256 bytes", strings.Repeat("a", 60000), edge.LogCut + len("…")},
		{"a cut never splits a character", strings.Repeat("é", 200), edge.LogCut + len("…")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := edge.Cut(tc.in)
			if len(got) > tc.max || !strings.HasPrefix(tc.in, strings.TrimSuffix(got, "…")) || !utf8Valid(got) {
				t.Errorf("Cut gave %d bytes; want at most %d, a valid prefix", len(got), tc.max)
			}
		})
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestConnsShedSilentConnections fills a server capped at 8 connections with
// connections that send nothing: a real request must still be answered, in
// about the second a silent connection is given before it may be closed.
func TestConnsShedSilentConnections(t *testing.T) {
	const max = 8
	conns := edge.NewConns(max)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		ConnState: conns.Track, ReadHeaderTimeout: time.Minute, IdleTimeout: edge.IdleTimeout}
	go srv.Serve(conns.Listener(ln))
	ctx, cancel := context.WithCancel(context.Background())
	go conns.Serve(ctx)
	t.Cleanup(func() { cancel(); srv.Close() })

	var silent []net.Conn
	for range 3 * max {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, c)
		t.Cleanup(func() { c.Close() })
	}
	deadline := time.Now().Add(time.Second)
	for conns.Open() < max && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := conns.Open(); got != max {
		t.Fatalf("open = %d, want the cap %d", got, max)
	}

	began := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("a real request behind %d silent connections: %v", len(silent), err)
	}
	resp.Body.Close()
	took := time.Since(began)
	t.Logf("answered in %v behind %d silent connections, cap %d", took, len(silent), max)
	if took > 3*time.Second {
		t.Errorf("answered in %v; want silent connections shed well before the header timeout", took)
	}
}
