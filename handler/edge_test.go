package handler_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
)

func TestRequestLog(t *testing.T) {
	for _, tc := range []struct {
		level zapcore.Level
		lines int
	}{{zapcore.InfoLevel, 1}, {zapcore.WarnLevel, 0}} {
		t.Run(fmt.Sprintf("at %s level an accepted webhook writes %d request lines", tc.level, tc.lines), func(t *testing.T) {
			core, logs := observer.New(tc.level)
			s := start(t, func(c *handler.Config) { c.Logger = zap.New(core) })
			if status, body := s.deliver(t, delivery{body: example(t, "invoice-created-shopee.json")}); status != http.StatusAccepted {
				t.Fatalf("status = %d %v", status, body)
			}
			lines := logs.FilterMessage("request").All()
			if len(lines) != tc.lines {
				t.Fatalf("%d request lines, want %d: %v", len(lines), tc.lines, lines)
			}
			if tc.lines == 0 {
				return
			}
			got := lines[0].ContextMap()
			for field, want := range map[string]any{
				"method": "POST", "path": "/webhooks/forstok", "status": int64(http.StatusAccepted),
				"event_key": "invoice.created:70001",
			} {
				if got[field] != want {
					t.Errorf("%s = %v, want %v", field, got[field], want)
				}
			}
			if id, _ := got["request_id"].(string); len(id) < 16 {
				t.Errorf("request_id = %q, want the X-Request-ID", got["request_id"])
			}
		})
	}

	t.Run("a failed delivery logs its error with the request id", func(t *testing.T) {
		core, logs := observer.New(zapcore.WarnLevel)
		s := start(t, func(c *handler.Config) {
			c.Logger = zap.New(core)
			c.Store = failingStore{c.Store}
		})
		if status, _ := s.deliver(t, delivery{body: example(t, "invoice-created-shopee.json")}); status != http.StatusInternalServerError {
			t.Fatalf("status = %d, want 500", status)
		}
		lines := logs.FilterMessage("request failed").All()
		if len(lines) != 1 || lines[0].ContextMap()["request_id"] == "" {
			t.Fatalf("want one error line with a request id, got %v", lines)
		}
	})
}

// failingStore fails Accept with an error the edge does not know.
type failingStore struct{ handler.Store }

func (failingStore) Accept(context.Context, events.Incoming) (events.Outcome, error) {
	return 0, errors.New("boom")
}

func TestAnswerBytes(t *testing.T) {
	s := start(t)
	resp := post(t, s, example(t, "invoice-created-shopee.json"))
	if resp.status != http.StatusAccepted || resp.body != `{"key":"invoice.created:70001","status":"accepted"}`+"\n" {
		t.Errorf("answer = %d %q; want 202 with the key and the status, in that order", resp.status, resp.body)
	}
}

type rawAnswer struct {
	status int
	body   string
}

func post(t *testing.T, s *service, body []byte) rawAnswer {
	t.Helper()
	id, ts := "msg_bytes", s.now.Unix()
	sig, err := forstok.Sign(secretA, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/forstok", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, string(b)}
}

func TestBodyShorterThanItsContentLength(t *testing.T) {
	s := start(t)
	body := example(t, "invoice-created-shopee.json")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// Announce one byte more than is sent, then close our side.
	fmt.Fprintf(conn, "POST /webhooks/forstok HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s", signed(s.now), len(body)+1, body)
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(answer), "could not read the request body") {
		t.Errorf("answer = %d %s; want 400 saying the body could not be read", resp.StatusCode, answer)
	}
}

func TestRequestIDIsBounded(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	s := start(t, func(c *handler.Config) { c.Logger = zap.New(core) })
	long := strings.Repeat("r", 129)
	for _, tc := range []struct {
		name, id string
		kept     bool
	}{
		{"a short printable id is kept", "req-42_abc.DEF", true},
		{"an id of 128 bytes is kept", strings.Repeat("r", 128), true},
		{"an id over 128 bytes is replaced", long, false},
		{"a megabyte id is replaced", strings.Repeat("x", 1<<20), false},
		{"an id with a tab is replaced", "abc\tdef", false},
		{"an id with a space is replaced", "abc def", false},
		{"an id with non-ASCII bytes is replaced", "abc\xc3\xa9", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.TakeAll()
			// Written by hand: Go's client refuses to send some of these ids.
			conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(conn, "GET /admin/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Request-ID: %s\r\nConnection: close\r\n\r\n", admin, tc.id)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			echoed := resp.Header.Get("X-Request-ID")
			lines := logs.FilterMessage("request").All()
			if len(lines) != 1 {
				t.Fatalf("%d request lines, want 1", len(lines))
			}
			logged, _ := lines[0].ContextMap()["request_id"].(string)
			if logged != echoed {
				t.Errorf("logged %q, answered %q; want the same id", clipped(logged), clipped(echoed))
			}
			if tc.kept && logged != tc.id {
				t.Errorf("logged %q; want the client's id kept", clipped(logged))
			}
			if !tc.kept && (logged == tc.id || len(logged) == 0 || len(logged) > 128) {
				t.Errorf("logged %q; want a fresh id of at most 128 bytes", clipped(logged))
			}
		})
	}
}

func clipped(s string) string {
	if len(s) > 40 {
		return s[:40] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// TestClaimedContentLengthIsNotAllocated opens connections that each claim a
// 1 MiB body and send a few bytes of it, then waits until the service has
// started reading every one: the heap must not have grown by what they
// claimed (before the fix each reserved the whole 1 MiB).
func TestClaimedContentLengthIsNotAllocated(t *testing.T) {
	const conns = 32 // as many 1 MiB claims as the default body budget lets in
	reading := make(chan struct{}, conns)
	s := start(t)
	// A second server on the same handler, whose request bodies say when
	// the service first reads them.
	inner := s.h
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &firstRead{ReadCloser: r.Body, signal: reading}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for range conns {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /webhooks/forstok HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n{\"type\":", signed(s.now), handler.MaxBodyBytes)
	}
	deadline := time.After(30 * time.Second)
	for range conns {
		select {
		case <-reading:
		case <-deadline:
			t.Fatal("the service did not start reading every body within 30 s")
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d kB for %d connections claiming 1 MiB each", grown>>10, conns)
	if limit := int64(conns) * 64 << 10; grown > limit {
		t.Errorf("heap grew by %d kB; want under %d kB (64 kB a connection): a claimed length must not be reserved whole", grown>>10, limit>>10)
	}
}

// firstRead signals once, on the first Read of a request body.
type firstRead struct {
	io.ReadCloser
	signal chan<- struct{}
	once   sync.Once
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { f.signal <- struct{}{} })
	return f.ReadCloser.Read(p)
}
