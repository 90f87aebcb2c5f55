package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

// TestTaskMessageIsAsynqs: Accept writes an event's task itself, in its
// script; what it writes must be what asynq's own client writes for the
// same task, byte for byte, so that an asynq upgrade that changes its
// message or its keys fails here rather than in production.
func TestTaskMessageIsAsynqs(t *testing.T) {
	t.Run("a task without the body, as intake writes it", func(t *testing.T) { checkTaskMessage(t, false) })
	t.Run("a task with the body, as TASK_BODY=task writes it", func(t *testing.T) { checkTaskMessage(t, true) })
}

func checkTaskMessage(t *testing.T, bodyInTask bool) {
	ctx := context.Background()
	webhook, err := examples.Files.ReadFile("invoice-created-shopee.json")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(nil) // what the task carries
	if bodyInTask {
		body = webhook
	}
	at := time.Now().Truncate(time.Second)
	r := testredis.New(t)
	rdb := r.Client(t)
	ns := events.New(rdb, events.Config{Namespace: r.Namespace, Shards: queue.DefaultShards,
		MaxRetry:   300, // two bytes of varint, like the default
		BodyInTask: bodyInTask,
		Now:        func() time.Time { return at }})
	st := ns.Seller("toko-a")
	key := "invoice.created:77"
	id := queue.TaskID("toko-a", key)
	taskKey := queue.AsynqPrefix(st.Scope().Queue()) + ":t:" + id
	scheduled := queue.AsynqPrefix(st.Scope().Queue()) + ":scheduled"
	pending := queue.AsynqPrefix(st.Scope().Queue()) + ":pending"
	if out, err := st.Accept(ctx, events.Incoming{Key: key, Type: "invoice.created", Payload: webhook}); err != nil || out != events.Accepted {
		t.Fatalf("Accept = %v, %v", out, err)
	}
	ours, err := rdb.HGet(ctx, taskKey, "msg").Bytes()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("asynq reads the task Accept wrote as the one it was given", func(t *testing.T) {
		info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(st.Scope().Queue(), id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != queue.TaskType || string(info.Payload) != string(body) || info.MaxRetry != 300 ||
			info.Timeout != queue.TaskTimeout || info.Queue != st.Scope().Queue() || info.Retried != 0 || !info.Deadline.IsZero() {
			t.Errorf("task = %s %d bytes, max retry %d, timeout %v, queue %s, deadline %v; want %s, the body, 300, %v, %s, none",
				info.Type, len(info.Payload), info.MaxRetry, info.Timeout, info.Queue, info.Deadline, queue.TaskType, queue.TaskTimeout, st.Scope().Queue())
		}
		queues, _ := rdb.SMembers(ctx, "asynq:queues").Result()
		found := false
		for _, q := range queues {
			found = found || q == st.Scope().Queue()
		}
		if !found {
			t.Errorf("asynq:queues = %v; want the seller's queue %s in it", queues, st.Scope().Queue())
		}
	})

	t.Run("its message and schedule are those asynq's client writes for the same task", func(t *testing.T) {
		// Take the task back out of the queue, then let asynq's client
		// enqueue the same task the way Accept's options say.
		if err := rdb.Del(ctx, taskKey).Err(); err != nil {
			t.Fatal(err)
		}
		rdb.LRem(ctx, pending, 0, id)
		rdb.ZRem(ctx, scheduled, id)
		client := asynq.NewClientFromRedisClient(rdb)
		_, err := client.EnqueueContext(ctx, asynq.NewTask(queue.TaskType, body), asynq.TaskID(id), asynq.Queue(st.Scope().Queue()),
			asynq.MaxRetry(300), asynq.Timeout(queue.TaskTimeout), asynq.ProcessAt(at.Add(queue.DefaultSafetyNet)))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := rdb.HGet(ctx, taskKey, "msg").Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if string(ours) != string(theirs) {
			t.Errorf("Accept's message (%d bytes) is not asynq's (%d bytes):\n%x\n%x", len(ours), len(theirs), ours[:min(64, len(ours))], theirs[:min(64, len(theirs))])
		}
		fields, _ := rdb.HGetAll(ctx, taskKey).Result()
		if len(fields) != 2 || fields["state"] != "scheduled" {
			t.Errorf("asynq's task hash is %v; Accept writes msg and state scheduled only", fields)
		}
		score, err := rdb.ZScore(ctx, scheduled, id).Result()
		if err != nil || int64(score) != at.Add(queue.DefaultSafetyNet).Unix() {
			t.Errorf("scheduled at %v, %v; want the safety net in unix seconds, as Accept schedules it", score, err)
		}
	})
}
