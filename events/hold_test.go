package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// holdTimeout is short so that the tests wait a second, not ten.
const holdTimeout = time.Second

func shortHold(c *events.Config) { c.HoldTimeout = holdTimeout }

// dyingWorker serves the store's queue with an asynq server whose first
// task is held and begun, and returns once it is. After die, the task is
// left as a killed process would leave it: the hold is no longer renewed,
// nothing is finished, and asynq still counts the task active (its own
// lease renewed by the server all along). runs tells how many times a task
// ran.
func dyingWorker(t *testing.T, store *events.Store, rdb *redis.Client, in events.Incoming) (die func(), runs func() int) {
	t.Helper()
	taken, unblock := make(chan struct{}), make(chan struct{})
	count := make(chan int, 1)
	count <- 0
	alive, die := context.WithCancel(context.Background())
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 2, Queues: map[string]int{store.Scope().Queue(): 1},
		TaskCheckInterval: 50 * time.Millisecond, LogLevel: asynq.FatalLevel,
	})
	err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		n := <-count + 1
		count <- n
		if n > 1 {
			return nil
		}
		if _, _, err := store.Queue().Hold(alive, in.Key); err != nil {
			t.Errorf("Hold = %v", err)
		}
		if _, err := store.Begin(ctx, in); err != nil {
			t.Errorf("Begin = %v", err)
		}
		close(taken)
		<-unblock
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		die()
		close(unblock)
		srv.Shutdown()
	})
	select {
	case <-taken:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not take the event within 10s")
	}
	return die, func() int { n := <-count; count <- n; return n }
}

func TestHold(t *testing.T) {
	ctx := context.Background()

	t.Run("a held event keeps a second worker out until it is released", func(t *testing.T) {
		ns, _, _ := newNamespace(t, shortHold)
		store := ns.Seller("")
		_, release, err := store.Queue().Hold(ctx, "invoice.created:1")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.Queue().Hold(ctx, "invoice.created:1"); !errors.Is(err, events.ErrBusy) {
			t.Fatalf("a second Hold = %v; want ErrBusy", err)
		}
		release()
		_, again, err := store.Queue().Hold(ctx, "invoice.created:1")
		if err != nil {
			t.Fatalf("Hold after the release = %v", err)
		}
		again()
	})

	t.Run("a hold is renewed for as long as the worker works", func(t *testing.T) {
		// Two seconds: a renewal every 0.67 s, so a busy machine's pauses do not let it lapse.
		ns, _, _ := newNamespace(t, func(c *events.Config) { c.HoldTimeout = 2 * time.Second })
		store := ns.Seller("")
		held, release, err := store.Queue().Hold(ctx, "invoice.created:2")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		// Two hold timeouts later the hold is still there.
		if wait.Until(4*time.Second, 50*time.Millisecond, func() bool { return held.Err() != nil }) {
			t.Fatalf("the hold ended while renewed: %v", context.Cause(held))
		}
		if _, _, err := store.Queue().Hold(ctx, "invoice.created:2"); !errors.Is(err, events.ErrBusy) {
			t.Errorf("Hold by another worker = %v; want ErrBusy", err)
		}
	})

	t.Run("a worker whose hold lapsed has its work stopped", func(t *testing.T) {
		ns, rdb, r := newNamespace(t, shortHold)
		store := ns.Seller("")
		held, release, err := store.Queue().Hold(ctx, "invoice.created:3")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		// As after Redis was out of reach for longer than the hold: gone.
		if err := rdb.Del(ctx, queue.NewLayout(r.Namespace, queue.DefaultShards).SellerPrefix(events.DefaultSeller)+":holder:invoice.created:3").Err(); err != nil {
			t.Fatal(err)
		}
		// The next renewal (every third of the hold) finds it gone; the
		// bound leaves room for a machine too loaded to run it on time.
		if !wait.Until(10*holdTimeout, 50*time.Millisecond, func() bool { return held.Err() != nil }) {
			t.Fatal("the work went on after its hold was gone")
		}
	})
}

func TestReleaseOfAbandonedEvents(t *testing.T) {
	ctx := context.Background()

	for _, seller := range []string{events.DefaultSeller, "toko-b"} {
		t.Run("a replay of an event of seller "+seller+" whose worker died is refused while held, then accepted within the hold timeout", func(t *testing.T) {
			replayAfterDeath(t, seller)
		})
	}

	t.Run("the sweep queues again an event whose worker died, and leaves a held one alone", func(t *testing.T) {
		ns, rdb, _ := newNamespace(t, shortHold)
		store := ns.Seller("")
		dead, alive := incoming("invoice.created:11"), incoming("invoice.created:12")
		if _, err := store.Accept(ctx, dead); err != nil {
			t.Fatal(err)
		}
		die, runs := dyingWorker(t, store, rdb, dead)
		// The other one is held by a worker that lives on.
		_, release, err := store.Queue().Hold(ctx, alive.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if _, err := store.Begin(ctx, alive); err != nil {
			t.Fatal(err)
		}
		if got, err := ns.ReleaseAbandoned(ctx, []string{events.DefaultSeller}); err != nil || len(got) != 0 {
			t.Fatalf("ReleaseAbandoned while both are held = %v, %v; want none", got, err)
		}
		die()
		var got []string
		if !wait.Until(3*holdTimeout, 50*time.Millisecond, func() bool { got, err = ns.ReleaseAbandoned(ctx, []string{events.DefaultSeller}); return len(got) > 0 }) {
			t.Fatalf("ReleaseAbandoned = %v, %v; want %s within %s", got, err, dead.Key, 3*holdTimeout)
		}
		if len(got) != 1 || got[0] != dead.Key {
			t.Errorf("released %v; want only %s", got, dead.Key)
		}
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool { return runs() == 2 }) {
			t.Errorf("the released event ran %d times in all; want it run again", runs())
		}
		ev, _ := store.Get(ctx, dead.Key)
		if last := ev.History[len(ev.History)-1]; ev.State != events.StateQueued || !strings.Contains(last.Note, "its worker stopped") {
			t.Errorf("after the release: %s, last note %q; want queued saying the worker stopped", ev.State, last.Note)
		}
		if ev, _ := store.Get(ctx, alive.Key); ev.State != events.StateProcessing {
			t.Errorf("the held event is %s; want it left processing", ev.State)
		}
	})

	t.Run("an event shown processing whose task Redis lost is queued anew", func(t *testing.T) {
		ns, rdb, _ := newNamespace(t, shortHold)
		store := ns.Seller("")
		in := incoming("invoice.created:13")
		if _, err := store.Accept(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Begin(ctx, in); err != nil {
			t.Fatal(err)
		}
		// As a Redis restored without the task would have it.
		if err := asynq.NewInspectorFromRedisClient(rdb).DeleteTask(store.Scope().Queue(), in.Key); err != nil {
			t.Fatal(err)
		}
		got, err := ns.ReleaseAbandoned(ctx, []string{events.DefaultSeller})
		if err != nil || len(got) != 1 {
			t.Fatalf("ReleaseAbandoned = %v, %v; want the event", got, err)
		}
		ev, _ := store.Get(ctx, in.Key)
		info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(store.Scope().Queue(), in.Key)
		if ev.State != events.StateQueued || err != nil || info.State != asynq.TaskStatePending || string(info.Payload) != string(in.Payload) {
			t.Errorf("after the release: record %s, task %+v %v; want queued with a pending task of the payload", ev.State, info, err)
		}
	})
}

func replayAfterDeath(t *testing.T, seller string) {
	ctx := context.Background()
	ns, rdb, _ := newNamespace(t, shortHold)
	store := ns.Seller(seller)
	in := incoming("invoice.created:10")
	if _, err := store.Accept(ctx, in); err != nil {
		t.Fatal(err)
	}
	die, runs := dyingWorker(t, store, rdb, in)
	if err := store.Replay(ctx, in.Key); !errors.Is(err, events.ErrBusy) {
		t.Fatalf("Replay while the worker lives = %v; want ErrBusy", err)
	}
	die()
	began := time.Now()
	var err error
	// asynq alone would answer busy for as long as the task is active.
	if !wait.Until(3*holdTimeout, 50*time.Millisecond, func() bool { err = store.Replay(ctx, in.Key); return err == nil }) {
		t.Fatalf("Replay %s after the worker died = %v; want it accepted once the hold lapsed", time.Since(began).Round(time.Millisecond), err)
	}
	ev, _ := store.Get(ctx, in.Key)
	if ev.State != events.StateQueued && ev.State != events.StateProcessing {
		t.Errorf("after the replay the event is %s; want queued", ev.State)
	}
	if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool { return runs() == 2 }) {
		t.Errorf("the replayed event ran %d times in all; want it run again", runs())
	}
}
