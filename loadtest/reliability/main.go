// Command reliability runs fault, crash and abuse scenarios against the
// built forstok-accurate-sync, with the Accurate sandbox in this process and
// Redis on 127.0.0.1, and ends with a table of counts per scenario:
// accepted, synced, failed, lost and duplicated at Accurate.
//
//	go run ./loadtest/reliability -scenario all
//	go run ./loadtest/reliability -scenario races,abuse
//	go run ./loadtest/reliability -scenario faults -quick   # a tenth of the events
//
// docs/reliability.md has the figures of a full run and what each scenario
// proves.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"forstok-accurate-sync/loadtest/internal/rig"
)

// scenario is one run; it reports its counts and what it noticed.
type scenario struct {
	name string
	what string
	run  func(ctx context.Context, l *lab, res *result) error
}

var scenarios = []scenario{
	{"races", "10 racing deliveries of each invoice", runRaces},
	{"faults", "Accurate answers 5xx to 30% of calls and loses 10% of save answers", runFaults},
	{"sigkill", "the service SIGKILLed every few seconds mid-run, restarted each time", runSigkill},
	{"kill-stall", "one SIGKILL with the limiter's slots equal to the workers: how long the next process waits", runKillStall},
	{"redis-restart", "Redis (AOF everysec) stopped and restarted during intake", runRedisRestart},
	{"redis-kill", "as redis-restart, but Redis is SIGKILLed", runRedisKill},
	{"cluster-restart", "a 3-master Redis Cluster (AOF everysec): one master SIGKILLed and restarted during intake and drain", runClusterRestart},
	{"cluster-reshard", "a 3-master Redis Cluster: slots moved with redis-cli --cluster reshard during intake and drain", runClusterReshard},
	{"payments-first", "payments delivered before their invoices", runPaymentsFirst},
	{"mapping-fix", "a store missing from the mapping, fixed, then replayed", runMappingFix},
	{"abuse", "forged, stale, oversized, nested, malformed and slow requests", runAbuse},
	{"big-payment", "one payment settling 10,000 fakturs that exist", runBigPayment},
	{"admin-list", "paging through GET /admin/events lists every event once", runAdminList},
	{"bulk-faults", "bulk posting at Accurate's limits with 30% 5xx and 10% lost answers throughout, no replay", runBulkFaults},
	{"outage", "Accurate down for 5 minutes while events arrive, then back: everything synced within a minute", runOutage},
}

// result is one scenario's row and notes.
type result struct {
	name       string
	events     int // distinct events sent
	deliveries int // webhook POSTs that got an answer
	in         *intake
	counts     counts
	elapsed    time.Duration
	settle     time.Duration
	notes      []string
	problems   []string // what the scenario expected and did not see
}

func (r *result) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// expect records a problem unless ok.
func (r *result) expect(ok bool, format string, args ...any) {
	if !ok {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

func (r *result) ok() bool {
	return len(r.problems) == 0 && r.counts.lost == 0 && r.counts.duplicated == 0
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	fs.SetOutput(stderr)
	which := fs.String("scenario", "all", "all, or a comma-separated list of: "+names())
	redisURL := fs.String("redis", rig.EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "the shared Redis; each scenario uses its own namespace and deletes it after")
	quick := fs.Bool("quick", false, "a tenth of the events, for a smoke run")
	keep := fs.Bool("keep", false, "keep the scratch directory (service logs, Redis files)")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	chosen, err := pick(*which)
	if err != nil {
		return 2, err
	}

	root, err := rig.Root()
	if err != nil {
		return 1, err
	}
	dir, err := os.MkdirTemp("", "fas-reliability-")
	if err != nil {
		return 1, err
	}
	if *keep {
		fmt.Fprintln(stderr, "scratch directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	logf("building the service")
	bins, err := rig.Build(ctx, root, dir)
	if err != nil {
		return 1, err
	}
	l := &lab{root: root, dir: dir, bins: bins, redisURL: *redisURL, secrets: rig.NewCredentials(), log: logf, quick: *quick}

	fmt.Fprintln(stdout, machine(ctx, *redisURL))
	var results []*result
	for _, s := range chosen {
		logf("%s: %s", s.name, s.what)
		res := &result{name: s.name}
		start := time.Now()
		err := s.run(ctx, l, res)
		res.elapsed = time.Since(start)
		if err != nil {
			res.problems = append(res.problems, "the scenario could not run to its end: "+err.Error())
		}
		logf("%s: done in %s", s.name, res.elapsed.Round(time.Second))
		results = append(results, res)
		if ctx.Err() != nil {
			break
		}
	}
	report(stdout, results)
	for _, r := range results {
		if !r.ok() {
			return 1, nil
		}
	}
	return 0, nil
}

func names() string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func pick(which string) ([]scenario, error) {
	if which == "all" {
		return scenarios, nil
	}
	var out []scenario
next:
	for _, name := range strings.Split(which, ",") {
		for _, s := range scenarios {
			if s.name == strings.TrimSpace(name) {
				out = append(out, s)
				continue next
			}
		}
		return nil, fmt.Errorf("unknown scenario %q: want all or %s", name, names())
	}
	return out, nil
}

// n scales an event count down for -quick runs.
func (l *lab) n(full int) int {
	if l.quick {
		return max(full/10, 1)
	}
	return full
}

// machine describes where the figures come from.
func machine(ctx context.Context, redisURL string) string {
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	redisVersion := "?"
	if rdb, err := rig.OpenRedis(redisURL, ""); err == nil {
		redisVersion = rig.RedisVersion(ctx, rdb)
		_ = rdb.Close()
	}
	serverVersion := "not installed"
	if out, err := exec.CommandContext(ctx, "redis-server", "--version").Output(); err == nil {
		serverVersion = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("machine: %d CPUs (nproc), %s, Linux %s, %s %s/%s, shared Redis %s, redis-server for restarts: %s, %s",
		runtime.NumCPU(), rig.CPUModel(), kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH, redisVersion, serverVersion,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

// report prints each scenario's notes and problems, then the table.
func report(w io.Writer, results []*result) {
	for _, r := range results {
		fmt.Fprintf(w, "\n## %s\n\n", r.name)
		for _, n := range r.notes {
			fmt.Fprintln(w, "- "+n)
		}
		for _, p := range r.problems {
			fmt.Fprintln(w, "- PROBLEM: "+p)
		}
		for _, why := range first(r.counts.lostWhy, 10) {
			fmt.Fprintln(w, "- lost: "+why)
		}
		for _, why := range first(r.counts.dupWhy, 10) {
			fmt.Fprintln(w, "- duplicated: "+why)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | events | deliveries | 202 | 200 | 503 | accepted | synced | failed | lost | duplicated | settle | total | result |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range results {
		var s202, s200, s503 int
		if r.in != nil {
			s202, s200, s503 = r.in.byStatus[202], r.in.byStatus[200], r.in.unavailable
		}
		verdict := "ok"
		if !r.ok() {
			verdict = "NOT OK"
		}
		c := r.counts
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s |\n",
			r.name, r.events, r.deliveries, s202, s200, s503, c.accepted, c.synced, c.failed, c.lost, c.duplicated,
			r.settle.Round(time.Second), r.elapsed.Round(time.Second), verdict)
	}
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}
