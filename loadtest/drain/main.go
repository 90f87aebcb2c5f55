// Command drain measures how fast the service turns queued events into
// Accurate documents: it starts the accurate-sandbox and one or more
// replicas of the built service sharing one Redis namespace, delivers a
// batch of invoices (then, once they are all synced, their payments), and
// times the documents as they become synced. At the end it reads the
// sandbox's call counters: a run that kept to Accurate's limits has no
// rate-limited answers.
//
//	go run ./loadtest/drain                                # 1 replica, Accurate's limits (8/s, 8 in flight), 100 ms latency
//	go run ./loadtest/drain -replicas 2
//	go run ./loadtest/drain -unlimited -invoices 5000      # limits lifted: what the service itself can post
//	go run ./loadtest/drain -invoices 0 -lone 200          # latency of lone invoices on an idle service
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

type options struct {
	invoices  int
	payments  bool
	replicas  int
	rate      int
	inFlight  int
	latency   time.Duration
	unlimited bool
	workers   int
	lone      int
	timeout   time.Duration
	redisURL  string
	env       string
}

func main() {
	var o options
	flag.IntVar(&o.invoices, "invoices", 1000, "invoices to deliver (and as many payments with -payments)")
	flag.BoolVar(&o.payments, "payments", true, "after the invoices are synced, deliver a payment for each")
	flag.IntVar(&o.replicas, "replicas", 1, "service processes sharing the Redis namespace")
	flag.IntVar(&o.rate, "rate", 8, "the sandbox's requests per second (Accurate's limit)")
	flag.IntVar(&o.inFlight, "in-flight", 8, "the sandbox's requests in flight (Accurate's limit)")
	flag.DurationVar(&o.latency, "latency", 100*time.Millisecond, "latency the sandbox adds to every call")
	flag.BoolVar(&o.unlimited, "unlimited", false, "lift the limits: sandbox -rate-limit 0 -concurrency 0, ACCURATE_RATE_LIMIT=10000, ACCURATE_MAX_CONCURRENCY=64, WORKER_CONCURRENCY=64")
	flag.IntVar(&o.workers, "workers", 0, "WORKER_CONCURRENCY per replica (default: the service's, or 64 with -unlimited)")
	flag.IntVar(&o.lone, "lone", 0, "after the phases, deliver this many invoices one at a time, each when the last is synced, and report webhook-to-synced latency")
	flag.DurationVar(&o.timeout, "timeout", 6*time.Minute, "give up when a phase takes longer")
	flag.StringVar(&o.redisURL, "redis", envOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	flag.StringVar(&o.env, "env", "", "extra service settings, KEY=VALUE,...")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "drain:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options, out io.Writer) error {
	env, err := rig.ParseEnv(o.env)
	if err != nil {
		return fmt.Errorf("-env: %w", err)
	}
	sbOpts := rig.SandboxOptions{RateLimit: o.rate, Concurrency: o.inFlight, Latency: o.latency}
	workers := 0 // the service's default
	if o.unlimited {
		sbOpts.RateLimit, sbOpts.Concurrency = 0, 0
		workers = 64
		env = withDefaults(env, map[string]string{"ACCURATE_RATE_LIMIT": "10000", "ACCURATE_MAX_CONCURRENCY": "64"})
	}
	if o.workers > 0 {
		workers = o.workers
	}
	if workers > 0 {
		env = withDefaults(env, map[string]string{"WORKER_CONCURRENCY": strconv.Itoa(workers)})
	}

	redisOpt, err := redis.ParseURL(o.redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(redisOpt)
	defer rdb.Close()
	root, err := rig.Root()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fas-drain-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins, err := rig.Build(ctx, root, dir)
	if err != nil {
		return err
	}
	creds := rig.NewCredentials()
	ns := rig.Namespace("drain")

	sb, err := rig.StartSandbox(ctx, dir, bins, creds, sbOpts)
	if err != nil {
		return err
	}
	defer sb.Stop(5 * time.Second)
	var replicas []*rig.Proc
	defer func() {
		for _, p := range replicas {
			p.Stop(30 * time.Second)
		}
		// After the replicas: nothing may write once the keys are gone.
		if _, err := events.DropNamespace(context.WithoutCancel(ctx), rdb, ns); err != nil {
			fmt.Fprintln(out, "cleanup:", err)
		}
	}()
	var urls []string
	for i := range o.replicas {
		p, err := rig.StartService(ctx, dir, bins, creds, rig.ServiceOptions{
			Name: "service-" + strconv.Itoa(i+1), RedisURL: o.redisURL, Namespace: ns,
			AccurateURL: sb.URL, MappingFile: root + "/examples/mapping.yaml", Env: env,
		})
		if err != nil {
			return err
		}
		replicas = append(replicas, p)
		urls = append(urls, p.URL+"/webhooks/forstok")
	}

	fmt.Fprintf(out, "machine: %d CPUs, %s, %s\n", runtime.NumCPU(), rig.Machine(ctx, rdb), runtime.Version())
	fmt.Fprintf(out, "sandbox: %s req/s, %s in flight, %s latency; %d replica(s), service settings %v\n",
		limit(sbOpts.RateLimit), limit(sbOpts.Concurrency), o.latency, o.replicas, env)

	bodies, err := rig.NewBodies(strconv.FormatInt(time.Now().Unix()%100000, 10))
	if err != nil {
		return err
	}
	store := events.New(rdb, events.Config{Namespace: ns})
	ph := phase{out: out, store: store, urls: urls, secret: creds.Webhook, timeout: o.timeout}
	if o.invoices > 0 {
		if err := ph.run(ctx, "invoices", o.invoices, bodies.Invoice); err != nil {
			return err
		}
	}
	if o.payments && o.invoices > 0 {
		if err := ph.run(ctx, "payments", o.invoices, bodies.Payment); err != nil {
			return err
		}
	}
	if o.lone > 0 {
		if err := ph.lone(ctx, o.lone, func(i int) []byte { return bodies.Invoice(o.invoices + i) }); err != nil {
			return err
		}
	}

	st, err := rig.SandboxState(ctx, sb.URL)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nsandbox: %d fakturs and %d penerimaan stored; calls %v\n", len(st.Invoices), len(st.Receipts), st.Calls)
	fmt.Fprintf(out, "rate-limited answers (429) the sandbox gave: %d\n", st.Calls["rate_limited"])
	requests := 0
	for k, v := range st.Calls {
		if strings.Contains(k, "/") && !strings.HasPrefix(k, "customer/") {
			requests += v
		}
	}
	if docs := len(st.Invoices) + len(st.Receipts); docs > 0 {
		fmt.Fprintf(out, "Accurate requests for the documents: %d for %d documents, %.3f per document\n", requests, docs, float64(requests)/float64(docs))
	}
	want := o.invoices
	if len(st.Invoices) != want+o.lone || (o.payments && len(st.Receipts) != want) {
		return fmt.Errorf("the sandbox holds %d fakturs and %d penerimaan, want %d and %d", len(st.Invoices), len(st.Receipts), want+o.lone, want)
	}
	return nil
}

// lone delivers n invoices one at a time, each once the one before is
// synced, and reports the time from sending each webhook until its event
// is synced (the faktur is in Accurate before the state says so).
func (p phase) lone(ctx context.Context, n int, body func(int) []byte) error {
	lat := make([]time.Duration, 0, n)
	for i := range n {
		before, err := p.store.Counts(ctx)
		if err != nil {
			return err
		}
		d, err := rig.Sign(p.secret, fmt.Sprintf("msg_drain_lone_%d", i), time.Now(), body(i))
		if err != nil {
			return err
		}
		start := time.Now()
		load := &rig.Load{Client: rig.NewClient(1), URLs: p.urls[:1], Conns: 1, Deliveries: []rig.Delivery{d}}
		if res, _ := load.Run(ctx, p.timeout, 0); res.Accepted != 1 {
			return fmt.Errorf("lone invoice %d not accepted: %s", i, res.Others())
		}
		for {
			c, err := p.store.Counts(ctx)
			if err == nil && c[events.StateSynced] > before[events.StateSynced] {
				break
			}
			if time.Since(start) > p.timeout || ctx.Err() != nil {
				return fmt.Errorf("lone invoice %d not synced after %s", i, p.timeout)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
		// An idle seller: nothing else of this kind in flight.
		time.Sleep(150 * time.Millisecond)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) time.Duration {
		return lat[min(len(lat)-1, int(f*float64(len(lat))))].Round(time.Millisecond)
	}
	fmt.Fprintf(p.out, "\nlone invoices: %d, webhook to synced p50 %s, p90 %s, p99 %s, max %s\n", n, q(0.5), q(0.9), q(0.99), lat[len(lat)-1].Round(time.Millisecond))
	return nil
}

func limit(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func withDefaults(env, defaults map[string]string) map[string]string {
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	return env
}

// phase delivers one batch and times its documents.
type phase struct {
	out     io.Writer
	store   *events.Store
	urls    []string
	secret  string
	timeout time.Duration
}

func (p phase) run(ctx context.Context, name string, n int, body func(int) []byte) error {
	before, err := p.store.Counts(ctx)
	if err != nil {
		return err
	}
	base := before[events.StateSynced]
	deliveries := make([]rig.Delivery, n)
	now := time.Now()
	for i := range deliveries {
		if deliveries[i], err = rig.Sign(p.secret, fmt.Sprintf("msg_drain_%s_%d", name, i), now, body(i)); err != nil {
			return err
		}
	}

	// Synced counts are sampled while intake runs, from the first delivery on.
	start := time.Now()
	samples := make(chan []sample, 1)
	done := make(chan struct{})
	go func() { samples <- p.watch(ctx, base, n, done) }()
	load := &rig.Load{Client: rig.NewClient(16), URLs: p.urls, Conns: 16, Deliveries: deliveries}
	res, _ := load.Run(ctx, p.timeout, 0)
	intake := time.Since(start)
	if res.Accepted != n {
		close(done)
		<-samples
		return fmt.Errorf("%s: %d of %d deliveries accepted; others: %s", name, res.Accepted, n, res.Others())
	}
	series := <-samples
	close(done)
	if len(series) == 0 {
		return fmt.Errorf("%s: could not read the event counts from Redis", name)
	}

	last := series[len(series)-1]
	counts, err := p.store.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.out, "\n%s: %d delivered in %s (%.0f/s)\n", name, n, intake.Round(time.Millisecond), float64(n)/intake.Seconds())
	if last.synced < n {
		return fmt.Errorf("%s: %d of %d synced after %s; states %v", name, last.synced, n, p.timeout, counts)
	}
	first := series[0]
	for _, s := range series {
		if s.synced > 0 {
			first = s
			break
		}
	}
	t10, t90 := at(series, n/10), at(series, n-n/10)
	fmt.Fprintf(p.out, "  all %d synced %s after the first delivery: %.2f docs/s end to end\n",
		n, last.at.Round(time.Millisecond), float64(n)/last.at.Seconds())
	fmt.Fprintf(p.out, "  first document at %s; from 10%% to 90%% synced (%s → %s): %.2f docs/s sustained\n",
		first.at.Round(time.Millisecond), t10.at.Round(time.Millisecond), t90.at.Round(time.Millisecond),
		float64(t90.synced-t10.synced)/(t90.at-t10.at).Seconds())
	fmt.Fprintf(p.out, "  states now: %v\n", counts)
	return nil
}

// sample is how many of the phase's events were synced at a time after
// its start.
type sample struct {
	at     time.Duration
	synced int
}

// watch samples the synced count every 100 ms until n more than base are
// synced, any failed, the timeout passes, or done closes.
func (p phase) watch(ctx context.Context, base int64, n int, done <-chan struct{}) []sample {
	start := time.Now()
	var series []sample
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := p.store.Counts(ctx)
		if err == nil {
			series = append(series, sample{at: time.Since(start), synced: int(c[events.StateSynced] - base)})
			if int(c[events.StateSynced]-base) >= n || c[events.StateFailed] > 0 {
				return series
			}
		}
		if time.Since(start) > p.timeout {
			return series
		}
		select {
		case <-tick.C:
		case <-done:
			return series
		case <-ctx.Done():
			return series
		}
	}
}

// at is the first sample with at least k synced.
func at(series []sample, k int) sample {
	for _, s := range series {
		if s.synced >= k {
			return s
		}
	}
	return series[len(series)-1]
}
