// Command backlog measures what a large backlog costs: it starts the
// service with one worker, then makes the accurate-sandbox hold every call
// for ten minutes, so that delivered events stay queued, delivers 50,000
// distinct invoices, and reports the service's peak resident memory
// (VmHWM) and what the queued events take in Redis, per event and by kind
// of key.
//
// With -sellers N the service serves N sellers from a SELLERS_DIR (each its
// own database in the sandbox, one shared mapping_file or, with
// -inline-mapping, the mapping in every file), and the events go to them in
// turn; it reports first what the sellers cost idle: the service's RSS and
// the namespace's Redis bytes, per seller.
//
//	go run ./loadtest/backlog
//	go run ./loadtest/backlog -events 10000
//	go run ./loadtest/backlog -sellers 1000 [-inline-mapping]
//	REDIS_CLUSTER_ADDRS=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 go run ./loadtest/backlog  # on a Redis Cluster
//
// Keys go under a fresh Redis namespace, deleted afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/loadtest/internal/rig"
	"forstok-accurate-sync/queue"
)

func main() {
	n := flag.Int("events", 50_000, "invoices to deliver and keep queued")
	conns := flag.Int("c", 64, "concurrent connections delivering them")
	redisURL := flag.String("redis", rig.EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	cluster := flag.String("cluster", os.Getenv("REDIS_CLUSTER_ADDRS"), "Redis Cluster node addresses, comma-separated: the service uses the Cluster (its REDIS_CLUSTER_ADDRS, 16 shards) instead of -redis")
	var fo fleetOptions
	flag.IntVar(&fo.sellers, "sellers", 0, "sellers in SELLERS_DIR, the events going to each in turn (0: the single seller of the environment)")
	flag.BoolVar(&fo.inline, "inline-mapping", false, "with -sellers: the mapping written into every seller file rather than one shared mapping_file")
	flag.DurationVar(&fo.settle, "settle", 5*time.Second, "how long to let the service start (every seller) before the idle reading")
	flag.Parse()
	rig.Main("backlog", func(ctx context.Context) error { return run(ctx, *n, *conns, *redisURL, *cluster, fo, os.Stdout) })
}

// fleetOptions are the -sellers flags.
type fleetOptions struct {
	sellers int
	inline  bool
	settle  time.Duration
}

func run(ctx context.Context, n, conns int, redisURL, cluster string, fo fleetOptions, out io.Writer) error {
	bench, err := rig.Setup(ctx, "backlog", redisURL, cluster)
	if err != nil {
		return err
	}
	defer bench.Close()
	rdb, dir, bins, creds, ns := bench.RDB, bench.Dir, bench.Bins, bench.Creds, bench.NS

	var fleet *rig.Sellers
	sbOpts := rig.SandboxOptions{RateLimit: 8, Concurrency: 8}
	env := map[string]string{"WORKER_CONCURRENCY": "1", "SHUTDOWN_TIMEOUT": "2s"}
	if fo.sellers > 0 {
		var err error
		if fleet, err = bench.ExampleSellers(fo.sellers, fo.inline); err != nil {
			return err
		}
		sbOpts.Databases = fleet.Databases()
		maps.Copy(env, fleet.Env)
	}
	sb, err := rig.StartSandbox(ctx, dir, bins, creds, sbOpts)
	if err != nil {
		return err
	}
	defer sb.Stop(5 * time.Second)
	if fleet != nil {
		env["ACCURATE_ACCOUNT_URL"] = sb.URL
	}
	svc, err := rig.StartService(ctx, dir, bins, creds, bench.Service("service", sb.URL, env))
	if err != nil {
		return err
	}
	defer func() {
		svc.Stop(30 * time.Second)
		bench.DropKeys(ctx, out)
	}()
	fmt.Fprintf(out, "machine: %d CPUs, %s, %s\n", runtime.NumCPU(), rig.Machine(ctx, rdb), runtime.Version())

	// Every seller's part (client, limiter, worker) is built within a
	// second of the start, and its credentials checked: let that settle.
	time.Sleep(fo.settle)
	idle, err := rig.ProcMemory(svc.Pid())
	if err != nil {
		return err
	}
	idleKeys, err := memoryByKind(ctx, rdb, ns)
	if err != nil {
		return err
	}
	if fleet != nil {
		mapping := "one shared mapping_file"
		if fo.inline {
			mapping = "the mapping inline in every file"
		}
		fmt.Fprintf(out, "%d sellers, each its own database, %s; after %s: service RSS %.1f MB (peak %.1f MB), the namespace's keys %.1f kB in %d keys (%.0f bytes per seller)\n",
			fo.sellers, mapping, fo.settle, mb(idle.Now), mb(idle.Peak), float64(total(idleKeys).bytes)/1024, total(idleKeys).keys, float64(total(idleKeys).bytes)/float64(fo.sellers))
	}
	if m, err := readMetrics(ctx, svc.URL); err == nil {
		fmt.Fprintf(out, "idle, by its /metrics: %d goroutines, Go heap in use %.1f MB, %d metric series (%d with a seller label, %.1f kB of /metrics)\n",
			int(m.values["go_goroutines"]), mb(int64(m.values["go_memstats_heap_inuse_bytes"])), m.series, m.sellerSeries, float64(m.size)/1024)
	} else {
		fmt.Fprintln(out, "metrics:", err)
	}
	// From now on every call to the sandbox hangs for 10 minutes: the one
	// worker holds one event and the rest wait in the queue.
	dbs := []string{""}
	if fleet != nil {
		dbs = fleet.IDs
	}
	for _, db := range dbs {
		if err := rig.SetLatency(ctx, sb.URL, db, 10*time.Minute); err != nil {
			return err
		}
	}
	usedBefore, err := rig.InfoSum(ctx, rdb, "memory", "used_memory")
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
		secret, seller := creds.Webhook, ""
		if fleet != nil {
			seller = fleet.IDs[i%len(fleet.IDs)]
			secret = fleet.Secrets[seller]
		}
		if deliveries[i], err = rig.Sign(secret, fmt.Sprintf("msg_backlog_%d", i), now, bodies.Invoice(i)); err != nil {
			return err
		}
		deliveries[i].Seller = seller
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
	usedAfter, err := rig.InfoSum(ctx, rdb, "memory", "used_memory")
	if err != nil {
		return err
	}
	depth, err := bench.Events().Queue().QueueDepth(ctx)
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
	all, before := total(kinds), total(idleKeys)
	fmt.Fprintf(out, "the namespace's own keys (MEMORY USAGE, summed): %.1f MB in %d keys, %.0f bytes per event (%.1f MB, %d keys before the events)\n",
		mb(all.bytes), all.keys, float64(all.bytes-before.bytes)/float64(n), mb(before.bytes), before.keys)
	for _, k := range kinds {
		fmt.Fprintf(out, "  %-34s %7d keys %8.1f MB %6.0f bytes/event\n", k.name, k.keys, mb(k.bytes), float64(k.bytes)/float64(n))
	}
	return nil
}

// total adds the kinds up.
func total(kinds []kind) kind {
	var t kind
	for _, k := range kinds {
		t.bytes += k.bytes
		t.keys += k.keys
	}
	return t
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

type kind struct {
	name  string
	keys  int
	bytes int64
}

// memoryByKind sums MEMORY USAGE of the namespace's keys by what they are,
// of every seller and shard: a seller's store keys are the default's under
// ":s:<seller>", a shard's under "{ns:<n>:<k>}".
func memoryByKind(ctx context.Context, rdb redis.UniversalClient, ns string) ([]kind, error) {
	classes := []struct{ name, prefix string }{
		{"asynq task hash (t:<key>)", queue.AsynqPrefix(ns) + ":t:"},
		{"asynq other (pending list, ...)", queue.AsynqPrefix(ns) + ":"},
		{"event record hash (event:<key>)", queue.KeyPrefix(ns) + ":event:"},
		{"event history list (history:<key>)", queue.KeyPrefix(ns) + ":history:"},
		{"state indexes (index:*)", queue.KeyPrefix(ns) + ":index:"},
	}
	byName := map[string]*kind{}
	add := func(name string, bytes int64) {
		k := byName[name]
		if k == nil {
			k = &kind{name: name}
			byName[name] = k
		}
		k.keys++
		k.bytes += bytes
	}
	store, sellerKeys := queue.KeyPrefix(ns)+":", queue.KeyPrefix(ns)+":s:"
	shard := regexp.MustCompile(`\{` + regexp.QuoteMeta(ns) + `:[0-9]+:[0-9]+\}`)
	err := rig.EachKeyMemory(ctx, rdb, ns, func(key string, bytes int64) {
		// A shard's keys as if the one shard's of before: "{ns:<n>:<k>}" is "{ns}".
		key = shard.ReplaceAllLiteralString(key, queue.KeyPrefix(ns))
		if rest, ok := strings.CutPrefix(key, sellerKeys); ok {
			if _, tail, ok := strings.Cut(rest, ":"); ok {
				key = store + tail // as if the default seller's
			}
		}
		for _, c := range classes {
			if strings.HasPrefix(key, c.prefix) {
				add(c.name, bytes)
				return
			}
		}
		if rest, ok := strings.CutPrefix(key, store); ok {
			what, _, _ := strings.Cut(rest, ":")
			add("store "+what+":*", bytes)
			return
		}
		add("other (the limiter's, ...)", bytes)
	})
	sums := make([]kind, 0, len(byName))
	for _, k := range byName {
		sums = append(sums, *k)
	}
	sort.SliceStable(sums, func(i, j int) bool { return sums[i].bytes > sums[j].bytes })
	return sums, err
}

// metricsSummary is what the service's /metrics tells of its size.
type metricsSummary struct {
	values               map[string]float64 // unlabelled series by name
	series, sellerSeries int
	size                 int
}

func readMetrics(ctx context.Context, url string) (metricsSummary, error) {
	m := metricsSummary{values: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return m, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return m, err
	}
	m.size = len(body)
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m.series++
		if strings.Contains(line, `seller="`) {
			m.sellerSeries++
		}
		if name, v, ok := strings.Cut(line, " "); ok && !strings.Contains(name, "{") {
			m.values[name], _ = strconv.ParseFloat(v, 64)
		}
	}
	return m, nil
}
