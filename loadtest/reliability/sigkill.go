package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/wait"
)

// runSigkill SIGKILLs the service every 2 to 4 seconds while invoices and
// payments arrive (20 a second) and are posted, restarting it each time.
// Deliveries that meet a dead service are retried, as Forstok would.
// Accurate is slowed to 200 ms a call and the service to 4 workers so that
// every kill lands on work in flight. Tasks a killed worker held come back
// when their 30 s lease runs out. The limiter's in-flight slots are set well
// above the workers, because a killed process's slots stay taken for their
// 60 s lease (see kill-stall) and would otherwise stall the next process.
func runSigkill(ctx context.Context, l *lab, res *result) error {
	n := l.n(300)
	r, err := l.startStage(ctx, "sigkill", stageOptions{
		faults: sandbox.Faults{Latency: 200 * time.Millisecond},
		env:    map[string]string{"WORKER_CONCURRENCY": "4", "ACCURATE_MAX_CONCURRENCY": "100"},
	})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	items, all := invoicesThenPayments(r.send, n)
	res.events = len(all)

	in := newIntake()
	intakeDone := make(chan struct{})
	go func() {
		defer close(intakeDone)
		r.deliverPaced(ctx, items, 8, 2*time.Minute, 50*time.Millisecond, in)
	}()
	kills, killErr := r.killRepeatedly(ctx, intakeDone, 2*n, 10)
	<-intakeDone
	res.absorb(in)
	if killErr != nil {
		return killErr
	}
	res.notef("%d SIGKILLs, restarted each time; documents at Accurate at each kill: %s", len(kills), strings.Join(kills, ", "))
	res.notef("deliveries that met a dead service and were sent again: %d; answered 200 (accepted before the kill, answer lost): %d",
		in.unreachable, in.byStatus[200])
	wantKills := 5
	if l.quick {
		wantKills = 1 // a tenth of the events is drained in a few seconds
	}
	res.expect(len(kills) >= wantKills, "only %d kills happened; the run wants at least %d", len(kills), wantKills)

	states, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 5*time.Minute)
	if err != nil {
		return err
	}
	expectEachOnce(res, st, n, len(all))
	res.notef("attempts per event: %s; saves %d for %d documents", attemptSpread(states, all),
		st.Calls["sales-invoice/save"]+st.Calls["sales-receipt/save"], len(st.Invoices)+len(st.Receipts))
	return nil
}

// killRepeatedly SIGKILLs and restarts the service every 2-4 s until it has
// killed it most times, or intake is over and Accurate holds all the
// documents (there is nothing left to interrupt). It returns the number of
// documents Accurate held at each kill.
func (r *stage) killRepeatedly(ctx context.Context, intakeDone <-chan struct{}, documents, most int) ([]string, error) {
	var kills []string
	for len(kills) < most {
		if err := wait.Sleep(ctx, 2*time.Second+rand.N(2*time.Second)); err != nil {
			return kills, err
		}
		held := len(r.sb.Invoices()) + len(r.sb.Receipts())
		select {
		case <-intakeDone:
			if held >= documents {
				return kills, nil
			}
		default:
		}
		if err := r.svc.Signal(syscall.SIGKILL); err != nil {
			return kills, err
		}
		kills = append(kills, fmt.Sprint(held))
		if err := r.svc.Start(ctx); err != nil {
			return kills, fmt.Errorf("restart after kill %d: %w", len(kills), err)
		}
	}
	return kills, nil
}
