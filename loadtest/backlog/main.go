// Command backlog measures what a large backlog costs: it starts the
// service with one worker against an accurate-sandbox that holds every call
// for ten minutes, so that delivered events stay queued, delivers 50,000
// distinct invoices, and reports the service's peak resident memory
// (VmHWM) and what the queued events take in Redis, per event and by kind
// of key.
//
//	go run ./loadtest/backlog
//	go run ./loadtest/backlog -events 10000
//
// Keys go under a fresh Redis namespace, deleted afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/loadtest/internal/rig"
)

func main() {
	n := flag.Int("events", 50_000, "invoices to deliver and keep queued")
	conns := flag.Int("c", 64, "concurrent connections delivering them")
	redisURL := flag.String("redis", envOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *conns, *redisURL, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "backlog:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, n, conns int, redisURL string, out io.Writer) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	root, err := rig.Root()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fas-backlog-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins, err := rig.Build(ctx, root, dir)
	if err != nil {
		return err
	}
	creds := rig.NewCredentials()
	ns := rig.Namespace("backlog")

	// Every call to the sandbox hangs for 10 minutes: the one worker holds
	// one event and the rest wait in the queue.
	sb, err := rig.StartSandbox(ctx, dir, bins, creds, rig.SandboxOptions{RateLimit: 8, Concurrency: 8, Latency: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer sb.Stop(5 * time.Second)
	svc, err := rig.StartService(ctx, dir, bins, creds, rig.ServiceOptions{
		RedisURL: redisURL, Namespace: ns, AccurateURL: sb.URL, MappingFile: root + "/examples/mapping.yaml",
		Env: map[string]string{"WORKER_CONCURRENCY": "1", "SHUTDOWN_TIMEOUT": "2s"},
	})
	if err != nil {
		return err
	}
	defer func() {
		svc.Stop(30 * time.Second)
		if _, err := events.DropNamespace(context.WithoutCancel(ctx), rdb, ns); err != nil {
			fmt.Fprintln(out, "cleanup:", err)
		}
	}()
	fmt.Fprintf(out, "machine: %d CPUs, %s, %s\n", runtime.NumCPU(), rig.Machine(ctx, rdb), runtime.Version())

	idle, err := rig.ProcMemory(svc.Pid())
	if err != nil {
		return err
	}
	usedBefore, err := rig.Info(ctx, rdb, "memory", "used_memory")
	if err != nil {
		return err
	}

	bodies, err := rig.NewBodies(strconv.FormatInt(time.Now().Unix()%100000, 10))
	if err != nil {
		return err
	}
	deliveries := make([]rig.Delivery, n)
	now := time.Now()
	for i := range deliveries {
		if deliveries[i], err = rig.Sign(creds.Webhook, fmt.Sprintf("msg_backlog_%d", i), now, bodies.Invoice(i)); err != nil {
			return err
		}
	}
	start := time.Now()
	load := &rig.Load{Client: rig.NewClient(conns), URLs: []string{svc.URL + "/webhooks/forstok"}, Conns: conns, Deliveries: deliveries}
	res, _ := load.Run(ctx, 10*time.Minute, 0)
	took := time.Since(start)
	if res.Accepted != n {
		return fmt.Errorf("%d of %d accepted; others: %s", res.Accepted, n, res.Others())
	}
	deliveries = nil // not part of any figure, but let this process shrink too

	time.Sleep(2 * time.Second) // let the last records land
	mem, err := rig.ProcMemory(svc.Pid())
	if err != nil {
		return err
	}
	usedAfter, err := rig.Info(ctx, rdb, "memory", "used_memory")
	if err != nil {
		return err
	}
	store := events.New(rdb, events.Config{Namespace: ns})
	depth, err := store.QueueDepth(ctx)
	if err != nil {
		return err
	}
	kinds, err := memoryByKind(ctx, rdb, ns)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "\n%d invoices (%d bytes each) delivered in %s (%.0f/s); queue depth now %d\n",
		n, len(bodies.Invoice(0)), took.Round(time.Millisecond), float64(n)/took.Seconds(), depth)
	fmt.Fprintf(out, "service RSS: %.1f MB idle before; peak (VmHWM) %.1f MB, now %.1f MB\n",
		mb(idle.Now), mb(mem.Peak), mb(mem.Now))
	fmt.Fprintf(out, "redis used_memory: %.1f MB → %.1f MB (+%.1f MB, %.0f bytes per event; other tests share this Redis)\n",
		mb(int64(usedBefore)), mb(int64(usedAfter)), mb(int64(usedAfter-usedBefore)), (usedAfter-usedBefore)/float64(n))
	var total int64
	var keys int
	for _, k := range kinds {
		total += k.bytes
		keys += k.keys
	}
	fmt.Fprintf(out, "the namespace's own keys (MEMORY USAGE, summed): %.1f MB in %d keys, %.0f bytes per event\n",
		mb(total), keys, float64(total)/float64(n))
	for _, k := range kinds {
		fmt.Fprintf(out, "  %-34s %7d keys %8.1f MB %6.0f bytes/event\n", k.name, k.keys, mb(k.bytes), float64(k.bytes)/float64(n))
	}
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

type kind struct {
	name  string
	keys  int
	bytes int64
}

// memoryByKind sums MEMORY USAGE of the namespace's keys by what they are.
func memoryByKind(ctx context.Context, rdb *redis.Client, ns string) ([]kind, error) {
	classes := []struct{ name, prefix string }{
		{"asynq task hash (t:<key>)", events.QueueKeyPrefix(ns) + ":t:"},
		{"asynq other (pending list, ...)", events.QueueKeyPrefix(ns) + ":"},
		{"event record hash (event:<key>)", events.KeyPrefix(ns) + ":event:"},
		{"event history list (history:<key>)", events.KeyPrefix(ns) + ":history:"},
		{"state indexes (index:*)", events.KeyPrefix(ns) + ":index:"},
		{"other", ""},
	}
	sums := make([]kind, len(classes))
	for i, c := range classes {
		sums[i].name = c.name
	}
	err := rig.EachKeyMemory(ctx, rdb, ns, func(key string, bytes int64) {
		for i, c := range classes {
			if strings.HasPrefix(key, c.prefix) {
				sums[i].keys++
				sums[i].bytes += bytes
				return
			}
		}
	})
	sort.SliceStable(sums, func(i, j int) bool { return sums[i].bytes > sums[j].bytes })
	return sums, err
}
