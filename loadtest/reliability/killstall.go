package main

import (
	"context"
	"syscall"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/wait"
)

// runKillStall measures what one SIGKILL costs when the limiter's in-flight
// slots equal the workers (as the defaults, 8 and 8): the killed process's
// slots stay taken until their lease runs out, so the restarted service
// cannot call Accurate until then. Nothing may be lost or duplicated.
func runKillStall(ctx context.Context, l *lab, res *result) error {
	n := l.n(100)
	r, in, all, err := l.startDelivered(ctx, res, "kill-stall", stageOptions{
		faults: sandbox.Faults{Latency: 200 * time.Millisecond},
		env:    map[string]string{"WORKER_CONCURRENCY": "4", "ACCURATE_MAX_CONCURRENCY": "4"},
	}, 8, invoicesOf(n))
	if err != nil {
		return err
	}
	defer r.close(ctx)

	for len(r.sb.Invoices()) < n/10 {
		if err := wait.Sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	if err := r.svc.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	held := len(r.sb.Invoices())
	if err := r.svc.Start(ctx); err != nil {
		return err
	}
	// The longest time without a new faktur, from the restart until all
	// are posted.
	restarted := time.Now()
	last, lastAt, longest := held, restarted, time.Duration(0)
	for last < n && time.Since(restarted) < 3*time.Minute {
		if err := wait.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
		if now := len(r.sb.Invoices()); now > last {
			longest = max(longest, time.Since(lastAt))
			last, lastAt = now, time.Now()
		}
	}
	longest = max(longest, time.Since(lastAt))
	res.notef("killed with %d of %d fakturs posted; after the restart the longest time without a new faktur was %s (all posted %s after the restart)",
		held, n, longest.Round(100*time.Millisecond), time.Since(restarted).Round(100*time.Millisecond))

	if _, _, err := r.finish(ctx, res, acknowledgedOf(in, all), 4*time.Minute); err != nil {
		return err
	}
	res.expect(res.counts.synced == n, "%d of %d events synced", res.counts.synced, n)
	return nil
}
