package queue_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// The queue's scripts move tasks inside asynq's queue themselves (the fair
// scheduling releases scheduled and retrying tasks to pending, the holds
// take active ones back, the recovery reads the leases): they rely on
// asynq v0.26's private layout. This test has asynq's own client and server
// put tasks in each state and fails if an upgrade moved or retyped what the
// scripts touch: then the scripts must be brought in line before the
// upgrade.
func TestAsynqKeepsTheLayoutTheQueueReliesOn(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	q := queue.NewLayout(r.Namespace, queue.DefaultShards).Queue(0)
	client := asynq.NewClientFromRedisClient(rdb)
	t.Cleanup(func() { _ = client.Close() })

	keyType := func(t *testing.T, name, want string) {
		t.Helper()
		if got := rdb.Type(ctx, queue.AsynqKey(q, name)).Val(); got != want {
			t.Errorf("%s is a %q; want a %s", queue.AsynqKey(q, name), got, want)
		}
	}
	taskState := func(t *testing.T, id, want string) {
		t.Helper()
		if got := rdb.HGet(ctx, queue.AsynqKey(q, "t:"+id), "state").Val(); got != want {
			t.Errorf("field state of %s is %q; want %q", queue.AsynqKey(q, "t:"+id), got, want)
		}
	}
	score := func(t *testing.T, set, id string) float64 {
		t.Helper()
		s, err := rdb.ZScore(ctx, queue.AsynqKey(q, set), id).Result()
		if err != nil {
			t.Fatalf("%s is not in %s: %v", id, queue.AsynqKey(q, set), err)
		}
		return s
	}
	inList := func(t *testing.T, list, id string) {
		t.Helper()
		if ids := rdb.LRange(ctx, queue.AsynqKey(q, list), 0, -1).Val(); !slices.Contains(ids, id) {
			t.Errorf("%s holds %v; want %s in it", queue.AsynqKey(q, list), ids, id)
		}
	}

	at := time.Now().Add(time.Hour).Truncate(time.Second)
	if _, err := client.Enqueue(asynq.NewTask(queue.TaskType, []byte("{}")), asynq.TaskID("scheduled-1"), asynq.Queue(q), asynq.ProcessAt(at)); err != nil {
		t.Fatal(err)
	}
	t.Run("a task due later is in the scheduled sorted set, scored by its due time in unix seconds, and its hash says scheduled", func(t *testing.T) {
		keyType(t, "scheduled", "zset")
		if s := score(t, "scheduled", "scheduled-1"); int64(s) != at.Unix() {
			t.Errorf("score %v; want %d", s, at.Unix())
		}
		keyType(t, "t:scheduled-1", "hash")
		taskState(t, "scheduled-1", "scheduled")
	})
	t.Run("a task due now is on the pending list, and its hash says pending", func(t *testing.T) {
		if _, err := client.Enqueue(asynq.NewTask(queue.TaskType, []byte("{}")), asynq.TaskID("pending-1"), asynq.Queue(q)); err != nil {
			t.Fatal(err)
		}
		keyType(t, "pending", "list")
		inList(t, "pending", "pending-1")
		taskState(t, "pending-1", "pending")
	})
	t.Run("asynq's own names for the states are the ones the scripts write", func(t *testing.T) {
		for _, s := range []asynq.TaskState{asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry, asynq.TaskStateActive} {
			if s.String() != map[asynq.TaskState]string{asynq.TaskStatePending: "pending", asynq.TaskStateScheduled: "scheduled",
				asynq.TaskStateRetry: "retry", asynq.TaskStateActive: "active"}[s] {
				t.Errorf("asynq calls a state %q", s)
			}
		}
	})
	if err := rdb.Del(ctx, queue.AsynqKey(q, "pending")).Err(); err != nil {
		t.Fatal(err)
	}

	// A server runs two tasks: one fails once (to the retry set, an hour
	// ahead), the other hangs (active, leased).
	if _, err := client.Enqueue(asynq.NewTask(queue.TaskType, []byte("{}")), asynq.TaskID("retry-1"), asynq.Queue(q)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(asynq.NewTask(queue.TaskType, []byte("{}")), asynq.TaskID("active-1"), asynq.Queue(q)); err != nil {
		t.Fatal(err)
	}
	running, hang := make(chan struct{}), make(chan struct{})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 2, Queues: map[string]int{q: 1}, TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.FatalLevel,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Hour },
	})
	taken := time.Now()
	err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		if id, _ := asynq.GetTaskID(ctx); id == "retry-1" {
			return errors.New("once more later")
		}
		close(running)
		<-hang
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(hang); srv.Shutdown() })
	select {
	case <-running:
	case <-time.After(20 * time.Second):
		t.Fatal("the server took no task within 20s")
	}
	t.Run("a task a server works on is on the active list and leased in the lease sorted set for asynq's lease ahead, in unix seconds, and its hash says active", func(t *testing.T) {
		keyType(t, "active", "list")
		inList(t, "active", "active-1")
		keyType(t, "lease", "zset")
		lease := time.Unix(int64(score(t, "lease", "active-1")), 0)
		if lo, hi := taken.Add(queue.Lease-2*time.Second), time.Now().Add(queue.Lease+time.Second); lease.Before(lo) || lease.After(hi) {
			t.Errorf("leased until %s; want about %s after it was taken (%s)", lease.Format(time.TimeOnly), queue.Lease, taken.Format(time.TimeOnly))
		}
		taskState(t, "active-1", "active")
	})
	t.Run("a task that failed waits in the retry sorted set, and its hash says retry", func(t *testing.T) {
		if !wait.Until(10*time.Second, 20*time.Millisecond, func() bool {
			return rdb.ZScore(ctx, queue.AsynqKey(q, "retry"), "retry-1").Err() == nil
		}) {
			t.Fatalf("retry-1 never reached %s", queue.AsynqKey(q, "retry"))
		}
		keyType(t, "retry", "zset")
		taskState(t, "retry-1", "retry")
	})
	t.Run("the queue is on asynq's list of queues", func(t *testing.T) {
		if !rdb.SIsMember(ctx, "asynq:queues", q).Val() {
			t.Errorf("asynq:queues does not hold %s", q)
		}
	})
}
