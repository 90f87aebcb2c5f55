package events_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// newStore is the default seller's store of a namespace of its own
// (newNamespace).
func newStore(t *testing.T, tune ...func(*events.Config)) (*events.Store, *redis.Client, testredis.Redis) {
	t.Helper()
	ns, rdb, r := newNamespace(t, tune...)
	return ns.Seller(""), rdb, r
}

// newNamespace is a namespace of its own; tune changes its Config.
func newNamespace(t *testing.T, tune ...func(*events.Config)) (*events.Namespace, *redis.Client, testredis.Redis) {
	t.Helper()
	r := testredis.New(t)
	rdb := r.Client(t)
	// Sharded as on a Cluster, so every test sees the shards' keys.
	cfg := events.Config{Namespace: r.Namespace, Shards: queue.DefaultShards}
	for _, f := range tune {
		f(&cfg)
	}
	return events.New(rdb, cfg), rdb, r
}

func incoming(key string) events.Incoming {
	return events.Incoming{Key: key, Type: "invoice.created", Payload: []byte(`{"type":"invoice.created","data":{"id":1}}`)}
}

func TestAccept(t *testing.T) {
	ctx := context.Background()

	t.Run("the first delivery is accepted and queued, the second is a duplicate", func(t *testing.T) {
		store, _, r := newStore(t)
		out, err := store.Accept(ctx, incoming("invoice.created:1"))
		if err != nil || out != events.Accepted {
			t.Fatalf("first Accept = %v, %v; want accepted", out, err)
		}
		out, err = store.Accept(ctx, incoming("invoice.created:1"))
		if err != nil || out != events.Duplicate {
			t.Fatalf("second Accept = %v, %v; want duplicate", out, err)
		}
		ev, err := store.Get(ctx, "invoice.created:1")
		if err != nil {
			t.Fatal(err)
		}
		if ev.State != events.StateQueued || string(ev.Payload) != string(incoming("").Payload) || len(ev.History) != 1 {
			t.Errorf("record = %+v; want queued with the payload and one history line", ev)
		}
		info, err := asynq.NewInspectorFromRedisClient(r.Client(t)).GetTaskInfo(store.Scope().Queue(), "invoice.created:1")
		if err != nil || info.State != asynq.TaskStatePending {
			t.Errorf("task = %+v, %v; want one pending task with the key as its id", info, err)
		}
	})

	t.Run("twenty racing deliveries of one event give exactly one acceptance", func(t *testing.T) {
		store, _, _ := newStore(t)
		var wg sync.WaitGroup
		results := make(chan events.Outcome, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := store.Accept(ctx, incoming("payment.received:9"))
				if err != nil {
					t.Error(err)
				}
				results <- out
			}()
		}
		wg.Wait()
		close(results)
		counts := map[events.Outcome]int{}
		for o := range results {
			counts[o]++
		}
		if counts[events.Accepted] != 1 || counts[events.Duplicate] != 19 {
			t.Errorf("outcomes = %v; want 1 accepted and 19 duplicates", counts)
		}
	})

	t.Run("a Redis that is down is unavailable, never a duplicate, and the event is accepted once it is back", func(t *testing.T) {
		srv := testredis.StartServer(t)
		opt, _ := redis.ParseURL(srv.URL)
		opt.MaxRetries = -1
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { _ = rdb.Close() })
		store := events.New(rdb, events.Config{Namespace: "down"}).Seller("")
		srv.Stop()
		out, err := store.Accept(ctx, incoming("invoice.created:5"))
		if !errors.Is(err, events.ErrUnavailable) || out == events.Duplicate {
			t.Fatalf("Accept with Redis down = %v, %v; want ErrUnavailable", out, err)
		}
		var netErr net.Error
		if !errors.As(err, &netErr) {
			t.Errorf("Accept with Redis down = %v; want the connection error kept as the cause", err)
		}
		srv.Restart()
		out, err = store.Accept(ctx, incoming("invoice.created:5"))
		if err != nil || out != events.Accepted {
			t.Fatalf("Accept after restart = %v, %v; want accepted", out, err)
		}
	})
}

func TestErrorsKeepTheirCause(t *testing.T) {
	store, _, _ := newStore(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"Accept": func() error { _, err := store.Accept(cancelled, incoming("invoice.created:6")); return err },
		"Get":    func() error { _, err := store.Get(cancelled, "invoice.created:6"); return err },
		"Ping":   func() error { return store.Ping(cancelled) },
		"List":   func() error { _, _, err := store.List(cancelled, events.Filter{}); return err },
		"Replay": func() error { return store.Replay(cancelled, "invoice.created:6") },
	}
	for name, call := range calls {
		t.Run(name+" with a cancelled context says so and does not claim Redis is down", func(t *testing.T) {
			err := call()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s = %v; want context.Canceled", name, err)
			}
			if errors.Is(err, events.ErrUnavailable) {
				t.Errorf("%s = %v; a cancelled caller is not an unavailable store", name, err)
			}
		})
	}
	t.Run("a deadline passed while waiting on Redis is both unavailable and the deadline", func(t *testing.T) {
		expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		err := store.Ping(expired)
		if !errors.Is(err, events.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Ping = %v; want ErrUnavailable and context.DeadlineExceeded", err)
		}
	})
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()

	t.Run("a worker's attempts, errors and result are recorded with history", func(t *testing.T) {
		store, _, _ := newStore(t)
		in := incoming("invoice.created:2")
		if _, err := store.Accept(ctx, in); err != nil {
			t.Fatal(err)
		}
		ev, err := store.Begin(ctx, in)
		if err != nil || ev.State != events.StateProcessing || ev.Attempts != 1 {
			t.Fatalf("Begin = %+v, %v; want processing, attempt 1", ev, err)
		}
		next := time.Now().Add(time.Minute)
		if err := store.Finish(ctx, in.Key, events.Result{State: events.StateRetrying, Error: "Accurate did not answer", NextAttemptAt: next}); err != nil {
			t.Fatal(err)
		}
		ev, _ = store.Get(ctx, in.Key)
		if ev.State != events.StateRetrying || ev.LastError != "Accurate did not answer" || ev.NextAttemptAt == nil || ev.NextAttemptAt.UnixMilli() != next.UnixMilli() {
			t.Fatalf("after retrying: %+v", ev)
		}
		if _, err := store.Begin(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, in.Key, events.Result{State: events.StateSynced, AccurateID: 77, AccurateNumber: "2411260AB12CD3"}); err != nil {
			t.Fatal(err)
		}
		ev, _ = store.Get(ctx, in.Key)
		if ev.State != events.StateSynced || ev.Attempts != 2 || ev.AccurateID != 77 || ev.AccurateNumber != "2411260AB12CD3" || ev.LastError != "" || ev.NextAttemptAt != nil {
			t.Errorf("after synced: %+v", ev)
		}
		var states []string
		for _, st := range ev.History {
			states = append(states, st.State)
		}
		if fmt.Sprint(states) != "[queued processing retrying processing synced]" {
			t.Errorf("history states = %v", states)
		}
		counts, err := store.Counts(ctx)
		if err != nil || counts[events.StateSynced] != 1 || counts[events.StateQueued] != 0 || counts[events.StateRetrying] != 0 {
			t.Errorf("counts = %v, %v; want the event counted once, as synced", counts, err)
		}
	})

	t.Run("a worker creates the record when intake died before writing it", func(t *testing.T) {
		store, _, _ := newStore(t)
		ev, err := store.Begin(ctx, incoming("invoice.created:3"))
		if err != nil || ev.State != events.StateProcessing || string(ev.Payload) == "" {
			t.Fatalf("Begin without a record = %+v, %v", ev, err)
		}
	})

	t.Run("replaying an unknown event is not found", func(t *testing.T) {
		store, _, _ := newStore(t)
		if err := store.Replay(ctx, "invoice.created:404"); !errors.Is(err, events.ErrNotFound) {
			t.Errorf("Replay = %v; want ErrNotFound", err)
		}
	})

	t.Run("replaying a synced event queues a fresh task", func(t *testing.T) {
		store, rdb, _ := newStore(t)
		in := incoming("invoice.created:4")
		_, _ = store.Accept(ctx, in)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		// Let asynq see it completed, as the workers would leave it.
		if err := insp.DeleteTask(store.Scope().Queue(), in.Key); err != nil {
			t.Fatal(err)
		}
		_, _ = store.Begin(ctx, in)
		_ = store.Finish(ctx, in.Key, events.Result{State: events.StateFailed, Error: "store 1011 is not in stores"})
		if err := store.Replay(ctx, in.Key); err != nil {
			t.Fatalf("Replay = %v", err)
		}
		ev, _ := store.Get(ctx, in.Key)
		info, err := insp.GetTaskInfo(store.Scope().Queue(), in.Key)
		if ev.State != events.StateQueued || err != nil || info.State != asynq.TaskStatePending {
			t.Errorf("after replay: record %s, task %+v %v; want queued and pending", ev.State, info, err)
		}
	})

	t.Run("a raw replay queues an event never seen and one seen before", func(t *testing.T) {
		store, _, _ := newStore(t)
		in := incoming("invoice.created:6")
		if err := store.ReplayRaw(ctx, in); err != nil {
			t.Fatalf("ReplayRaw of a new key = %v", err)
		}
		if err := store.ReplayRaw(ctx, in); err != nil {
			t.Fatalf("ReplayRaw of a known key = %v", err)
		}
		ev, _ := store.Get(ctx, in.Key)
		if ev.State != events.StateQueued {
			t.Errorf("state = %s; want queued", ev.State)
		}
	})
}

func TestList(t *testing.T) {
	ctx := context.Background()
	ns, rdb, r := newNamespace(t)
	store := ns.Seller("")
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	// Several events in the same millisecond test the cursor's tie-break.
	clock := func(i int) time.Time { return now.Add(time.Duration(i/3) * time.Millisecond) }
	var keys []string
	for i := range 10 {
		s := events.New(rdb, events.Config{Namespace: r.Namespace, Shards: ns.Queue().Layout().Shards, Now: func() time.Time { return clock(i) }}).Seller("")
		typ := "invoice.created"
		if i%2 == 1 {
			typ = "payment.received"
		}
		key := fmt.Sprintf("%s:%d", typ, i)
		keys = append(keys, key)
		if _, err := s.Accept(ctx, events.Incoming{Key: key, Type: typ, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	listAll := func(f events.Filter) []string {
		var got []string
		for page := 0; page < 20; page++ {
			evs, next, err := store.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				got = append(got, ev.Key)
			}
			if next == "" {
				return got
			}
			f.Cursor = next
		}
		t.Fatal("cursor never ended")
		return nil
	}

	t.Run("pages of 3 list every event once, newest first", func(t *testing.T) {
		got := listAll(events.Filter{Limit: 3})
		if len(got) != 10 {
			t.Fatalf("listed %d events: %v", len(got), got)
		}
		seen := map[string]bool{}
		for _, k := range got {
			if seen[k] {
				t.Errorf("%s listed twice", k)
			}
			seen[k] = true
		}
		if got[0] != keys[9] && got[0] != keys[8] && got[0] != keys[7] {
			t.Errorf("first = %s; want one of the newest", got[0])
		}
	})

	t.Run("a page that fills while fewer than two pages remain still gives a cursor", func(t *testing.T) {
		if got := listAll(events.Filter{Limit: 6}); len(got) != 10 {
			t.Errorf("pages of 6 listed %d of 10 events: %v", len(got), got)
		}
	})

	t.Run("the type filter lists only that type", func(t *testing.T) {
		got := listAll(events.Filter{Type: "payment.received", Limit: 2})
		if len(got) != 5 {
			t.Errorf("payments listed = %v; want 5", got)
		}
	})

	t.Run("the state filter lists only that state", func(t *testing.T) {
		if _, err := store.Begin(ctx, events.Incoming{Key: keys[0], Type: "invoice.created"}); err != nil {
			t.Fatal(err)
		}
		_ = store.Finish(ctx, keys[0], events.Result{State: events.StateFailed, Error: "x"})
		got := listAll(events.Filter{State: events.StateFailed})
		if fmt.Sprint(got) != fmt.Sprint([]string{keys[0]}) {
			t.Errorf("failed events = %v; want [%s]", got, keys[0])
		}
	})

	t.Run("pages of every state list each event once, newest first, whatever its state", func(t *testing.T) {
		// keys[0] failed above; three more leave queued for three states.
		for _, i := range []int{3, 5, 7} {
			if _, err := store.Begin(ctx, events.Incoming{Key: keys[i], Type: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		_ = store.Finish(ctx, keys[3], events.Result{State: events.StateSynced})
		_ = store.Finish(ctx, keys[7], events.Result{State: events.StateFailed, Error: "x"})
		for _, limit := range []int{1, 3, 4, 10, 50} {
			got := listAll(events.Filter{Limit: limit})
			if len(got) != 10 {
				t.Fatalf("pages of %d listed %d events: %v", limit, len(got), got)
			}
			seen, last := map[string]bool{}, 10
			for _, k := range got {
				i := slices.Index(keys, k)
				if seen[k] || i/3 > last {
					t.Fatalf("pages of %d listed %v: %s twice or out of order", limit, got, k)
				}
				seen[k], last = true, i/3
			}
		}
		if got := listAll(events.Filter{Type: "payment.received", Limit: 2}); len(got) != 5 {
			t.Errorf("payments in every state = %v; want 5", got)
		}
	})

	t.Run("a cursor the service did not make is refused", func(t *testing.T) {
		if _, _, err := store.List(ctx, events.Filter{Cursor: "!!"}); !errors.Is(err, events.ErrBadCursor) {
			t.Errorf("List = %v; want ErrBadCursor", err)
		}
	})
}

// A finished task is not kept: the record holds the payload and answers
// for the key, so the payload is stored once.
func TestSyncedEventKeepsNoTask(t *testing.T) {
	ctx := context.Background()
	store, rdb, _ := newStore(t)
	in := incoming("invoice.created:1")
	if _, err := store.Accept(ctx, in); err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: map[string]int{store.Scope().Queue(): 1}, LogLevel: asynq.FatalLevel,
		TaskCheckInterval: 50 * time.Millisecond})
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		if _, err := store.Begin(ctx, in); err != nil {
			return err
		}
		return store.Finish(ctx, in.Key, events.Result{State: events.StateSynced, AccurateID: 7, AccurateNumber: "SI.1"})
	})); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool {
		_, err := insp.GetTaskInfo(store.Scope().Queue(), in.Key)
		return errors.Is(err, asynq.ErrTaskNotFound)
	}) {
		info, err := insp.GetTaskInfo(store.Scope().Queue(), in.Key)
		t.Fatalf("task after the sync = %+v, %v; want gone", info, err)
	}
	t.Run("the record keeps the payload", func(t *testing.T) {
		if ev, err := store.Get(ctx, in.Key); err != nil || ev.State != events.StateSynced || string(ev.Payload) != string(in.Payload) {
			t.Errorf("record = %+v, %v; want synced with its payload", ev, err)
		}
	})
	t.Run("a redelivery is still a duplicate", func(t *testing.T) {
		if out, err := store.Accept(ctx, in); err != nil || out != events.Duplicate {
			t.Errorf("redelivery = %v, %v; want duplicate", out, err)
		}
	})
}
