package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"
)

func TestGoRedisLinesAreJSON(t *testing.T) {
	logs := &syncBuffer{}
	routeRedisLogs(newLogger(zapcore.InfoLevel, logs))
	// A port nobody listens on: go-redis logs its failed dials itself.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rdb.Ping(ctx).Err() == nil {
		t.Fatal("a Redis answered on a closed port")
	}
	ok := poll(5*time.Second, 20*time.Millisecond, func() bool { return strings.Contains(logs.String(), "failed to dial") })
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
