package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// A deployment on the layout before shards (every key under "{ns}", one
// queue) upgrades in place to 16 shards (as it moves to a Redis Cluster): what it had synced
// stays a duplicate, what it held queued or retrying syncs once, and
// nothing is left in the old layout.
func TestUpgradeToShardsLosesNothing(t *testing.T) {
	testUpgradeToShards(t, newWorld(t))
}

func testUpgradeToShards(t *testing.T, w *world) {
	const synced, waiting = 5, 10
	w.extraEnv = map[string]string{"REDIS_SHARDS": "1", "SELLER_SHARE": "2", "WORKER_CONCURRENCY": "8"}
	w.retryMin, w.retryCap = 500*time.Millisecond, 2*time.Second
	w.start()
	var before, after []string
	for i := range synced {
		before = append(before, invoiceKey(3000+i))
		w.mustSend(generatedInvoice(3000+i), http.StatusAccepted)
	}
	if c := count(w.waitFor(before, 30*time.Second)); c["synced"] != synced {
		t.Fatalf("before the upgrade: %v; want %d synced", c, synced)
	}
	// Accurate down: the next events retry, or are held past the share.
	w.sandbox.SetFaults(sandbox.Faults{ErrorRate: 1})
	for i := range waiting {
		after = append(after, invoiceKey(3100+i))
		w.mustSend(generatedInvoice(3100+i), http.StatusAccepted)
	}
	if !wait.Until(20*time.Second, 100*time.Millisecond, func() bool {
		_, ev := w.admin(http.MethodGet, "/admin/events/"+after[0], nil)
		return ev["state"] == events.StateRetrying
	}) {
		t.Fatal("the events never waited to retry while Accurate was down")
	}
	w.stop()

	rdb := w.redis.Client(t)
	ctx := context.Background()
	oldKeys := func() []string {
		var out []string
		for _, pattern := range []string{queue.KeyPrefix(w.redis.Namespace) + ":*", queue.AsynqPrefix(w.redis.Namespace) + ":*"} {
			iter := rdb.Scan(ctx, 0, pattern, 5000).Iterator()
			for iter.Next(ctx) {
				if k := iter.Val(); !strings.HasSuffix(k, ":layout") {
					out = append(out, k)
				}
			}
			if err := iter.Err(); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	if len(oldKeys()) == 0 {
		t.Fatal("the deployment before the upgrade left no keys in the old layout")
	}

	t.Run("a replica started with another REDIS_SHARDS than the namespace's refuses to start", func(t *testing.T) {
		_, err := events.Migrate(ctx, rdb, queue.NewLayout(w.redis.Namespace, 1), nil)
		if err != nil {
			t.Fatalf("migrate to the layout it is in: %v", err)
		}
		_, err = events.Migrate(ctx, rdb, queue.NewLayout(w.redis.Namespace, 16), nil)
		if !errors.Is(err, events.ErrLayout) || !strings.Contains(err.Error(), "REDIS_SHARDS=1") {
			t.Fatalf("migrate a namespace marked with 1 shard to 16 = %v; want ErrLayout naming REDIS_SHARDS=1", err)
		}
		// As a deployment from before the mark would be.
		if err := rdb.Del(ctx, queue.KeyPrefix(w.redis.Namespace)+":layout").Err(); err != nil {
			t.Fatal(err)
		}
	})

	// The new release, Accurate back.
	w.sandbox.SetFaults(sandbox.Faults{})
	w.extraEnv["REDIS_SHARDS"] = "16"
	w.start()

	t.Run("every event held queued or retrying syncs, each once", func(t *testing.T) {
		if c := count(w.waitFor(after, 60*time.Second)); c["synced"] != waiting {
			t.Fatalf("after the upgrade: %v; want all %d synced", c, waiting)
		}
		if got := len(w.sandbox.Invoices()); got != synced+waiting {
			t.Errorf("Accurate holds %d fakturs; want %d, one per invoice", got, synced+waiting)
		}
	})
	t.Run("a redelivery of what the old layout accepted is still a duplicate", func(t *testing.T) {
		for i := range synced {
			w.mustSend(generatedInvoice(3000+i), http.StatusOK)
		}
		w.mustSend(generatedInvoice(3100), http.StatusOK)
	})
	t.Run("the events keep their history across the upgrade", func(t *testing.T) {
		hist, _ := w.event(before[0])["history"].([]any)
		if len(hist) < 3 {
			t.Errorf("history of %s = %v; want its lines from before the upgrade", before[0], hist)
		}
	})
	t.Run("nothing is left in the old layout", func(t *testing.T) {
		if left := oldKeys(); len(left) != 0 {
			t.Errorf("left in the old layout: %v", left)
		}
		if member, _ := rdb.SIsMember(ctx, "asynq:queues", w.redis.Namespace).Result(); member {
			t.Errorf("asynq still lists the old queue %s", w.redis.Namespace)
		}
	})
}
