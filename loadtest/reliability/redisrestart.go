package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
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
	n := l.n(300)
	rs, err := l.newRedisServer(name)
	if err != nil {
		return err
	}
	defer rs.close()
	if err := rs.start(ctx); err != nil {
		return err
	}
	r, err := l.startStage(ctx, name, stageOptions{
		redisURL: rs.url(),
		faults:   sandbox.Faults{Latency: 100 * time.Millisecond},
		env:      map[string]string{"WORKER_CONCURRENCY": "4"},
	})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	// Invoice i then payment i, so that intake lasts across both restarts.
	pairs, all := invoicesThenPayments(r.send, n)
	items := make([]outgoing, 0, len(pairs))
	for i := range n {
		items = append(items, pairs[i], pairs[n+i])
	}
	res.events = len(all)

	in := newIntake()
	intakeDone := make(chan struct{})
	go func() {
		defer close(intakeDone)
		// Spread over about 12 s, so that both restarts fall inside intake.
		r.deliverPaced(ctx, items, 8, 2*time.Minute, 12*time.Second/time.Duration(len(items)), in)
	}()
	var downs []string
	restart := func() error {
		if err := rs.stop(sig); err != nil {
			return err
		}
		stopped := time.Now()
		answered, posted := in.answered(), len(r.sb.Invoices())+len(r.sb.Receipts())
		if err := sleep(ctx, 2*time.Second); err != nil {
			return err
		}
		if err := rs.start(ctx); err != nil {
			return err
		}
		downs = append(downs, fmt.Sprintf("%s at %d answers and %d documents", time.Since(stopped).Round(100*time.Millisecond), answered, posted))
		return nil
	}
	for _, share := range []int{3, 2} { // after a third, then after two thirds
		if !waitAnswered(ctx, in, len(items)/share, intakeDone) {
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
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	if err := restart(); err != nil {
		return err
	}
	res.notef("Redis down %s; deliveries answered 503 and sent again: %d; connection errors: %d",
		strings.Join(downs, ", "), in.unavailable, in.unreachable)
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

	_, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 5*time.Minute)
	if err != nil {
		return err
	}
	res.expect(res.counts.synced == len(all), "%d of %d events synced", res.counts.synced, len(all))
	res.expect(len(st.Invoices) == n && len(st.Receipts) == n, "Accurate holds %d fakturs and %d penerimaan, want %d each", len(st.Invoices), len(st.Receipts), n)
	owing := unpaid(st, numbers(n, invoiceNumber))
	res.expect(len(owing) == 0, "%d fakturs not fully paid, e.g. %s", len(owing), firstOr(owing, ""))
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
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
