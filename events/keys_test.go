package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

func TestDropNamespace(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	// other shares ns's spelling as a prefix, so a pattern too wide shows.
	ns, other := r.Namespace, r.Namespace+"0"
	t.Cleanup(func() { _, _ = events.DropNamespace(context.Background(), rdb, other) })

	keysOf := func(ns string) []string {
		var out []string
		if err := events.EachKey(ctx, rdb, ns, func(keys []string) error { out = append(out, keys...); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, n := range []string{ns, other} {
		// Keys of both layouts: the shards' and the one shard's of before.
		store := events.New(rdb, events.Config{Namespace: n, Shards: queue.DefaultShards}).Seller("")
		if _, err := store.Accept(ctx, incoming("invoice.created:1")); err != nil {
			t.Fatal(err)
		}
		if _, err := events.New(rdb, events.Config{Namespace: n, Shards: 1}).Seller("").Accept(ctx, incoming("invoice.created:2")); err != nil {
			t.Fatal(err)
		}
		// The slot is held, so the limiter's set of holders stays.
		if _, err := accurate.NewRedisLimiter(rdb, events.LimiterPrefix(n), 8, 8).Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The limiter's rate key ("rate:" + LimiterPrefix) lives about a second,
	// too short to count on here: lasting counts leave it out.
	lasting := func(keys []string) int {
		n := 0
		for _, k := range keys {
			if !strings.HasPrefix(k, "rate:") {
				n++
			}
		}
		return n
	}
	before, otherBefore := keysOf(ns), lasting(keysOf(other))

	rateKeys := len(before) - lasting(before)

	lay := queue.NewLayout(ns, queue.DefaultShards)
	t.Run("the namespace's keys are the store's, asynq's and the limiter's", func(t *testing.T) {
		for _, prefix := range []string{queue.KeyPrefix(ns) + ":", queue.AsynqPrefix(ns) + ":", events.LimiterPrefix(ns) + ":",
			lay.SellerPrefix(events.DefaultSeller) + ":", queue.AsynqPrefix(lay.SellerQueue(events.DefaultSeller)) + ":"} {
			found := false
			for _, k := range before {
				found = found || strings.HasPrefix(k, prefix)
			}
			if !found {
				t.Errorf("no key starts with %s among %v", prefix, before)
			}
		}
	})

	t.Run("dropping it deletes every one of them and takes its queue off asynq's list", func(t *testing.T) {
		n, err := events.DropNamespace(ctx, rdb, ns)
		if err != nil || n < len(before)-rateKeys || n > len(before) {
			t.Fatalf("DropNamespace = %d, %v; want the %d keys deleted", n, err, len(before))
		}
		if left := keysOf(ns); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
		for _, q := range []string{ns, lay.SellerQueue(events.DefaultSeller)} {
			if member, err := rdb.SIsMember(ctx, "asynq:queues", q).Result(); err != nil || member {
				t.Errorf("asynq still lists queue %s (%v)", q, err)
			}
		}
	})

	t.Run("another namespace is left whole", func(t *testing.T) {
		if n := lasting(keysOf(other)); n != otherBefore || n == 0 {
			t.Errorf("namespace %s holds %d keys; want its %d", other, n, otherBefore)
		}
		for _, q := range []string{other, queue.NewLayout(other, queue.DefaultShards).SellerQueue(events.DefaultSeller)} {
			if member, _ := rdb.SIsMember(ctx, "asynq:queues", q).Result(); !member {
				t.Errorf("asynq no longer lists queue %s", q)
			}
		}
	})
}

// The shards' hash tags fall in equal ranges of a Cluster's slots, so a
// Cluster that splits its slots evenly gives each master its share of the
// shards.
func TestShardsSpreadOverTheSlots(t *testing.T) {
	for _, tc := range []struct{ shards, masters, least int }{{16, 3, 5}, {16, 6, 2}, {32, 6, 5}} {
		t.Run(fmt.Sprintf("%d shards over %d masters give each at least %d", tc.shards, tc.masters, tc.least), func(t *testing.T) {
			per := make([]int, tc.masters)
			l := queue.NewLayout("fas", tc.shards)
			for n := range tc.shards {
				per[queue.KeySlot(l.ShardPrefix(n))*tc.masters/16384]++
			}
			for m, c := range per {
				if c < tc.least {
					t.Errorf("master %d holds %d shards (%v); want at least %d", m, c, per, tc.least)
				}
			}
		})
	}
}
