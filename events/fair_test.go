package events_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// taskStates reads the asynq state of a seller's events by key.
func taskStates(t *testing.T, insp *asynq.Inspector, ns, seller string, keys []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range keys {
		info, err := insp.GetTaskInfo(queueOf(ns, seller), queue.TaskID(seller, k))
		if err != nil {
			out[k] = "missing: " + err.Error()
			continue
		}
		out[k] = info.State.String()
	}
	return out
}

// queueOf is the asynq queue of a seller's events in namespace ns laid
// out in the default shards.
func queueOf(ns, seller string) string {
	return queue.NewLayout(ns, queue.DefaultShards).SellerQueue(seller)
}

func keysOf(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("invoice.created:%s%d", prefix, i+1)
	}
	return keys
}

func TestFairShares(t *testing.T) {
	ctx := context.Background()
	share := func(c *events.Config) { c.Share = 2 }

	t.Run("a lone event of an idle seller is released at once", func(t *testing.T) {
		ns, rdb, r := newNamespace(t, share)
		if _, err := ns.Seller("toko-b").Accept(ctx, incoming("invoice.created:1")); err != nil {
			t.Fatal(err)
		}
		got := taskStates(t, asynq.NewInspectorFromRedisClient(rdb), r.Namespace, "toko-b", []string{"invoice.created:1"})
		if got["invoice.created:1"] != "pending" {
			t.Errorf("task = %v; want pending", got)
		}
	})

	t.Run("past its share a seller's events are held a safety net ahead, and another seller's are released at once", func(t *testing.T) {
		ns, rdb, r := newNamespace(t, share)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		a, b := ns.Seller("toko-a"), ns.Seller("toko-b")
		keys := keysOf("a", 5)
		for _, k := range keys {
			if _, err := a.Accept(ctx, incoming(k)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Accept(ctx, incoming("invoice.created:b1")); err != nil {
			t.Fatal(err)
		}
		states := taskStates(t, insp, r.Namespace, "toko-a", keys)
		want := map[string]string{keys[0]: "pending", keys[1]: "pending", keys[2]: "scheduled", keys[3]: "scheduled", keys[4]: "scheduled"}
		for k, w := range want {
			if states[k] != w {
				t.Errorf("%s is %s; want %s", k, states[k], w)
			}
		}
		info, err := insp.GetTaskInfo(queueOf(r.Namespace, "toko-a"), queue.TaskID("toko-a", keys[4]))
		if err != nil {
			t.Fatal(err)
		}
		if ahead := time.Until(info.NextProcessAt); ahead < queue.DefaultSafetyNet-time.Minute || ahead > queue.DefaultSafetyNet+time.Second {
			t.Errorf("a held event is due in %s; want its safety net, %s", ahead, queue.DefaultSafetyNet)
		}
		if got := taskStates(t, insp, r.Namespace, "toko-b", []string{"invoice.created:b1"}); got["invoice.created:b1"] != "pending" {
			t.Errorf("the other seller's event is %v; want pending at once", got)
		}
		if f, err := a.Queue().Fairness(ctx); err != nil || f != (queue.Fairness{Released: 2, Held: 3}) {
			t.Errorf("fairness = %+v, %v; want 2 released, 3 held", f, err)
		}
		if out, err := a.Accept(ctx, incoming(keys[0])); err != nil || out != events.Duplicate {
			t.Fatalf("a second delivery = %v, %v; want duplicate", out, err)
		}
		if out, err := a.Accept(ctx, incoming(keys[4])); err != nil || out != events.Duplicate {
			t.Fatalf("a second delivery = %v, %v; want duplicate", out, err)
		}
		if f, err := a.Queue().Fairness(ctx); err != nil || f != (queue.Fairness{Released: 2, Held: 3}) {
			t.Errorf("after duplicates fairness = %+v, %v; want it unchanged", f, err)
		}
	})

	t.Run("the dispatcher releases held events oldest first as released ones end, never twice, never past the share", func(t *testing.T) {
		ns, rdb, r := newNamespace(t, share)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		a := ns.Seller("toko-a")
		keys := keysOf("a", 5)
		for _, k := range keys {
			if _, err := a.Accept(ctx, incoming(k)); err != nil {
				t.Fatal(err)
			}
		}
		// The safety net ran the last one already (as if no dispatcher had
		// run for SafetyNet): the dispatcher must not run it again.
		if err := insp.RunTask(queueOf(r.Namespace, "toko-a"), queue.TaskID("toko-a", keys[4])); err != nil {
			t.Fatal(err)
		}
		dispatching(t, ctx, ns, 10*time.Millisecond)

		if err := a.Queue().Done(ctx, keys[0]); err != nil {
			t.Fatal(err)
		}
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool {
			return taskStates(t, insp, r.Namespace, "toko-a", keys)[keys[2]] == "pending"
		}) {
			t.Fatalf("after one ended the oldest held is %v; want pending", taskStates(t, insp, r.Namespace, "toko-a", keys))
		}
		if s := taskStates(t, insp, r.Namespace, "toko-a", keys)[keys[3]]; s != "scheduled" {
			t.Errorf("the next held one is %s; want still held (scheduled): the share is 2", s)
		}
		for _, k := range keys[1:3] {
			if err := a.Queue().Done(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool {
			f, err := a.Queue().Fairness(ctx)
			return err == nil && f.Held == 0
		}) {
			t.Fatalf("held events left: %v", taskStates(t, insp, r.Namespace, "toko-a", keys))
		}
		pending, err := insp.ListPendingTasks(queueOf(r.Namespace, "toko-a"), asynq.PageSize(100))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, p := range pending {
			seen[p.ID]++
		}
		for _, k := range keys {
			if n := seen[queue.TaskID("toko-a", k)]; n != 1 {
				t.Errorf("%s is %d times in the pending list; want once", k, n)
			}
		}
		if f, _ := a.Queue().Fairness(ctx); f.Released != 1 {
			t.Errorf("released = %d; want 1, the fourth (the one its safety net ran is not counted)", f.Released)
		}
	})

	t.Run("a released event whose end is never told stops counting after its bound, and the dispatcher gives its place to a held one", func(t *testing.T) {
		now := time.Now()
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		ns, rdb, r := newNamespace(t, share, func(c *events.Config) { c.Now = clock; c.ReleasedBound = time.Minute })
		a := ns.Seller("toko-a")
		keys := keysOf("a", 3)
		for _, k := range keys {
			if _, err := a.Accept(ctx, incoming(k)); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		if f, _ := a.Queue().Fairness(ctx); f.Released != 0 {
			t.Errorf("released past the bound = %d; want 0", f.Released)
		}
		if _, err := a.Accept(ctx, incoming("invoice.created:a9")); err != nil {
			t.Fatal(err)
		}
		dispatching(t, ctx, ns, 50*time.Millisecond)
		insp := asynq.NewInspectorFromRedisClient(rdb)
		both := []string{keys[2], "invoice.created:a9"}
		if !wait.Until(3*time.Second, 20*time.Millisecond, func() bool {
			got := taskStates(t, insp, r.Namespace, "toko-a", both)
			return got[keys[2]] == "pending" && got["invoice.created:a9"] == "pending"
		}) {
			t.Errorf("tasks = %v; want both released, the killed workers' places freed", taskStates(t, insp, r.Namespace, "toko-a", both))
		}
	})

	t.Run("a held event's safety net moves ahead while it is held", func(t *testing.T) {
		ns, rdb, r := newNamespace(t, share, func(c *events.Config) { c.SafetyNet = 3 * time.Second })
		insp := asynq.NewInspectorFromRedisClient(rdb)
		a := ns.Seller("toko-a")
		keys := keysOf("a", 3)
		for _, k := range keys {
			if _, err := a.Accept(ctx, incoming(k)); err != nil {
				t.Fatal(err)
			}
		}
		id := queue.TaskID("toko-a", keys[2])
		first, err := insp.GetTaskInfo(queueOf(r.Namespace, "toko-a"), id)
		if err != nil || first.State != asynq.TaskStateScheduled {
			t.Fatalf("held task = %+v, %v; want scheduled", first, err)
		}
		dispatching(t, ctx, ns, 50*time.Millisecond)
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool {
			info, err := insp.GetTaskInfo(queueOf(r.Namespace, "toko-a"), id)
			return err == nil && info.State == asynq.TaskStateScheduled && info.NextProcessAt.After(first.NextProcessAt)
		}) {
			info, err := insp.GetTaskInfo(queueOf(r.Namespace, "toko-a"), id)
			t.Errorf("held task = %+v, %v; want it still scheduled, due later than %s", info, err, first.NextProcessAt)
		}
	})
}

func TestHeldEventsRunByTheirSafetyNetWithoutADispatcher(t *testing.T) {
	ctx := context.Background()
	ns, rdb, _ := newNamespace(t, func(c *events.Config) { c.Share = 1; c.SafetyNet = time.Second })
	a := ns.Seller("toko-a")
	keys := keysOf("a", 3)
	for _, k := range keys {
		if _, err := a.Accept(ctx, incoming(k)); err != nil {
			t.Fatal(err)
		}
	}
	// No dispatcher runs (every replica's died), and no worker tells an
	// end: asynq alone runs the held events when their safety net is due.
	var mu sync.Mutex
	runs := map[string]int{}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 2, Queues: ns.Queue().Queues(), LogLevel: asynq.FatalLevel,
		TaskCheckInterval: 50 * time.Millisecond, DelayedTaskCheckInterval: 100 * time.Millisecond,
	})
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		mu.Lock()
		runs[id]++
		mu.Unlock()
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if !wait.Until(10*time.Second, 50*time.Millisecond, func() bool { mu.Lock(); defer mu.Unlock(); return len(runs) == len(keys) }) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("runs = %v; want each of %v run", runs, keys)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, k := range keys {
		if n := runs[queue.TaskID("toko-a", k)]; n != 1 {
			t.Errorf("%s ran %d times; want once", k, n)
		}
	}
}

func TestRetriesBroughtForwardTakeTheirTurnInTheShare(t *testing.T) {
	ctx := context.Background()
	ns, rdb, r := newNamespace(t, func(c *events.Config) { c.Share = 2 })
	insp := asynq.NewInspectorFromRedisClient(rdb)
	a, b := ns.Seller("toko-a"), ns.Seller("toko-b")
	keys := keysOf("a", 6)
	for _, k := range keys {
		if _, err := a.Accept(ctx, incoming(k)); err != nil {
			t.Fatal(err)
		}
	}
	// Every attempt fails (Accurate down) and each event waits an hour in
	// asynq's retry set, its place in the share freed as a worker does.
	dctx, stopDispatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ns.Queue().Dispatch(dctx, 50*time.Millisecond) }()
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 4, Queues: ns.Queue().Queues(), LogLevel: asynq.FatalLevel,
		TaskCheckInterval: 50 * time.Millisecond,
		RetryDelayFunc:    func(int, error, *asynq.Task) time.Duration { return time.Hour },
	})
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		_, key := queue.SplitTaskID(id)
		if err := a.Queue().Done(ctx, key); err != nil {
			return err
		}
		return fmt.Errorf("Accurate did not answer")
	})); err != nil {
		t.Fatal(err)
	}
	allRetrying := func() bool {
		for _, s := range taskStates(t, insp, r.Namespace, "toko-a", keys) {
			if s != "retry" {
				return false
			}
		}
		return true
	}
	ok := wait.Until(10*time.Second, 50*time.Millisecond, allRetrying)
	srv.Shutdown()
	stopDispatch()
	wg.Wait()
	if !ok {
		t.Fatalf("tasks = %v; want all six waiting to retry", taskStates(t, insp, r.Namespace, "toko-a", keys))
	}

	n, err := a.Queue().RunRetries(ctx)
	if err != nil || n != len(keys) {
		t.Fatalf("RunRetries = %d, %v; want %d", n, err, len(keys))
	}
	t.Run("Accurate back, a seller's retries run at once up to its share, the rest keep their place", func(t *testing.T) {
		count := map[string]int{}
		for _, s := range taskStates(t, insp, r.Namespace, "toko-a", keys) {
			count[s]++
		}
		if count["pending"] != 2 || count["retry"] != 4 {
			t.Errorf("tasks by state %v; want 2 pending (the share), 4 still waiting", count)
		}
		if f, err := a.Queue().Fairness(ctx); err != nil || f.Released != 2 || f.Held != 4 {
			t.Errorf("fairness = %+v, %v; want 2 released, 4 held", f, err)
		}
	})
	t.Run("another seller's new event is released at once, ahead of the held retries", func(t *testing.T) {
		if _, err := b.Accept(ctx, incoming("invoice.created:b1")); err != nil {
			t.Fatal(err)
		}
		if got := taskStates(t, insp, r.Namespace, "toko-b", []string{"invoice.created:b1"}); got["invoice.created:b1"] != "pending" {
			t.Errorf("toko-b's event is %v; want pending", got)
		}
	})
	t.Run("as the released ones end, the held retries follow, each once", func(t *testing.T) {
		dispatching(t, ctx, ns, 50*time.Millisecond)
		for range 3 {
			pending, err := insp.ListPendingTasks(queueOf(r.Namespace, "toko-a"), asynq.PageSize(100))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pending {
				if seller, key := queue.SplitTaskID(p.ID); seller == "toko-a" {
					if err := a.Queue().Done(ctx, key); err != nil {
						t.Fatal(err)
					}
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool { f, err := a.Queue().Fairness(ctx); return err == nil && f.Held == 0 }) {
			t.Fatalf("still held: %v", taskStates(t, insp, r.Namespace, "toko-a", keys))
		}
		for k, s := range taskStates(t, insp, r.Namespace, "toko-a", keys) {
			if s != "pending" {
				t.Errorf("%s is %s; want pending", k, s)
			}
		}
	})
}

// An event whose replica died between its enqueue and its admission is on
// no held list: the dispatcher finds it within the hold timeout and holds it
// for its turn, rather than leave it to its safety net (minutes).
func TestEventsNeverAdmittedAreHeldAgainWithinTheHoldTimeout(t *testing.T) {
	ctx := context.Background()
	ns, rdb, r := newNamespace(t, func(c *events.Config) { c.Share = 1; c.HoldTimeout = time.Second })
	insp := asynq.NewInspectorFromRedisClient(rdb)
	a := ns.Seller("toko-a")
	keys := keysOf("a", 2)
	for _, k := range keys {
		if _, err := a.Accept(ctx, incoming(k)); err != nil {
			t.Fatal(err)
		}
	}
	// As if its replica died before the admission: scheduled, held by none.
	held := ns.Queue().Layout().SellerPrefix("toko-a") + ":fair:held"
	if err := rdb.ZRem(ctx, held, queue.TaskID("toko-a", keys[1])).Err(); err != nil {
		t.Fatal(err)
	}
	dispatching(t, ctx, ns, 50*time.Millisecond)

	t.Run("it is held again within the hold timeout", func(t *testing.T) {
		if !wait.Until(3*time.Second, 50*time.Millisecond, func() bool { f, err := a.Queue().Fairness(ctx); return err == nil && f.Held == 1 }) {
			f, err := a.Queue().Fairness(ctx)
			t.Fatalf("fairness = %+v, %v; want the stranded event held again", f, err)
		}
	})
	t.Run("and released in its turn when the seller's share has room", func(t *testing.T) {
		if err := a.Queue().Done(ctx, keys[0]); err != nil {
			t.Fatal(err)
		}
		if !wait.Until(3*time.Second, 50*time.Millisecond, func() bool { return taskStates(t, insp, r.Namespace, "toko-a", keys)[keys[1]] == "pending" }) {
			t.Fatalf("tasks = %v; want the stranded one pending", taskStates(t, insp, r.Namespace, "toko-a", keys))
		}
	})
}

// dispatching runs ns's dispatcher every tick until the (sub)test ends, and
// waits for it to stop before the test's other clean-ups run.
func dispatching(t *testing.T, ctx context.Context, ns *events.Namespace, tick time.Duration) {
	t.Helper()
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ns.Queue().Dispatch(dctx, tick) }()
	t.Cleanup(func() { stop(); <-done })
}
