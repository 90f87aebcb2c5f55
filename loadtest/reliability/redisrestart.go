package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/wait"
)

// runRedisRestart runs the service on a private redis-server with
// append-only persistence (fsync every second) and restarts that Redis
// twice during intake and once more while the queue drains: SIGTERM, two
// seconds down, then started again on the same port and directory.
// Deliveries answered 503 meanwhile are retried by the sender, as Forstok
// would; every event the service accepted must sync. Accurate is slowed to
// 100 ms a call and the service to 4 workers so that the drain lasts.
func runRedisRestart(ctx context.Context, l *lab, res *result) error {
	return redisRestarts(ctx, l, res, "redis-restart", syscall.SIGTERM)
}

// runRedisKill is redis-restart with SIGKILL: Redis gets no chance to
// finish anything, and what it had acknowledged must still be in its
// append-only file (written before each answer, fsynced every second).
func runRedisKill(ctx context.Context, l *lab, res *result) error {
	return redisRestarts(ctx, l, res, "redis-kill", syscall.SIGKILL)
}

func redisRestarts(ctx context.Context, l *lab, res *result, name string, sig syscall.Signal) error {
	rs, err := l.newRedisServer(name)
	if err != nil {
		return err
	}
	defer rs.close()
	if err := rs.start(ctx); err != nil {
		return err
	}
	return restartsDuringLoad(ctx, l, res, name, sig, rs, stageOptions{redisURL: rs.url()})
}

// restarter is a Redis (a server, or one node of a Cluster) a scenario
// stops and starts again.
type restarter interface {
	stop(sig syscall.Signal) error
	start(ctx context.Context) error
}

// pairLoad is 300 invoices and their payments, interleaved, being
// delivered by 8 senders over about 12 s to a service whose Accurate
// answers in 100 ms and which has 4 workers, so that intake and the drain
// last long enough for a fault to fall inside each.
type pairLoad struct {
	r    *stage
	in   *intake
	all  []expectation
	n    int
	done chan struct{} // closed when intake ends
}

func (l *lab) startPairLoad(ctx context.Context, res *result, name string, o stageOptions) (*pairLoad, error) {
	o.faults = sandbox.Faults{Latency: 100 * time.Millisecond}
	o.env = map[string]string{"WORKER_CONCURRENCY": "4"}
	r, err := l.startStage(ctx, name, o)
	if err != nil {
		return nil, err
	}
	p := &pairLoad{r: r, in: newIntake(), n: l.n(300), done: make(chan struct{})}
	var items []outgoing
	items, p.all = interleavedPairs(r.send, p.n)
	res.events = len(p.all)
	go func() {
		defer close(p.done)
		r.deliverPaced(ctx, items, 8, 2*time.Minute, 12*time.Second/time.Duration(len(items)), p.in)
	}()
	return p, nil
}

// restartsDuringLoad restarts rs twice during intake and once while the
// queue drains, with the service on the Redis that o names.
func restartsDuringLoad(ctx context.Context, l *lab, res *result, name string, sig syscall.Signal, rs restarter, o stageOptions) error {
	p, err := l.startPairLoad(ctx, res, name, o)
	if err != nil {
		return err
	}
	defer p.r.close(ctx)
	r, in, all, n, intakeDone := p.r, p.in, p.all, p.n, p.done
	var downs []string
	restart := func() error {
		if err := rs.stop(sig); err != nil {
			return err
		}
		stopped := time.Now()
		answered, posted := in.answered(), len(r.sb.Invoices())+len(r.sb.Receipts())
		if err := wait.Sleep(ctx, 2*time.Second); err != nil {
			return err
		}
		if err := rs.start(ctx); err != nil {
			return err
		}
		downs = append(downs, fmt.Sprintf("%s at %d answers and %d documents", time.Since(stopped).Round(100*time.Millisecond), answered, posted))
		return nil
	}
	for _, share := range []int{3, 2} { // after a third, then after two thirds
		if !waitAnswered(ctx, in, 2*n/share, intakeDone) {
			break
		}
		if err := restart(); err != nil {
			return err
		}
	}
	<-intakeDone
	res.absorb(in)
	res.expect(len(downs) == 2, "Redis was restarted %d times during intake, want 2", len(downs))
	// Once more while the workers are busy: half the documents posted.
	for len(r.sb.Invoices())+len(r.sb.Receipts()) < len(all)/2 {
		if err := wait.Sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	if err := restart(); err != nil {
		return err
	}
	res.notef("%s down %s; deliveries answered 503 and sent again: %d; connection errors: %d",
		redisName(o), strings.Join(downs, ", "), in.unavailable, in.unreachable)
	// A 503 says nothing was recorded, so its retry should be a 202; a 200
	// means the event was taken after all (the answer, not the write, was
	// lost). Harmless, since the key holds, but worth knowing.
	taken := 0
	for _, statuses := range in.perKey {
		if statuses[http.StatusAccepted] == 0 && statuses[http.StatusOK] > 0 {
			taken++
		}
	}
	res.notef("events never answered 202 but 200 on a retry (taken although the answer was an error): %d", taken)

	return r.allPairsSynced(ctx, res, in, all, n)
}

// allPairsSynced waits for the n invoices and n payments the service took
// and expects every one synced once, each faktur paid, and no panic.
func (r *stage) allPairsSynced(ctx context.Context, res *result, in *intake, all []expectation, n int) error {
	_, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 5*time.Minute)
	if err != nil {
		return err
	}
	expectEachOnce(res, st, n, len(all))
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	res.notef("service log: %s", logSummary(r.svc.Log()))
	return nil
}

// logSummary counts the service log's warnings and errors by message, the
// most frequent first: the errors the faults made the service see.
func logSummary(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	counts := map[string]int{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e struct{ Level, Msg, Error string }
		if json.Unmarshal(line, &e) != nil || (e.Level != "warn" && e.Level != "error") {
			continue
		}
		counts[fmt.Sprintf("%s %q (%s)", e.Level, e.Msg, firstLine(e.Error, 80))]++
	}
	if len(counts) == 0 {
		return "no warnings or errors"
	}
	msgs := make([]string, 0, len(counts))
	for m := range counts {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool { return counts[msgs[i]] > counts[msgs[j]] })
	out := make([]string, 0, 8)
	for _, m := range msgs[:min(len(msgs), 8)] {
		out = append(out, fmt.Sprintf("%d× %s", counts[m], m))
	}
	if len(msgs) > 8 {
		out = append(out, fmt.Sprintf("and %d other messages", len(msgs)-8))
	}
	return strings.Join(out, "; ")
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// interleavedPairs is invoice i then payment i, so that intake lasts.
func interleavedPairs(s *sender, n int) ([]outgoing, []expectation) {
	pairs, all := invoicesThenPayments(s, n)
	items := make([]outgoing, 0, len(pairs))
	for i := range n {
		items = append(items, pairs[i], pairs[n+i])
	}
	return items, all
}

func redisName(o stageOptions) string {
	if o.cluster != "" {
		return "the Cluster master"
	}
	return "Redis"
}

// waitAnswered waits until at least n deliveries were answered; false when
// intake ended first.
func waitAnswered(ctx context.Context, in *intake, n int, done <-chan struct{}) bool {
	for in.answered() < n {
		select {
		case <-done:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}
