package events_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

// spread counts, on each master of a Cluster, the keys of namespace ns and
// the commands it has run (INFO commandstats), by address.
func spread(t *testing.T, rdb *redis.ClusterClient, ns string) (keys, commands map[string]int64) {
	t.Helper()
	ctx := context.Background()
	keys, commands = map[string]int64{}, map[string]int64{}
	var mu = make(chan struct{}, 1)
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		var n int64
		for _, pattern := range events.KeyPatterns(ns) {
			iter := c.Scan(ctx, 0, pattern, 5000).Iterator()
			for iter.Next(ctx) {
				n++
			}
			if err := iter.Err(); err != nil {
				return err
			}
		}
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return err
		}
		var calls int64
		for _, line := range strings.Split(info, "\n") {
			if _, rest, ok := strings.Cut(line, ":calls="); ok {
				v, _, _ := strings.Cut(rest, ",")
				x, _ := strconv.ParseInt(v, 10, 64)
				calls += x
			}
		}
		mu <- struct{}{}
		keys[c.Options().Addr], commands[c.Options().Addr] = n, calls
		<-mu
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, commands
}

func share(m map[string]int64) string {
	var total int64
	for _, v := range m {
		total += v
	}
	var parts []string
	for addr, v := range m {
		parts = append(parts, fmt.Sprintf("%s %.0f %%", addr, 100*float64(v)/float64(max(total, 1))))
	}
	return strings.Join(parts, ", ")
}

// On a Redis Cluster the sellers' shards spread over the masters: one
// seller's intake and its scripts stay in one slot, and no master holds
// the whole deployment.
func TestShardsSpreadOverACluster(t *testing.T) {
	ctx := context.Background()
	c := testredis.NewCluster(t)
	rdb := c.Client(t)
	const sellers, each = 48, 5

	t.Run("the shards' slots are where the Cluster puts them", func(t *testing.T) {
		l := queue.NewLayout(c.Namespace, queue.DefaultShards)
		for n := range l.Shards {
			key := l.ShardPrefix(n) + ":event:x"
			if got, err := rdb.ClusterKeySlot(ctx, key).Result(); err != nil || int(got) != queue.KeySlot(key) {
				t.Errorf("CLUSTER KEYSLOT %s = %d, %v; want %d", key, got, err, queue.KeySlot(key))
			}
		}
	})

	t.Run("every seller's events are accepted once, and a redelivery is a duplicate", func(t *testing.T) {
		store := events.New(rdb, events.Config{Namespace: c.Namespace, Shards: queue.DefaultShards})
		_, before := spread(t, rdb, c.Namespace)
		for s := range sellers {
			st := store.Seller(fmt.Sprintf("toko-%d", s))
			for i := range each {
				if out, err := st.Accept(ctx, incoming(fmt.Sprintf("invoice.created:%d", i))); err != nil || out != events.Accepted {
					t.Fatalf("Accept = %v, %v; want accepted", out, err)
				}
			}
			if out, err := st.Accept(ctx, incoming("invoice.created:0")); err != nil || out != events.Duplicate {
				t.Fatalf("redelivery = %v, %v; want duplicate", out, err)
			}
		}
		keys, after := spread(t, rdb, c.Namespace)
		for addr := range after {
			after[addr] -= before[addr]
		}
		t.Logf("keys per master: %s; commands per master: %s", share(keys), share(after))
		if len(keys) != 3 {
			t.Fatalf("keys on %d masters; want 3", len(keys))
		}
		for addr, n := range keys {
			if n == 0 {
				t.Errorf("master %s holds none of the namespace's keys; want the shards spread over every master (%s)", addr, share(keys))
			}
		}
	})

	t.Run("a namespace from before shards moves to its shards, its keys still answering", func(t *testing.T) {
		ns := c.Namespace + "-old"
		t.Cleanup(func() { _, _ = events.DropNamespace(context.Background(), rdb, ns) })
		old := events.New(rdb, events.Config{Namespace: ns, Shards: 1})
		for s := range 12 {
			if _, err := old.Seller(fmt.Sprintf("toko-%d", s)).Accept(ctx, incoming("invoice.created:1")); err != nil {
				t.Fatal(err)
			}
		}
		if keys, _ := spread(t, rdb, ns); countNonZero(keys) != 1 {
			t.Fatalf("before: keys per master %s; want all on one", share(keys))
		}
		m, err := events.Migrate(ctx, rdb, queue.NewLayout(ns, queue.DefaultShards), nil)
		if err != nil || m.Tasks != 12 || m.Keys == 0 {
			t.Fatalf("Migrate = %+v, %v; want 12 tasks and their keys moved", m, err)
		}
		store := events.New(rdb, events.Config{Namespace: ns, Shards: queue.DefaultShards})
		for s := range 12 {
			st := store.Seller(fmt.Sprintf("toko-%d", s))
			if ev, err := st.Get(ctx, "invoice.created:1"); err != nil || ev.State != events.StateQueued {
				t.Errorf("toko-%d's event after the move = %+v, %v; want queued", s, ev, err)
			}
			if out, err := st.Accept(ctx, incoming("invoice.created:1")); err != nil || out != events.Duplicate {
				t.Errorf("toko-%d's redelivery after the move = %v, %v; want duplicate", s, out, err)
			}
		}
		if depth, err := store.Queue().QueueDepth(ctx); err != nil || depth != 12 {
			t.Errorf("queue depth after the move = %d, %v; want the 12 events", depth, err)
		}
		if keys, _ := spread(t, rdb, ns); countNonZero(keys) < 2 {
			t.Errorf("after: keys per master %s; want them spread", share(keys))
		}
	})
}

func countNonZero(m map[string]int64) int {
	n := 0
	for _, v := range m {
		if v > 0 {
			n++
		}
	}
	return n
}
