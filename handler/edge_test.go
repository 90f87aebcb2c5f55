package handler_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
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
	fmt.Fprintf(conn, "POST /webhooks/forstok HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+1, body)
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
