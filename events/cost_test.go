package events_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

// commandsRun sums the calls of every command every master has run.
func commandsRun(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	counts, err := commandCounts(ctx, rdb)
	var total int64
	for _, n := range counts {
		total += n
	}
	return total, err
}

// commandCounts are the calls of each command, summed over every master.
func commandCounts(ctx context.Context, rdb redis.UniversalClient) (map[string]int64, error) {
	var mu sync.Mutex
	out := map[string]int64{}
	count := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(line, ":calls=")
			if !ok {
				continue
			}
			v, _, _ := strings.Cut(rest, ",")
			n, _ := strconv.ParseInt(v, 10, 64)
			mu.Lock()
			out[strings.TrimPrefix(name, "cmdstat_")] += n
			mu.Unlock()
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return out, c.ForEachMaster(ctx, count)
	case *redis.Client:
		return out, count(ctx, c)
	}
	return nil, errors.New("unknown client")
}

// memoryOf sums MEMORY USAGE of every key of namespace ns.
func memoryOf(ctx context.Context, rdb redis.UniversalClient, ns string) (int64, error) {
	var total int64
	err := events.EachKey(ctx, rdb, ns, func(keys []string) error {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for _, c := range cmds {
			total += c.Val()
		}
		return nil
	})
	return total, err
}

// BenchmarkSyncedEvent is what the store's part of one synced event costs
// Redis: accepted, taken by a worker (asynq), begun, finished synced and
// done, then kept for the retention. It reports the bytes kept per synced
// event (MEMORY USAGE of the namespace's keys once all are synced) and the
// commands per event (every master's INFO commandstats, polling included),
// on a private redis-server (one shard) and on a 3-master Redis Cluster (16
// shards), 12 sellers in turn. The worker's own calls (claims, order
// memory, locks) come on top.
//
//	go test -run '^$' -bench BenchmarkSyncedEvent -benchtime 2000x ./events/
//
// BENCH_COMMANDS=1 also prints the commands per event by name, to stderr.
func BenchmarkSyncedEvent(b *testing.B) {
	payload, err := examples.Files.ReadFile("invoice-created-shopee.json")
	if err != nil {
		b.Fatal(err)
	}
	targets := []struct {
		name   string
		shards int
		open   func(b *testing.B) (redis.UniversalClient, string)
	}{
		{"one node", 1, func(b *testing.B) (redis.UniversalClient, string) {
			s := testredis.StartServer(b)
			r := testredis.Redis{URL: s.URL}
			return r.Client(b), "bench"
		}},
		{"cluster of 3", queue.DefaultShards, func(b *testing.B) (redis.UniversalClient, string) {
			c := testredis.NewCluster(b)
			return c.Client(b), c.Namespace
		}},
	}
	for _, tc := range targets {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			rdb, ns := tc.open(b)
			store := events.New(rdb, events.Config{Namespace: ns, Shards: tc.shards})
			srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
				Concurrency: 16, Queues: store.Queue().Queues(), LogLevel: asynq.FatalLevel,
				TaskCheckInterval: 100 * time.Millisecond, DelayedTaskCheckInterval: time.Second,
			})
			var synced sync.WaitGroup
			synced.Add(b.N)
			err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
				id, _ := asynq.GetTaskID(ctx)
				seller, key := queue.SplitTaskID(id)
				st := store.Seller(seller)
				if _, err := st.Begin(ctx, events.Incoming{Key: key, Type: "invoice.created", Payload: t.Payload()}); err != nil {
					return err
				}
				defer synced.Done()
				defer func() { _ = st.Queue().Done(ctx, key) }()
				return st.Finish(ctx, key, events.Result{State: events.StateSynced, AccurateID: 1, AccurateNumber: "SI." + key})
			}))
			if err != nil {
				b.Fatal(err)
			}
			dctx, stop := context.WithCancel(ctx)
			go store.Queue().Dispatch(dctx, 50*time.Millisecond)
			byBefore, err := commandCounts(ctx, rdb)
			if err != nil {
				b.Fatal(err)
			}
			before, err := commandsRun(ctx, rdb)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				st := store.Seller(fmt.Sprintf("toko-%d", i%12))
				in := events.Incoming{Key: fmt.Sprintf("invoice.created:%d", i), Type: "invoice.created", Payload: payload, Orders: []string{fmt.Sprintf("ORD%d", i)}}
				if _, err := st.Accept(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			synced.Wait()
			b.StopTimer()
			after, _ := commandsRun(ctx, rdb)
			if os.Getenv("BENCH_COMMANDS") != "" {
				byAfter, _ := commandCounts(ctx, rdb)
				for k, v := range byAfter {
					if d := v - byBefore[k]; d > 0 {
						fmt.Fprintf(os.Stderr, "%s N=%d %-20s %6.2f\n", b.Name(), b.N, k, float64(d)/float64(b.N))
					}
				}
			}
			srv.Shutdown()
			stop()
			bytes, err := memoryOf(ctx, rdb, ns)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "redis-bytes/event")
			b.ReportMetric(float64(after-before)/float64(b.N), "commands/event")
			b.Cleanup(func() { _, _ = events.DropNamespace(context.Background(), rdb, ns) })
		})
	}
}
