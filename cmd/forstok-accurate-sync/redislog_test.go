package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/internal/syncbuf"
	"forstok-accurate-sync/internal/testnet"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/internal/wait"
)

func TestGoRedisLinesAreJSON(t *testing.T) {
	logs := &syncbuf.Buffer{}
	routeRedisLogs(newLogger(zapcore.InfoLevel, logs))
	// A port nobody listens on: go-redis logs its failed dials itself.
	addr := testnet.FreeAddr(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rdb.Ping(ctx).Err() == nil {
		t.Fatal("a Redis answered on a closed port")
	}
	ok := wait.Until(5*time.Second, 20*time.Millisecond, func() bool { return strings.Contains(logs.String(), "failed to dial") })
	if !ok {
		t.Fatalf("go-redis's line did not reach the service's log: %q", logs.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		if entry["logger"] != "redis" || entry["level"] != "warn" {
			t.Errorf("go-redis line = %v; want logger redis at warn", entry)
		}
	}
}

// TestRedisDownAtStartIsNamedOnce starts the real service while its Redis
// is down: the start waits for Redis, the log names Redis's address once
// (no password, never blaming Accurate) instead of a line a tick from every
// loop, and the service goes on once Redis is back.
func TestRedisDownAtStartIsNamedOnce(t *testing.T) {
	srv := testredis.StartServer(t)
	srv.Stop()
	w := newWorld(t)
	w.redis.URL = srv.URL
	env := w.env()
	cfg, err := loadConfig(func(k string) string { return env[k] }, needServe)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, options{logger: newLogger(zapcore.InfoLevel, w.logs), poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.rdb.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	addr := "127.0.0.1:" + strconv.Itoa(srv.Port)

	t.Run("five seconds of Redis down are one line naming its address", func(t *testing.T) {
		time.Sleep(5 * time.Second)
		lines := strings.Split(strings.TrimSpace(w.logs.String()), "\n")
		named := 0
		for _, line := range lines {
			if strings.Contains(line, "Redis at "+addr+" does not answer") {
				named++
			}
			if strings.Contains(line, "Accurate did not answer") || strings.Contains(line, "redis://") {
				t.Errorf("line %q blames Accurate or shows Redis's URL", line)
			}
		}
		if named != 1 || len(lines) > 5 {
			t.Errorf("%d lines name Redis at %s, %d lines in all; want one, and a handful in all:\n%s", named, addr, len(lines), w.logs.String())
		}
	})

	t.Run("the service starts once Redis answers, and says so once", func(t *testing.T) {
		srv.Restart()
		ok := wait.Until(20*time.Second, 50*time.Millisecond, func() bool {
			resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		if !ok {
			t.Fatalf("the service was not ready within 20 s of Redis's return:\n%s", w.logs.Tail(3000))
		}
		if back := strings.Count(w.logs.String(), "Redis at "+addr+" answers again"); back != 1 {
			t.Errorf("%d lines say Redis answers again; want one:\n%s", back, w.logs.Tail(3000))
		}
	})
}
