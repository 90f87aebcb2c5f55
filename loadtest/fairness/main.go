// Command fairness measures whether one seller's backlog holds back
// another seller's events: seller A gets a large backlog, then seller B
// sends a few events, and the run reports B's time from webhook to synced
// (p50, p99) and how fast A drains meanwhile. Each seller has its own
// database in the accurate-sandbox, with Accurate's limits.
//
//	go run ./loadtest/fairness                       # A: 20,000 invoices, then B: 50; 8 req/s, 8 in flight, 100 ms latency
//	go run ./loadtest/fairness -backlog 5000 -others 20 -env SELLER_SHARE=50
//	REDIS_CLUSTER_ADDRS=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 go run ./loadtest/fairness  # on a Redis Cluster
//
// Keys go under a fresh Redis namespace, deleted afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/loadtest/internal/rig"
)

type options struct {
	backlog, others int
	sandbox         rig.SandboxOptions
	timeout         time.Duration
	rig.Target
}

func main() {
	var o options
	flag.IntVar(&o.backlog, "backlog", 20000, "invoices seller A queues first")
	flag.IntVar(&o.others, "others", 50, "invoices seller B sends once A's are queued")
	o.sandbox.Flags()
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up when A's backlog takes longer to drain")
	o.Target.Flags()
	flag.Parse()

	rig.Main("fairness", func(ctx context.Context) error { return run(ctx, o, os.Stdout) })
}

func run(ctx context.Context, o options, out io.Writer) error {
	env, err := o.Settings()
	if err != nil {
		return err
	}
	bench, err := rig.Setup(ctx, "fairness", o.RedisURL, o.Cluster)
	if err != nil {
		return err
	}
	defer bench.Close()
	rdb, root, dir, bins, creds := bench.RDB, bench.Root, bench.Dir, bench.Bins, bench.Creds
	mapping, err := os.ReadFile(root + "/examples/mapping.yaml")
	if err != nil {
		return err
	}
	fleet, err := rig.WriteSellers(dir, creds, rig.SellersOptions{N: 2, Mapping: mapping, OwnDatabases: true})
	if err != nil {
		return err
	}
	a, b := fleet.IDs[0], fleet.IDs[1]
	sbOpts := o.sandbox
	sbOpts.Databases = fleet.Databases()
	sb, err := rig.StartSandbox(ctx, dir, bins, creds, sbOpts)
	if err != nil {
		return err
	}
	defer sb.Stop(5 * time.Second)
	svcEnv := maps.Clone(env)
	maps.Copy(svcEnv, fleet.Env)
	svcEnv["ACCURATE_ACCOUNT_URL"] = sb.URL // each seller's database by discovery
	svcOpts := bench.Service("service", sb.URL, svcEnv)
	svcOpts.MappingFile = "" // the sellers' files name theirs
	svc, err := rig.StartService(ctx, dir, bins, creds, svcOpts)
	if err != nil {
		return err
	}
	defer func() {
		svc.Stop(30 * time.Second)
		bench.DropKeys(ctx, out)
	}()
	url := svc.URL + "/webhooks/forstok"

	fmt.Fprintf(out, "machine: %d CPUs, %s, %s\n", runtime.NumCPU(), rig.Machine(ctx, rdb), runtime.Version())
	fmt.Fprintf(out, "sandbox: each database %d req/s, %d in flight, %s latency; one replica on %s, service settings %v\n",
		o.sandbox.RateLimit, o.sandbox.Concurrency, o.sandbox.Latency, bench.On(), env)

	bodies, err := rig.NewBodies(strconv.FormatInt(time.Now().Unix()%100000, 10))
	if err != nil {
		return err
	}
	evs := bench.Events()
	sa, sbStore := evs.Seller(a), evs.Seller(b)
	synced := func(s *events.Store) int64 {
		c, err := s.Counts(ctx)
		if err != nil {
			return -1
		}
		return c[events.StateSynced]
	}

	// A's backlog: delivered as fast as intake takes it (A drains meanwhile).
	deliveries := make([]rig.Delivery, o.backlog)
	for i := range deliveries {
		if deliveries[i], err = rig.Sign(fleet.Secrets[a], fmt.Sprintf("msg_fair_a_%d", i), time.Now(), bodies.Invoice(i)); err != nil {
			return err
		}
		deliveries[i].Seller = a
	}
	start := time.Now()
	load := &rig.Load{Client: rig.NewClient(16), URLs: []string{url}, Conns: 16, Deliveries: deliveries}
	res, _ := load.Run(ctx, o.timeout, 0)
	if res.Accepted != o.backlog {
		return fmt.Errorf("seller A: %d of %d deliveries accepted; others: %s", res.Accepted, o.backlog, res.Others())
	}
	aDone := synced(sa)
	fmt.Fprintf(out, "\nA: %d invoices delivered in %s (%.0f/s); %d synced by then, %d queued\n",
		o.backlog, time.Since(start).Round(time.Millisecond), float64(o.backlog)/time.Since(start).Seconds(), aDone, int64(o.backlog)-aDone)

	// B's events, one after another, each timed from its webhook to its
	// event synced (the faktur is in Accurate before the state says so).
	bStart, aAtB := time.Now(), synced(sa)
	client := rig.NewClient(1)
	sent := make(map[string]time.Time, o.others)
	for i := range o.others {
		n := o.backlog + i
		d, err := rig.Sign(fleet.Secrets[b], fmt.Sprintf("msg_fair_b_%d", i), time.Now(), bodies.Invoice(n))
		if err != nil {
			return err
		}
		t0 := time.Now()
		if status, err := client.Post(ctx, url+"/"+b, d); err != nil || status != 202 {
			return fmt.Errorf("seller B's invoice %d: %d, %v", i, status, err)
		}
		sent[fmt.Sprintf("invoice.created:%d", rig.InvoiceID(n))] = t0
	}
	var lat []time.Duration
	for len(sent) > 0 {
		if time.Since(bStart) > o.timeout || ctx.Err() != nil {
			return fmt.Errorf("seller B: %d events not synced after %s", len(sent), o.timeout)
		}
		for key, t0 := range sent {
			ev, err := sbStore.Get(ctx, key)
			if err == nil && ev.State == events.StateSynced {
				lat = append(lat, time.Since(t0))
				delete(sent, key)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	bEnd, aAtBEnd := time.Now(), synced(sa)
	slices.Sort(lat)
	q := func(f float64) time.Duration {
		return lat[min(len(lat)-1, int(f*float64(len(lat))))].Round(time.Millisecond)
	}
	fmt.Fprintf(out, "B: %d invoices, webhook to synced p50 %s, p90 %s, p99 %s, max %s; all synced %s after B's first webhook\n",
		o.others, q(0.5), q(0.9), q(0.99), lat[len(lat)-1].Round(time.Millisecond), bEnd.Sub(bStart).Round(time.Millisecond))
	fmt.Fprintf(out, "A meanwhile: %d synced in %s (%.1f docs/s); %d still queued when B's last synced\n",
		aAtBEnd-aAtB, bEnd.Sub(bStart).Round(time.Millisecond), float64(aAtBEnd-aAtB)/bEnd.Sub(bStart).Seconds(), int64(o.backlog)-aAtBEnd)

	// A's drain to the end.
	for synced(sa) < int64(o.backlog) {
		if time.Since(start) > o.timeout || ctx.Err() != nil {
			c, _ := sa.Counts(ctx)
			return fmt.Errorf("seller A: not drained after %s; states %v", o.timeout, c)
		}
		time.Sleep(200 * time.Millisecond)
	}
	all := time.Since(start)
	fmt.Fprintf(out, "A: all %d synced %s after its first webhook (%.1f docs/s end to end)\n",
		o.backlog, all.Round(time.Millisecond), float64(o.backlog)/all.Seconds())

	st, err := rig.DatabaseState(ctx, sb.URL, a)
	if err != nil {
		return err
	}
	stB, err := rig.DatabaseState(ctx, sb.URL, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sandbox: database A %d fakturs (rate-limited answers %d), database B %d fakturs (rate-limited answers %d)\n",
		len(st.Invoices), st.Calls["rate_limited"], len(stB.Invoices), stB.Calls["rate_limited"])
	if len(st.Invoices) != o.backlog || len(stB.Invoices) != o.others {
		return fmt.Errorf("the sandbox holds %d and %d fakturs, want %d and %d", len(st.Invoices), len(stB.Invoices), o.backlog, o.others)
	}
	return nil
}
