package outage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"forstok-accurate-sync/internal/testclock"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/outage"
)

func newWatch(t *testing.T) (*outage.Watch, *observer.ObservedLogs, *testclock.Clock) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	c := testclock.New(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	w := outage.New(outage.Config{Logger: zap.New(core), Name: "Redis", Addr: "10.0.0.7:6379", Every: 30 * time.Second, Now: c.Now})
	return w, logs, c
}

func TestAnOutageIsNamedOnceThenSummed(t *testing.T) {
	refused := errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")

	t.Run("the first failure is one line naming the dependency and its address", func(t *testing.T) {
		w, logs, _ := newWatch(t)
		for range 500 {
			w.Down(refused)
		}
		if logs.Len() != 1 {
			t.Fatalf("%d lines for 500 failures within the interval; want 1", logs.Len())
		}
		line := logs.All()[0]
		if line.Message != "Redis at 10.0.0.7:6379 does not answer" || line.ContextMap()["error"] != refused.Error() {
			t.Errorf("line %q %v; want the dependency, its address and the error", line.Message, line.ContextMap())
		}
		if !w.IsDown() {
			t.Error("the watch does not say the dependency is down")
		}
	})

	t.Run("a failing dependency is summed up at most once an interval", func(t *testing.T) {
		w, logs, c := newWatch(t)
		for range 40 { // 40 s of a loop failing each second
			w.Down(refused)
			c.Add(time.Second)
		}
		if logs.Len() != 2 {
			t.Fatalf("%d lines in 40 s at one line per 30 s; want the first and one summary", logs.Len())
		}
		summary := logs.All()[1]
		if summary.Message != "Redis at 10.0.0.7:6379 still does not answer" || summary.ContextMap()["failures_since_last_line"] != int64(30) {
			t.Errorf("summary %q %v; want the address and the 30 failures it stands for", summary.Message, summary.ContextMap())
		}
	})

	t.Run("its return is said once, with how long it was down", func(t *testing.T) {
		w, logs, c := newWatch(t)
		w.Up() // never down: nothing to say
		w.Down(refused)
		c.Add(12 * time.Second)
		w.Up()
		w.Up()
		if logs.Len() != 2 {
			t.Fatalf("%d lines; want the failure and one return", logs.Len())
		}
		back := logs.All()[1]
		if back.Message != "Redis at 10.0.0.7:6379 answers again" || back.ContextMap()["down_for"] != "12s" {
			t.Errorf("return %q %v; want the address and 12s", back.Message, back.ContextMap())
		}
		if w.IsDown() {
			t.Error("the watch still says the dependency is down")
		}
	})
}

func TestDivertedLinesCountAsFailures(t *testing.T) {
	w, watchLogs, _ := newWatch(t)
	core, appLogs := observer.New(zapcore.DebugLevel)
	aboutRedis := func(ent zapcore.Entry, err error) bool {
		return err != nil && strings.Contains(err.Error(), "10.0.0.7:6379") || strings.Contains(ent.Message, "10.0.0.7:6379")
	}
	log := zap.New(w.Divert(core, aboutRedis, "event_key")).Named("events")
	refused := errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")

	t.Run("warnings about the dependency become one line of the watch", func(t *testing.T) {
		for range 100 {
			log.Warn("release held events", zap.Error(refused))
			log.Sugar().Error("Dequeue error: redis eval error: dial tcp 10.0.0.7:6379: connect: connection refused")
		}
		if appLogs.Len() != 0 || watchLogs.Len() != 1 {
			t.Errorf("%d lines written and %d of the watch; want none and one", appLogs.Len(), watchLogs.Len())
		}
	})

	t.Run("the lines of one event are written, even about the dependency", func(t *testing.T) {
		log.With(zap.String("event_key", "invoice.created:1")).Warn("could not record the outcome", zap.Error(refused))
		if appLogs.Len() != 1 {
			t.Fatalf("%d lines written; want the event's", appLogs.Len())
		}
	})

	t.Run("other lines are written as they are", func(t *testing.T) {
		log.With(zap.String("seller", "toko-a")).Warn("seller file is invalid", zap.Error(errors.New("stores is empty")))
		log.Info("event synced")
		if appLogs.Len() != 3 {
			t.Fatalf("%d lines written; want both", appLogs.Len()-1)
		}
		if got := appLogs.All()[1].ContextMap()["seller"]; got != "toko-a" {
			t.Errorf("seller = %v; want the field given with With", got)
		}
	})
}

func TestFollowingARealRedis(t *testing.T) {
	srv := testredis.StartServer(t)
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1 // each call is one try: the watch, not go-redis, retries
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	core, logs := observer.New(zapcore.DebugLevel)
	w := outage.New(outage.Config{Logger: zap.New(core), Name: "Redis", Addr: opt.Addr, Every: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Follow(ctx, 50*time.Millisecond, func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	}()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		if !wait.Until(10*time.Second, 20*time.Millisecond, ok) {
			t.Fatalf("%s: not within 10s; lines %v", what, logs.All())
		}
	}

	t.Run("a Redis that stops is named once with its address", func(t *testing.T) {
		srv.Stop()
		waitFor("the watch sees Redis down", w.IsDown)
		time.Sleep(time.Second) // twenty more failed pings
		down := logs.FilterMessage("Redis at " + opt.Addr + " does not answer").Len()
		if down != 1 || logs.Len() != 1 {
			t.Errorf("%d lines naming %s, %d in all; want one", down, opt.Addr, logs.Len())
		}
	})

	t.Run("a Redis that comes back is said to answer again", func(t *testing.T) {
		srv.Restart()
		waitFor("the watch sees Redis back", func() bool { return !w.IsDown() })
		if back := logs.FilterMessage("Redis at " + opt.Addr + " answers again").Len(); back != 1 {
			t.Errorf("%d lines saying Redis is back; want one", back)
		}
	})

	t.Run("a start that needs Redis waits for it and goes on once it answers", func(t *testing.T) {
		srv.Stop()
		waitFor("the watch sees Redis down", w.IsDown)
		tries := 0
		var errs []error
		err := w.Await(t.Context(), 20*time.Millisecond, func(ctx context.Context) error {
			tries++
			if tries == 3 {
				srv.Restart()
			}
			err := rdb.Set(ctx, "outage-test", "1", time.Second).Err()
			errs = append(errs, err)
			return err
		}, func(error) bool { return true })
		if err != nil || tries < 3 {
			t.Errorf("Await = %v after %d tries (%v); want it to wait for Redis and succeed once it is back", err, tries, errs)
		}
	})

	t.Run("a start that fails for another reason is not held", func(t *testing.T) {
		wrong := errors.New("namespace has 4 shards")
		err := w.Await(t.Context(), time.Hour, func(context.Context) error { return wrong }, func(err error) bool { return err != wrong })
		if err != wrong {
			t.Errorf("Await = %v; want the error at once", err)
		}
	})
}
