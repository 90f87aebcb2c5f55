package queue_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

// newQueue is a queue of 16 shards under the test's own namespace, with a
// share of share events a seller and holds of holdTimeout.
func newQueue(t *testing.T, share int, holdTimeout time.Duration) (*queue.Queue, redis.UniversalClient) {
	t.Helper()
	r := testredis.New(t)
	rdb := r.Client(t)
	return queue.New(rdb, queue.Config{Layout: queue.NewLayout(r.Namespace, queue.DefaultShards), MaxRetry: 5,
		HoldTimeout: holdTimeout, Share: share, SafetyNet: time.Hour, ReleasedBound: time.Hour, Retention: time.Hour}), rdb
}

// state is the asynq state of the seller's event key's task ("" when
// there is none).
func state(t *testing.T, q *queue.Queue, rdb redis.UniversalClient, seller, key string) string {
	t.Helper()
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(q.Layout().SellerQueue(seller), queue.TaskID(seller, key))
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return info.State.String()
}

func depth(t *testing.T, q *queue.Queue) int {
	t.Helper()
	n, err := q.QueueDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fairness(t *testing.T, st *queue.Seller) queue.Fairness {
	t.Helper()
	f, err := st.Fairness(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// otherShard is a seller in another shard than seller's.
func otherShard(l queue.Layout, seller string) string {
	for _, id := range []string{"toko-b", "toko-c", "toko-d", "toko-e", "toko-f", "toko-g"} {
		if l.ShardOf(id) != l.ShardOf(seller) {
			return id
		}
	}
	panic("six sellers in one shard")
}

func TestEnqueueQueuesOnceWithinTheSellersShare(t *testing.T) {
	ctx := context.Background()
	q, rdb := newQueue(t, 1, time.Minute)
	a := q.Seller("toko-a")
	other := otherShard(q.Layout(), "toko-a")

	if n := depth(t, q); n != 0 {
		t.Fatalf("a new namespace's queue depth is %d; want 0", n)
	}
	if err := a.Enqueue(ctx, "ev:1", queue.TaskType, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	t.Run("an event of a seller under its share is released to run at once", func(t *testing.T) {
		if got := state(t, q, rdb, "toko-a", "ev:1"); got != "pending" {
			t.Errorf("ev:1 is %q; want pending", got)
		}
		if got := fairness(t, a); got != (queue.Fairness{Released: 1}) {
			t.Errorf("fairness %+v; want 1 released, none held", got)
		}
		if n := depth(t, q); n != 1 {
			t.Errorf("queue depth %d; want 1", n)
		}
	})

	if err := a.Enqueue(ctx, "ev:2", queue.TaskType, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	t.Run("an event of a seller whose share is full is held, scheduled at its safety net, and counted", func(t *testing.T) {
		if got := state(t, q, rdb, "toko-a", "ev:2"); got != "scheduled" {
			t.Errorf("ev:2 is %q; want scheduled", got)
		}
		if got := fairness(t, a); got != (queue.Fairness{Released: 1, Held: 1}) {
			t.Errorf("fairness %+v; want 1 released, 1 held", got)
		}
		if n := depth(t, q); n != 2 {
			t.Errorf("queue depth %d; want 2", n)
		}
	})

	t.Run("the same event queued again is refused as queued already", func(t *testing.T) {
		err := a.Enqueue(ctx, "ev:1", queue.TaskType, []byte(`{}`))
		if !errors.Is(err, queue.ErrQueued) {
			t.Errorf("Enqueue of ev:1 again = %v; want ErrQueued", err)
		}
		if n := depth(t, q); n != 2 {
			t.Errorf("queue depth %d after the refusal; want 2", n)
		}
	})

	t.Run("the same event key of another seller is another task", func(t *testing.T) {
		if err := q.Seller(other).Enqueue(ctx, "ev:1", queue.TaskType, []byte(`{}`)); err != nil {
			t.Fatalf("Enqueue of %s's ev:1 = %v", other, err)
		}
		if got := state(t, q, rdb, other, "ev:1"); got != "pending" {
			t.Errorf("%s's ev:1 is %q; want pending (its own share is empty)", other, got)
		}
		if n := depth(t, q); n != 3 {
			t.Errorf("queue depth %d over two shards; want 3", n)
		}
	})

	t.Run("a released event that is done lets the seller's next held one run", func(t *testing.T) {
		if err := a.Done(ctx, "ev:1"); err != nil {
			t.Fatal(err)
		}
		if got := state(t, q, rdb, "toko-a", "ev:2"); got != "pending" {
			t.Errorf("ev:2 is %q; want pending", got)
		}
		if got := fairness(t, a); got != (queue.Fairness{Released: 1}) {
			t.Errorf("fairness %+v; want ev:2 released, none held", got)
		}
	})

	t.Run("Delete drops the task, and deleting it again or a task never queued is no error", func(t *testing.T) {
		before := depth(t, q)
		if err := a.Delete("ev:2"); err != nil {
			t.Fatal(err)
		}
		if got := state(t, q, rdb, "toko-a", "ev:2"); got != "" {
			t.Errorf("ev:2 is %q after Delete; want gone", got)
		}
		if n := depth(t, q); n != before-1 {
			t.Errorf("queue depth %d after Delete; want %d", n, before-1)
		}
		if err := a.Delete("ev:2"); err != nil {
			t.Errorf("Delete of a deleted task = %v; want nil", err)
		}
		if err := a.Delete("ev:never"); err != nil {
			t.Errorf("Delete of a task never queued = %v; want nil", err)
		}
		idle := ""
		for i := 0; idle == ""; i++ { // a seller of a shard nobody queued in: asynq knows no such queue
			if id := fmt.Sprintf("idle-%d", i); q.Layout().ShardOf(id) != q.Layout().ShardOf("toko-a") && q.Layout().ShardOf(id) != q.Layout().ShardOf(other) {
				idle = id
			}
		}
		if err := q.Seller(idle).Delete("ev:1"); err != nil {
			t.Errorf("Delete in a queue asynq never saw = %v; want nil", err)
		}
	})
}

func TestHold(t *testing.T) {
	ctx := context.Background()
	q, rdb := newQueue(t, 10, time.Minute)
	a := q.Seller("toko-a")

	t.Run("a second hold of an event held already is refused as busy, and a release lets it be held again", func(t *testing.T) {
		held, release, err := a.Hold(ctx, "ev:1")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := a.Held(ctx, "ev:1"); err != nil || !ok {
			t.Errorf("Held = %v, %v while held; want true", ok, err)
		}
		if _, _, err := a.Hold(ctx, "ev:1"); !errors.Is(err, queue.ErrBusy) {
			t.Errorf("second Hold = %v; want ErrBusy", err)
		}
		if held.Err() != nil {
			t.Errorf("the first holder's context ended (%v) when a second hold was refused", context.Cause(held))
		}
		release()
		if held.Err() == nil {
			t.Error("the held context is still live after release")
		}
		if ok, err := a.Held(ctx, "ev:1"); err != nil || ok {
			t.Errorf("Held = %v, %v after release; want false", ok, err)
		}
		_, release2, err := a.Hold(ctx, "ev:1")
		if err != nil {
			t.Fatalf("Hold after release = %v", err)
		}
		release2()
	})

	t.Run("holds are the seller's and the event's own", func(t *testing.T) {
		_, release, err := a.Hold(ctx, "ev:2")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		for _, c := range []struct {
			seller, key string
		}{{"toko-a", "ev:3"}, {"toko-b", "ev:2"}, {"", "ev:2"}} {
			_, r, err := q.Seller(c.seller).Hold(ctx, c.key)
			if err != nil {
				t.Errorf("seller %q's Hold of %s while toko-a holds ev:2 = %v", c.seller, c.key, err)
				continue
			}
			r()
		}
	})

	t.Run("a hold's key expires within the hold timeout, so a dead worker's hold lapses", func(t *testing.T) {
		_, release, err := a.Hold(ctx, "ev:4")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		ttl := rdb.PTTL(ctx, a.HolderKey("ev:4")).Val()
		if ttl <= 0 || ttl > time.Minute {
			t.Errorf("the hold's key expires in %v; want within the hold timeout of %v", ttl, time.Minute)
		}
	})
}

func TestALapsedHoldEndsTheHoldersWork(t *testing.T) {
	ctx := context.Background()
	// Renewed every 100 ms: a renewal finds the hold gone soon.
	q, rdb := newQueue(t, 10, 300*time.Millisecond)
	a := q.Seller("toko-a")
	for _, c := range []struct {
		name  string
		lapse func(key string)
	}{
		{"a hold whose key is deleted cancels the held context", func(key string) { rdb.Del(ctx, key) }},
		{"a hold another worker took over cancels the held context", func(key string) { rdb.Set(ctx, key, "another worker", time.Minute) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := "ev:" + c.name
			held, release, err := a.Hold(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			c.lapse(a.HolderKey(key))
			select {
			case <-held.Done():
			case <-time.After(30 * time.Second): // a bound, not a timing: a renewal comes every 100 ms
				t.Fatal("the held context is still live 30 s after the hold went")
			}
			if cause := context.Cause(held); errors.Is(cause, context.Canceled) {
				t.Errorf("the held context ended with %v; want the lapse as its cause", cause)
			}
			taker := rdb.Get(ctx, a.HolderKey(key)).Val()
			release()
			if got := rdb.Get(ctx, a.HolderKey(key)).Val(); got != taker {
				t.Errorf("the release of a lapsed hold changed its key from %q to %q: it is no longer the releaser's", taker, got)
			}
		})
	}
}

func TestWakeFaktur(t *testing.T) {
	ctx := context.Background()
	q, rdb := newQueue(t, 10, time.Minute)
	a, b := q.Seller("toko-a"), q.Seller("toko-b")
	// A task waiting in asynq's scheduled set, an hour off, as an event
	// waiting for its faktur does in the retry set.
	client := asynq.NewClientFromRedisClient(rdb)
	if _, err := client.EnqueueContext(ctx, asynq.NewTask(queue.TaskType, []byte(`{}`)), asynq.TaskID(queue.TaskID("toko-a", "pay:1")),
		asynq.Queue(q.Layout().SellerQueue("toko-a")), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		st          *queue.Seller
		faktur, key string
	}{{a, "INV-1", "pay:1"}, {a, "INV-1", "ret:gone"}, {a, "INV-2", "pay:2"}, {b, "INV-1", "pay:b"}} {
		if err := w.st.AwaitFaktur(ctx, w.faktur, w.key); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the waiters of a faktur are remembered for the retention", func(t *testing.T) {
		ttl := rdb.TTL(ctx, q.Layout().Seller("toko-a").Key("waiters:faktur:INV-1")).Val()
		if ttl <= 0 || ttl > time.Hour {
			t.Errorf("the waiters of INV-1 expire in %v; want within the retention of an hour", ttl)
		}
	})

	t.Run("a wake counts the seller's waiters of the faktur and runs their tasks now", func(t *testing.T) {
		n, err := a.WakeFaktur(ctx, "INV-1")
		if err != nil || n != 2 {
			t.Fatalf("WakeFaktur(INV-1) = %d, %v; want 2 (pay:1 and ret:gone)", n, err)
		}
		if got := state(t, q, rdb, "toko-a", "pay:1"); got != "pending" {
			t.Errorf("pay:1 is %q after the wake; want pending", got)
		}
		if got := fairness(t, a); got != (queue.Fairness{Released: 1}) {
			t.Errorf("fairness %+v; want pay:1 released through the share", got)
		}
	})

	t.Run("a second wake of the faktur finds no waiters", func(t *testing.T) {
		if n, err := a.WakeFaktur(ctx, "INV-1"); err != nil || n != 0 {
			t.Errorf("WakeFaktur(INV-1) again = %d, %v; want 0", n, err)
		}
	})

	t.Run("another faktur's and another seller's waiters are left waiting", func(t *testing.T) {
		if n, err := a.WakeFaktur(ctx, "INV-2"); err != nil || n != 1 {
			t.Errorf("toko-a's WakeFaktur(INV-2) = %d, %v; want 1", n, err)
		}
		if n, err := b.WakeFaktur(ctx, "INV-1"); err != nil || n != 1 {
			t.Errorf("toko-b's WakeFaktur(INV-1) = %d, %v; want 1", n, err)
		}
	})
}
