// Command intake measures webhook intake: signed, distinct invoice.created
// deliveries from a fixed number of keep-alive connections (closed loop),
// against the service and then against a bare Echo handler in this process
// that only reads the body and answers 202, the ceiling this machine and
// this generator allow. It also measures the same service's GET /healthz
// the same way, in the same run: the ceiling of the service's own HTTP,
// with no body, signature or Redis. It prints accepted/s, latency
// quantiles, the non-202 answers and the CPU each process spent per
// request.
//
//	go run ./loadtest/intake                      # builds and starts sandbox + service
//	REDIS_CLUSTER_ADDRS=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 go run ./loadtest/intake  # the service on a Redis Cluster
//	go run ./loadtest/intake -workers 8           # with the default worker pool draining
//	go run ./loadtest/intake -against http://127.0.0.1:8090 -pid <pid> -pprof cpu.pprof  # see loadtest/edge
//
// Every body and signature is made before the timed part, so the generator
// spends its CPU on HTTP only. Keys go under a fresh Redis namespace that is
// deleted afterwards.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/loadtest/internal/rig"
)

type options struct {
	conns    int
	duration time.Duration
	warmup   time.Duration
	max      int
	against  string
	workers  int
	rig.Target
	secret string
	bare   bool
	pprof  string
	pid    int
	keep   bool
	rounds int
}

func main() {
	var o options
	flag.IntVar(&o.conns, "c", 64, "concurrent connections")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "measured time per target")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each measured run")
	flag.IntVar(&o.max, "max", 200_000, "distinct deliveries made before the run (the service run stops early if it uses them all)")
	flag.StringVar(&o.against, "against", "binary", `"binary": build and start the sandbox and the service; or the URL of a running service (e.g. loadtest/edge)`)
	flag.IntVar(&o.workers, "workers", 1, "WORKER_CONCURRENCY of the started service (binary)")
	o.Target.Flags()
	flag.StringVar(&o.secret, "secret", os.Getenv("FORSTOK_WEBHOOK_SECRET"), "webhook secret of a service given by URL")
	flag.BoolVar(&o.bare, "bare", true, "also measure the bare Echo handler (the ceiling)")
	flag.StringVar(&o.pprof, "pprof", "", "fetch a CPU profile of the measured run from the target's /debug/pprof/profile into this file (loadtest/edge)")
	flag.IntVar(&o.pid, "pid", 0, "process id of a target given by URL, to report its CPU")
	flag.BoolVar(&o.keep, "keep", false, "keep the run's Redis keys")
	flag.IntVar(&o.rounds, "rounds", 5, "the measured time of the service and of its /healthz is cut into this many slices each, measured in turn (1: the service, then /healthz)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "intake:", err)
		os.Exit(1)
	}
}

// target is what the service run posts to, and the process whose CPU it
// spends (0: this one, or unknown).
type target struct {
	url   string
	base  string // the service's root URL
	pid   int
	close func()
}

func run(ctx context.Context, o options, out io.Writer) error {
	rdb, err := rig.OpenRedis(o.RedisURL, o.Cluster)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	defer rdb.Close()
	creds := rig.NewCredentials()
	ns := rig.Namespace("intake")

	var tgt target
	switch o.against {
	case "binary":
		tgt, err = startBinary(ctx, o, rdb, creds, ns)
	default:
		if o.secret == "" {
			return errors.New("-secret (or FORSTOK_WEBHOOK_SECRET) is needed to sign for a service given by URL")
		}
		creds.Webhook = o.secret
		tgt = target{url: o.against + "/webhooks/forstok", base: o.against, pid: o.pid, close: func() {}}
	}
	if err != nil {
		return err
	}
	defer func() {
		tgt.close() // first, so nothing writes after the keys are dropped
		// A service given by URL has its own namespace: nothing of ours to drop.
		if !o.keep && o.against == "binary" {
			if _, err := events.DropNamespace(context.WithoutCancel(ctx), rdb, ns); err != nil {
				fmt.Fprintln(out, "cleanup:", err)
			}
		}
	}()

	fmt.Fprintf(out, "machine: %d CPUs, %s, %s\n", runtime.NumCPU(), rig.Machine(ctx, rdb), runtime.Version())
	fmt.Fprintf(out, "making %d signed deliveries...\n", o.max)
	bodies, err := rig.NewBodies(strconv.FormatInt(time.Now().Unix()%100000, 10))
	if err != nil {
		return err
	}
	deliveries := make([]rig.Delivery, o.max)
	now := time.Now()
	for i := range deliveries {
		d, err := rig.Sign(creds.Webhook, fmt.Sprintf("msg_intake_%d", i), now, bodies.Invoice(i))
		if err != nil {
			return err
		}
		deliveries[i] = d
	}
	fmt.Fprintf(out, "body %d bytes; %d connections; warm-up %s, measured %s\n",
		len(deliveries[0].Body), o.conns, o.warmup, o.duration)

	client := rig.NewClient(o.conns)
	load := &rig.Load{Client: client, URLs: []string{tgt.url}, Conns: o.conns, Deliveries: deliveries}
	// The same service's /healthz, the same way, in the same run.
	healthClient := rig.NewClient(o.conns)
	healthLoad := &rig.Load{Client: healthClient, URLs: []string{tgt.base + "/healthz"}, Conns: o.conns, Deliveries: deliveries, Wrap: true, Get: true}
	profile := ""
	if o.pprof != "" {
		profile = o.against + "/debug/pprof/profile"
	}
	svc, health, err := inTurn(ctx, o, load, healthLoad, rdb, tgt.pid, profile)
	if err != nil {
		return err
	}
	report(out, "service ("+describe(o)+")", svc)
	report(out, "the same service's GET /healthz (its 200s counted as accepted)", health)
	client.CloseIdle()
	healthClient.CloseIdle()
	fmt.Fprintf(out, "\nservice intake / its /healthz = %.0f / %.0f = %.2f (%s)\n", svc.PerSecond(), health.PerSecond(), svc.PerSecond()/health.PerSecond(), svc.slices)

	if !o.bare {
		return nil
	}
	bareURL, closeBare, err := startBare()
	if err != nil {
		return err
	}
	defer closeBare()
	load = &rig.Load{Client: rig.NewClient(o.conns), URLs: []string{bareURL}, Conns: o.conns, Deliveries: deliveries, Wrap: true}
	bare, err := measure(ctx, o, load, rdb, 0, "")
	if err != nil {
		return err
	}
	report(out, "bare Echo handler, in the generator's process", bare)
	fmt.Fprintf(out, "\nservice / bare = %.0f / %.0f = %.2f\n", svc.PerSecond(), bare.PerSecond(), svc.PerSecond()/bare.PerSecond())
	fmt.Fprintf(out, "service / its /healthz = %.0f / %.0f = %.2f\n", svc.PerSecond(), health.PerSecond(), svc.PerSecond()/health.PerSecond())
	return nil
}

func describe(o options) string {
	switch o.against {
	case "binary":
		on := "one Redis"
		if o.Cluster != "" {
			on = "a Redis Cluster"
		}
		return fmt.Sprintf("the built binary on %s, WORKER_CONCURRENCY=%d %s, sandbox at Accurate's limits", on, o.workers, o.Env)
	}
	return o.against
}

// measured is one target's run with the CPU each process spent on it.
type measured struct {
	rig.Result
	selfCPU, targetCPU, redisCPU, machineCPU time.Duration
	slices                                   string // how the run was cut, for the report
}

// add is m and n measured as one run.
func (m measured) add(n measured) measured {
	m.Result = m.Result.Add(n.Result)
	m.selfCPU += n.selfCPU
	m.targetCPU += n.targetCPU
	m.redisCPU += n.redisCPU
	m.machineCPU += n.machineCPU
	return m
}

// inTurn measures the service's intake and its /healthz in o.rounds slices
// each, taken in turn after one warm-up of each: on a shared machine whose
// speed changes during a run (its neighbours'), a slow spell then weighs on
// both alike instead of on whichever ran during it. A CPU profile, when
// asked for, covers one slice of intake as long as the whole.
func inTurn(ctx context.Context, o options, intake, health *rig.Load, rdb redis.UniversalClient, pid int, profileURL string) (svc, hz measured, err error) {
	rounds := max(o.rounds, 1)
	if profileURL != "" {
		rounds = 1
	}
	slice := o.duration / time.Duration(rounds)
	_, next := intake.Run(ctx, o.warmup, 0)
	health.Run(ctx, o.warmup, 0)
	for r := 0; r < rounds && ctx.Err() == nil && !svc.RanOut; r++ {
		var m measured
		m, next, err = measureFor(ctx, o, intake, slice, next, rdb, pid, profileURL)
		if err != nil {
			return svc, hz, err
		}
		svc = svc.add(m)
		m, _, err = measureFor(ctx, o, health, slice, 0, rdb, pid, "")
		if err != nil {
			return svc, hz, err
		}
		hz = hz.add(m)
	}
	svc.slices = fmt.Sprintf("%d slices of %s each, in turn", rounds, slice)
	return svc, hz, ctx.Err()
}

// measure warms up, then runs the timed part.
func measure(ctx context.Context, o options, load *rig.Load, rdb redis.UniversalClient, pid int, profileURL string) (measured, error) {
	_, next := load.Run(ctx, o.warmup, 0)
	if ctx.Err() != nil {
		return measured{}, ctx.Err()
	}
	m, _, err := measureFor(ctx, o, load, o.duration, next, rdb, pid, profileURL)
	return m, err
}

// measureFor runs load for d from delivery next, taking CPU readings
// around it (and the target's CPU profile from profileURL, when given), and
// returns where it stopped.
func measureFor(ctx context.Context, o options, load *rig.Load, d time.Duration, next int, rdb redis.UniversalClient, pid int, profileURL string) (measured, int, error) {
	var m measured
	self0, redis0 := rig.SelfCPU(), redisCPU(ctx, rdb)
	machine0, _ := rig.MachineCPU()
	var target0 time.Duration
	if pid != 0 {
		target0, _ = rig.ProcCPU(pid)
	}
	profiled := make(chan error, 1)
	if profileURL != "" {
		go func() { profiled <- fetchProfile(ctx, profileURL, d, o.pprof) }()
	}
	m.Result, next = load.Run(ctx, d, next)
	if profileURL != "" {
		if err := <-profiled; err != nil {
			return m, next, err
		}
	}
	m.selfCPU = rig.SelfCPU() - self0
	m.redisCPU = redisCPU(ctx, rdb) - redis0
	machine1, _ := rig.MachineCPU()
	m.machineCPU = machine1 - machine0
	if pid != 0 {
		t1, _ := rig.ProcCPU(pid)
		m.targetCPU = t1 - target0
	}
	return m, next, ctx.Err()
}

func redisCPU(ctx context.Context, rdb redis.UniversalClient) time.Duration {
	d, _ := rig.RedisCPU(ctx, rdb)
	return d
}

func report(out io.Writer, name string, m measured) {
	fmt.Fprintf(out, "\n%s\n", name)
	fmt.Fprintf(out, "  sent %d in %s: %d accepted (202) = %.0f/s\n", m.Sent, m.Elapsed.Round(time.Millisecond), m.Accepted, m.PerSecond())
	fmt.Fprintf(out, "  latency p50 %s  p99 %s  p99.9 %s  max %s\n",
		m.Quantile(.50).Round(time.Microsecond), m.Quantile(.99).Round(time.Microsecond),
		m.Quantile(.999).Round(time.Microsecond), m.Quantile(1).Round(time.Microsecond))
	fmt.Fprintf(out, "  other answers: %s\n", m.Others())
	if m.RanOut {
		fmt.Fprintf(out, "  (stopped early: every prepared delivery was used; raise -max)\n")
	}
	if n := m.Sent; n > 0 {
		per := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(n)) }
		fmt.Fprintf(out, "  CPU per request: generator process %s", per(m.selfCPU))
		if m.targetCPU > 0 {
			fmt.Fprintf(out, ", service process %s", per(m.targetCPU))
		}
		fmt.Fprintf(out, ", redis %s", per(m.redisCPU))
		if others := m.machineCPU - m.selfCPU - m.targetCPU - m.redisCPU; others > 0 {
			fmt.Fprintf(out, ", everything else on the machine %s", per(others))
		}
		fmt.Fprintf(out, " (of %.0f µs wall × %d CPUs)\n", float64(m.Elapsed.Microseconds())/float64(n), runtime.NumCPU())
	}
}

// startBinary builds the commands and starts the sandbox (at Accurate's
// limits, so the workers barely compete) and one replica.
func startBinary(ctx context.Context, o options, rdb redis.UniversalClient, creds rig.Credentials, ns string) (target, error) {
	root, err := rig.Root()
	if err != nil {
		return target{}, err
	}
	dir, err := os.MkdirTemp("", "fas-intake-")
	if err != nil {
		return target{}, err
	}
	bins, err := rig.Build(ctx, root, dir)
	if err != nil {
		return target{}, err
	}
	sb, err := rig.StartSandbox(ctx, dir, bins, creds, rig.SandboxOptions{RateLimit: 8, Concurrency: 8})
	if err != nil {
		return target{}, err
	}
	env, err := o.Settings()
	if err != nil {
		return target{}, err
	}
	env["WORKER_CONCURRENCY"] = strconv.Itoa(o.workers)
	svc, err := rig.StartService(ctx, dir, bins, creds, rig.ServiceOptions{
		RedisURL: o.RedisURL, ClusterAddrs: o.Cluster, Namespace: ns, AccurateURL: sb.URL,
		MappingFile: root + "/examples/mapping.yaml", Env: env,
	})
	if err != nil {
		sb.Stop(5 * time.Second)
		return target{}, err
	}
	return target{url: svc.URL + "/webhooks/forstok", base: svc.URL, pid: svc.Pid(), close: func() {
		svc.Stop(30 * time.Second)
		sb.Stop(5 * time.Second)
		_ = os.RemoveAll(dir)
	}}, nil
}

// fetchProfile saves the target's CPU profile over d into file.
func fetchProfile(ctx context.Context, url string, d time.Duration, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"?seconds="+strconv.Itoa(int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s answered %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile: %w", err)
	}
	return f.Close()
}

// startBare serves the ceiling: Echo reading the body and answering 202
// with a small JSON body, nothing else.
func startBare() (string, func(), error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/webhooks/forstok", func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, map[string]string{"status": "accepted", "key": "invoice.created:0"})
	})
	url, closeFn, err := serveOn(e)
	return url + "/webhooks/forstok", closeFn, err
}

// serveOn serves h on a fresh 127.0.0.1 port with the service's server
// settings.
func serveOn(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
