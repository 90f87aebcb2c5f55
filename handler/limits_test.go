package handler_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"forstok-accurate-sync/edge"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/wait"
)

// signed is the Standard Webhooks headers of a delivery at now whose
// signature is junk: the headers pass, the body would not.
func signed(now time.Time) string {
	return fmt.Sprintf("webhook-id: msg_x\r\nwebhook-timestamp: %d\r\nwebhook-signature: v1,AAAA\r\n", now.Unix())
}

// open sends a webhook request's head claiming a 1 MiB body, and the first
// bytes of that body, and leaves the connection open.
func open(t *testing.T, s *service, path, headers, first string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s",
		path, headers, handler.MaxBodyBytes, first)
	return conn
}

func answerOf(t *testing.T, conn net.Conn) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestWebhookRefusedFromItsHeaders(t *testing.T) {
	s := start(t)
	stale := "webhook-id: msg_x\r\nwebhook-timestamp: 1\r\nwebhook-signature: v1,AAAA\r\n"
	for _, tc := range []struct {
		name, path, headers string
		status              int
		says                string
	}{
		{"an unknown seller is 404 before its body", "/webhooks/forstok/nobody", signed(s.now), http.StatusNotFound, "no seller"},
		{"a delivery without signature headers is 401 before its body", "/webhooks/forstok", "", http.StatusUnauthorized, "missing webhook-id"},
		{"a timestamp outside the window is 401 before the body", "/webhooks/forstok", stale, http.StatusUnauthorized, "timestamp too old"},
		{"a signature header without v1 is 401 before the body", "/webhooks/forstok",
			fmt.Sprintf("webhook-id: m\r\nwebhook-timestamp: %d\r\nwebhook-signature: v2,AAAA\r\n", s.now.Unix()), http.StatusUnauthorized, "no v1 signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The head claims 1 MiB and sends none of it: only an answer
			// decided from the headers can come back.
			conn := open(t, s, tc.path, tc.headers, "")
			resp, body := answerOf(t, conn)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) {
				t.Errorf("answer = %d %s; want %d saying %q", resp.StatusCode, body, tc.status, tc.says)
			}
		})
	}
}

func TestBodyBudget(t *testing.T) {
	budget := edge.NewBudget(4 * handler.MaxBodyBytes)
	s := start(t, func(c *handler.Config) { c.BodyBudget = budget })
	// Two slow senders claiming 1 MiB hold the large bodies' half ...
	for range 2 {
		open(t, s, "/webhooks/forstok", signed(s.now), `{"type":`)
	}
	waitFor(t, func() bool { return budget.InFlight() == 2*handler.MaxBodyBytes })

	t.Run("a usual webhook still finds room", func(t *testing.T) {
		if status, body := s.deliver(t, delivery{body: example(t, "invoice-created-shopee.json")}); status != http.StatusAccepted {
			t.Errorf("answer = %d %v; want 202", status, body)
		}
	})
	t.Run("a body beyond the budget is 503 with Retry-After", func(t *testing.T) {
		resp, body := answerOf(t, open(t, s, "/webhooks/forstok", signed(s.now), ""))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "retry") {
			t.Errorf("answer = %d Retry-After %q %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	})
	t.Run("a delivery its headers condemn is still 401, costing no budget", func(t *testing.T) {
		resp, _ := answerOf(t, open(t, s, "/webhooks/forstok", "", ""))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
	})
}

func TestBudgetIsGivenBack(t *testing.T) {
	budget := edge.NewBudget(64 << 10)
	s := start(t, func(c *handler.Config) { c.BodyBudget = budget })
	for i := range 3 {
		if status, body := s.deliver(t, delivery{body: example(t, "invoice-created-shopee.json")}); status >= 300 {
			t.Fatalf("delivery %d: %d %v; want each to get the whole budget after the one before", i, status, body)
		}
	}
	if got := budget.InFlight(); got != 0 {
		t.Errorf("in flight after the deliveries = %d, want 0", got)
	}
}

func TestSlowBodyIsCut(t *testing.T) {
	s := start(t, func(c *handler.Config) {
		c.MinBodyRate = 1 << 10
		c.BodyGrace = 300 * time.Millisecond
	})
	conn := open(t, s, "/webhooks/forstok", signed(s.now), `{"type":`)
	began := time.Now()
	resp, body := answerOf(t, conn)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, "too slowly") {
		t.Errorf("answer = %d %s; want 408 saying the body came too slowly", resp.StatusCode, body)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("cut after %v; want within the grace and a few kB at 1 kB/s", took)
	}
}

func TestLoggedPathIsCut(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	s := start(t, func(c *handler.Config) { c.Logger = zap.New(core) })
	resp, err := http.Get(s.url + "/" + strings.Repeat("p", 60000))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := logs.FilterMessage("request").All()
	if len(lines) != 1 {
		t.Fatalf("%d request lines, want 1", len(lines))
	}
	if path, _ := lines[0].ContextMap()["path"].(string); len(path) > edge.LogCut+len("…") || !strings.HasPrefix(path, "/ppp") {
		t.Errorf("logged path of %d bytes; want it cut at %d", len(path), edge.LogCut)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	if !wait.Until(10*time.Second, 10*time.Millisecond, ok) {
		t.Fatal("condition not reached in 10 s")
	}
}

func TestReadyzShowsNoPathOrSeller(t *testing.T) {
	words := "seller toko-x: Accurate refuses its credentials: check TOKO_X_TOKEN; the file /etc/sellers/toko-x.yaml is read again when it changes"
	for _, tc := range []struct {
		name   string
		cfg    func(c *handler.Config)
		status int
		down   string
	}{
		{"a seller Accurate refuses is counted, not named", func(c *handler.Config) {
			c.Warnings = func() []string { return []string{words} }
		}, http.StatusOK, "accurate"},
		{"Accurate refusing the only seller says accurate is down", func(c *handler.Config) {
			c.Ready = func(context.Context) error {
				return errors.New("Accurate refuses the credentials: check ACCURATE_API_TOKEN")
			}
		}, http.StatusServiceUnavailable, "accurate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.cfg)
			resp, err := http.Get(s.url + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			if resp.StatusCode != tc.status || !strings.Contains(body, `"accurate"`) {
				t.Errorf("/readyz = %d %s; want %d naming %s", resp.StatusCode, body, tc.status, tc.down)
			}
			for _, secret := range []string{"/etc/", "toko-x", ".yaml"} {
				if strings.Contains(body, secret) {
					t.Errorf("/readyz shows %q: %s", secret, body)
				}
			}
		})
	}
}
