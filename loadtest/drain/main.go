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
//	REDIS_CLUSTER_ADDRS=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 go run ./loadtest/drain  # the replicas on a Redis Cluster
//	go run ./loadtest/drain -unlimited -invoices 5000      # limits lifted: what the service itself can post
//	go run ./loadtest/drain -sellers 50 -send-rate 8 -invoices 480 -payments=false
//	                                                       # 50 sellers, each its own database, each sending 8 webhooks/s
//
// With -sellers the sandbox serves one database per seller, each with the
// limits of -rate and -in-flight, and the run reports, per database, the
// over-limit calls the sandbox refused and the most it had in flight at
// once, and the Accurate requests and CPU time of the replicas per document.
//
// Keys go under a fresh Redis namespace, deleted afterwards.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/loadtest/internal/rig"
)

type options struct {
	invoices  int
	payments  bool
	replicas  int
	sandbox   rig.SandboxOptions
	unlimited bool
	workers   int
	lone      int
	timeout   time.Duration
	rig.Target
	sellers  int
	sendRate float64
	inline   bool
}

func main() {
	var o options
	flag.IntVar(&o.invoices, "invoices", 1000, "invoices to deliver (and as many payments with -payments)")
	flag.BoolVar(&o.payments, "payments", true, "after the invoices are synced, deliver a payment for each")
	flag.IntVar(&o.replicas, "replicas", 1, "service processes sharing the Redis namespace")
	o.sandbox.Flags()
	flag.BoolVar(&o.unlimited, "unlimited", false, "lift the limits: sandbox -rate-limit 0 -concurrency 0, ACCURATE_RATE_LIMIT=10000, ACCURATE_MAX_CONCURRENCY=64, WORKER_CONCURRENCY=64")
	flag.IntVar(&o.workers, "workers", 0, "WORKER_CONCURRENCY per replica (default: the service's, or 64 with -unlimited)")
	flag.IntVar(&o.lone, "lone", 0, "after the phases, deliver this many invoices one at a time, each when the last is synced, and report webhook-to-synced latency")
	flag.DurationVar(&o.timeout, "timeout", 6*time.Minute, "give up when a phase takes longer")
	o.Target.Flags()
	flag.IntVar(&o.sellers, "sellers", 0, "sellers in SELLERS_DIR, each its own database in the sandbox; -invoices is then per seller (0: the single seller of the environment)")
	flag.Float64Var(&o.sendRate, "send-rate", 0, "webhooks per second each seller sends, paced (0: all at once, 16 connections)")
	flag.BoolVar(&o.inline, "inline-mapping", false, "with -sellers: the mapping written into every seller file rather than one shared mapping_file")
	flag.Parse()

	rig.Main("drain", func(ctx context.Context) error { return run(ctx, o, os.Stdout) })
}

func run(ctx context.Context, o options, out io.Writer) error {
	env, err := o.Settings()
	if err != nil {
		return err
	}
	sbOpts := o.sandbox
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

	bench, err := rig.Setup(ctx, "drain", o.RedisURL, o.Cluster)
	if err != nil {
		return err
	}
	defer bench.Close()
	rdb, dir, bins, creds := bench.RDB, bench.Dir, bench.Bins, bench.Creds

	var fleet *rig.Sellers
	if o.sellers > 0 {
		var err error
		if fleet, err = bench.ExampleSellers(o.sellers, o.inline); err != nil {
			return err
		}
		sbOpts.Databases = fleet.Databases()
	}
	sb, err := rig.StartSandbox(ctx, dir, bins, creds, sbOpts)
	if err != nil {
		return err
	}
	defer sb.Stop(5 * time.Second)
	svcEnv := env
	if fleet != nil {
		svcEnv = maps.Clone(env)
		maps.Copy(svcEnv, fleet.Env)
		svcEnv["ACCURATE_ACCOUNT_URL"] = sb.URL // each seller's database by discovery
	}
	var replicas []*rig.Proc
	defer func() {
		for _, p := range replicas {
			p.Stop(30 * time.Second)
		}
		bench.DropKeys(ctx, out)
	}()
	var urls []string
	for i := range o.replicas {
		p, err := rig.StartService(ctx, dir, bins, creds, bench.Service("service-"+strconv.Itoa(i+1), sb.URL, svcEnv))
		if err != nil {
			return err
		}
		replicas = append(replicas, p)
		urls = append(urls, p.URL+"/webhooks/forstok")
	}

	fmt.Fprintf(out, "machine: %d CPUs, %s, %s\n", runtime.NumCPU(), rig.Machine(ctx, rdb), runtime.Version())
	fmt.Fprintf(out, "sandbox: %s req/s, %s in flight, %s latency; %d replica(s) on %s, service settings %v\n",
		limit(sbOpts.RateLimit), limit(sbOpts.Concurrency), sbOpts.Latency, o.replicas, bench.On(), env)
	if fleet != nil {
		mapping := "one shared mapping_file"
		if o.inline {
			mapping = "the mapping inline in every file"
		}
		fmt.Fprintf(out, "%d sellers, each its own database (limits above each), %s; each sends %s\n",
			o.sellers, mapping, sendRate(o.sendRate))
	}

	bodies, err := rig.NewBodies(strconv.FormatInt(time.Now().Unix()%100000, 10))
	if err != nil {
		return err
	}
	evs := bench.Events()
	ph := phase{out: out, stores: []*events.Store{evs.Seller(events.DefaultSeller)}, urls: urls, secrets: []string{creds.Webhook}, timeout: o.timeout,
		replicas: replicas, sandbox: sb.URL, sandboxProc: sb, rdb: rdb}
	if fleet != nil {
		ph.stores, ph.secrets, ph.sellers = nil, nil, fleet.IDs
		for _, id := range fleet.IDs {
			ph.stores = append(ph.stores, evs.Seller(id))
			ph.secrets = append(ph.secrets, fleet.Secrets[id])
		}
		ph.rate = o.sendRate * float64(o.sellers)
	}
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
	if fleet != nil {
		return checkDatabases(ctx, out, sb.URL, fleet.IDs, o.invoices, o.payments)
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
		before, err := p.stores[0].Counts(ctx)
		if err != nil {
			return err
		}
		d, err := rig.Sign(p.secrets[0], fmt.Sprintf("msg_drain_lone_%d", i), time.Now(), body(i))
		if err != nil {
			return err
		}
		start := time.Now()
		load := &rig.Load{Client: rig.NewClient(1), URLs: p.urls[:1], Conns: 1, Deliveries: []rig.Delivery{d}}
		if res, _ := load.Run(ctx, p.timeout, 0); res.Accepted != 1 {
			return fmt.Errorf("lone invoice %d not accepted: %s", i, res.Others())
		}
		for {
			c, err := p.stores[0].Counts(ctx)
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
	slices.Sort(lat)
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
	out      io.Writer
	stores   []*events.Store // one per seller (or the single seller's)
	secrets  []string        // each seller's webhook secret
	sellers  []string        // the seller ids with -sellers, else none
	rate     float64         // webhooks per second in all, 0: at once
	urls     []string
	timeout  time.Duration
	replicas []*rig.Proc
	sandbox  string
	// for the CPU each process spent
	sandboxProc *rig.Proc
	rdb         redis.UniversalClient
}

func (p phase) run(ctx context.Context, name string, per int, body func(int) []byte) error {
	base, _, err := p.counts(ctx)
	if err != nil {
		return err
	}
	// Seller by seller in turn, so that every seller sends at the same pace.
	n := per * len(p.stores)
	deliveries := make([]rig.Delivery, 0, n)
	now := time.Now()
	for i := range per {
		for s, secret := range p.secrets {
			d, err := rig.Sign(secret, fmt.Sprintf("msg_drain_%s_%d", name, i), now, body(i))
			if err != nil {
				return err
			}
			if p.sellers != nil {
				d.Seller = p.sellers[s]
			}
			deliveries = append(deliveries, d)
		}
	}
	callsBefore, err := p.accurateCalls(ctx)
	if err != nil {
		return err
	}
	cpuBefore, err := p.cpu(ctx)
	if err != nil {
		return err
	}

	// Synced counts are sampled while intake runs, from the first delivery on.
	start := time.Now()
	samples := make(chan []sample, 1)
	done := make(chan struct{})
	go func() { samples <- p.watch(ctx, base, n, done) }()
	conns := 16
	if p.rate > 0 {
		conns = 64 // paced: enough senders that a slow answer never holds the pace up
	}
	load := &rig.Load{Client: rig.NewClient(conns), URLs: p.urls, Conns: conns, Deliveries: deliveries, Rate: p.rate}
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
	cpuAfter, err := p.cpu(ctx)
	if err != nil {
		return err
	}
	callsAfter, err := p.accurateCalls(ctx)
	if err != nil {
		return err
	}

	last := series[len(series)-1]
	_, counts, err := p.counts(ctx)
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
	if p.rate > 0 {
		fmt.Fprintf(p.out, "  the last document %s after the last delivery\n", (last.at - intake).Round(time.Millisecond))
	}
	calls := 0
	var byEndpoint []string
	for _, k := range slices.Sorted(maps.Keys(callsAfter)) {
		if d := callsAfter[k] - callsBefore[k]; isRequest(k) && d > 0 {
			calls += d
			byEndpoint = append(byEndpoint, fmt.Sprintf("%s %d", k, d))
		}
	}
	cpu := cpuAfter.minus(cpuBefore)
	fmt.Fprintf(p.out, "  Accurate requests: %d, %.3f per document; service CPU (%d replica(s), intake included): %.2f s, %.0f µs per document\n",
		calls, float64(calls)/float64(n), len(p.replicas), cpu.service.Seconds(), perDoc(cpu.service, n))
	fmt.Fprintf(p.out, "  Accurate requests by endpoint: %s\n", strings.Join(byEndpoint, ", "))
	others := cpu.machine - cpu.service - cpu.sandbox - cpu.redis - cpu.self
	fmt.Fprintf(p.out, "  CPU per document of the others: sandbox %.0f µs, Redis %.0f µs, this program %.0f µs, the rest of the machine %.0f µs\n",
		perDoc(cpu.sandbox, n), perDoc(cpu.redis, n), perDoc(cpu.self, n), perDoc(others, n))
	busy, elapsed := cpu.machine, last.at
	fmt.Fprintf(p.out, "  the machine's CPUs were busy %.0f%% of those %s (%.1f of %.1f CPU-seconds; the sandbox, Redis, this program and others included)\n",
		100*busy.Seconds()/(elapsed.Seconds()*float64(runtime.NumCPU())), elapsed.Round(time.Millisecond), busy.Seconds(), elapsed.Seconds()*float64(runtime.NumCPU()))
	fmt.Fprintf(p.out, "  states now: %v\n", counts)
	return nil
}

// isRequest tells whether a sandbox counter counts Accurate requests the
// sandbox answered (a call per endpoint), rather than refusals.
func isRequest(counter string) bool {
	return strings.Contains(counter, "/") || counter == "api-token"
}

// counts are the phase's sellers' synced events, and their states added up.
func (p phase) counts(ctx context.Context) (int64, map[string]int64, error) {
	all := map[string]int64{}
	for _, st := range p.stores {
		c, err := st.Counts(ctx)
		if err != nil {
			return 0, nil, err
		}
		for k, v := range c {
			all[k] += v
		}
	}
	return all[events.StateSynced], all, nil
}

// accurateCalls are the sandbox's counters, of every database.
func (p phase) accurateCalls(ctx context.Context) (map[string]int, error) {
	if p.sellers == nil {
		st, err := rig.SandboxState(ctx, p.sandbox)
		return st.Calls, err
	}
	all := map[string]int{}
	for _, id := range p.sellers {
		st, err := rig.DatabaseState(ctx, p.sandbox, id)
		if err != nil {
			return nil, err
		}
		for k, v := range st.Calls {
			all[k] += v
		}
	}
	return all, nil
}

// cpuTimes are the CPU time used so far by the replicas (added up), the
// sandbox, Redis, this program and the whole machine.
type cpuTimes struct {
	service, sandbox, redis, self, machine time.Duration
}

func (a cpuTimes) minus(b cpuTimes) cpuTimes {
	return cpuTimes{a.service - b.service, a.sandbox - b.sandbox, a.redis - b.redis, a.self - b.self, a.machine - b.machine}
}

func perDoc(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

func (p phase) cpu(ctx context.Context) (cpuTimes, error) {
	var t cpuTimes
	for _, r := range p.replicas {
		c, err := rig.ProcCPU(r.Pid())
		if err != nil {
			return t, err
		}
		t.service += c
	}
	var err1, err2, err3 error
	t.sandbox, err1 = rig.ProcCPU(p.sandboxProc.Pid())
	t.redis, err2 = rig.RedisCPU(ctx, p.rdb)
	t.machine, err3 = rig.MachineCPU()
	t.self = rig.SelfCPU()
	return t, errors.Join(err1, err2, err3)
}

// checkDatabases reports, per database of the sandbox, the calls refused
// over its limits and the most it had in flight, and checks that each holds
// one faktur (and one penerimaan) per event of its seller.
func checkDatabases(ctx context.Context, out io.Writer, url string, ids []string, per int, payments bool) error {
	refused, worst, peakMax := 0, "", 0
	var bad []string
	byPeak := map[int]int{}
	for _, id := range ids {
		st, err := rig.DatabaseState(ctx, url, id)
		if err != nil {
			return err
		}
		refused += st.Calls["rate_limited"]
		if st.Calls["rate_limited"] > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d (window %d, in flight %d)", id, st.Calls["rate_limited"],
				st.Calls["rate_limited_window"], st.Calls["rate_limited_concurrency"]))
		}
		byPeak[st.PeakInFlight]++
		if st.PeakInFlight > peakMax {
			peakMax, worst = st.PeakInFlight, id
		}
		if len(st.Invoices) != per || (payments && len(st.Receipts) != per) {
			return fmt.Errorf("database %s holds %d fakturs and %d penerimaan, want %d each", id, len(st.Invoices), len(st.Receipts), per)
		}
	}
	fmt.Fprintf(out, "\nsandbox, %d databases: each holds one document per event of its seller\n", len(ids))
	fmt.Fprintf(out, "calls refused over a database's limits (429): %d in all\n", refused)
	for _, b := range bad {
		fmt.Fprintf(out, "  %s\n", b)
	}
	peaks := slices.Sorted(maps.Keys(byPeak))
	var parts []string
	for _, pk := range peaks {
		parts = append(parts, fmt.Sprintf("%d: %d databases", pk, byPeak[pk]))
	}
	fmt.Fprintf(out, "peak in flight per database: highest %d (%s); by peak: %s\n", peakMax, worst, strings.Join(parts, ", "))
	return nil
}

func sendRate(r float64) string {
	if r <= 0 {
		return "all its webhooks at once"
	}
	return fmt.Sprintf("%g webhooks/s", r)
}

// sample is how many of the phase's events were synced at a time after
// its start.
type sample struct {
	at     time.Duration
	synced int
}

// watch samples the synced count every 100 ms (500 ms with sellers) until n more than base are
// synced, any failed, the timeout passes, or done closes.
func (p phase) watch(ctx context.Context, base int64, n int, done <-chan struct{}) []sample {
	start := time.Now()
	var series []sample
	every := 100 * time.Millisecond
	if len(p.stores) > 1 {
		every = 500 * time.Millisecond // a pipeline per seller: spare the shared Redis
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		synced, c, err := p.counts(ctx)
		if err == nil {
			series = append(series, sample{at: time.Since(start), synced: int(synced - base)})
			if int(synced-base) >= n || c[events.StateFailed] > 0 {
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
