package main

import (
	"context"
	"strings"
	"time"

	"forstok-accurate-sync/internal/wait"
)

// runPaymentsFirst delivers every payment before its invoice: each payment
// must wait (retrying, saying its faktur is not in Accurate yet) and sync
// once the invoices have come and synced.
func runPaymentsFirst(ctx context.Context, l *lab, res *result) error {
	n := l.n(100)
	r, err := l.startStage(ctx, "payments-first", stageOptions{})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	items, all := invoicesThenPayments(r.send, n)
	invoices, payments := items[:n], items[n:]
	res.events = len(all)

	in := newIntake()
	start := time.Now()
	r.deliverAll(ctx, payments, 8, time.Minute, in)
	waiting, err := r.waitUntilWaiting(ctx, n, 60*time.Second)
	if err != nil {
		return err
	}
	res.expect(len(waiting) == n, "%d of %d payments were waiting for their faktur, want all", len(waiting), n)
	if len(waiting) > 0 {
		res.notef("%d of %d payments were retrying %s after they were sent, e.g. `%s`",
			len(waiting), n, time.Since(start).Round(100*time.Millisecond), waiting[0])
	}
	res.expect(len(r.sb.Receipts()) == 0, "Accurate holds %d penerimaan before any faktur", len(r.sb.Receipts()))

	r.deliverAll(ctx, invoices, 8, time.Minute, in)
	res.absorb(in)
	invoicesSent := time.Now()
	_, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 5*time.Minute)
	if err != nil {
		return err
	}
	res.notef("every payment synced %s after the invoices were sent (a waiting payment polls again after 5-10 s, then 10-20 s, ...)",
		time.Since(invoicesSent).Round(time.Second))
	res.expect(res.counts.synced == len(all), "%d of %d events synced", res.counts.synced, len(all))
	res.expect(len(st.Invoices) == n && len(st.Receipts) == n, "Accurate holds %d fakturs and %d penerimaan, want %d each", len(st.Invoices), len(st.Receipts), n)
	owing := unpaid(st, numbers(n, invoiceNumber))
	res.expect(len(owing) == 0, "%d fakturs not fully paid, e.g. %s", len(owing), firstOr(owing, ""))
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}

// waitUntilWaiting polls until n payments are retrying because their faktur
// is missing, and returns the reasons seen.
func (r *stage) waitUntilWaiting(ctx context.Context, n int, within time.Duration) ([]string, error) {
	deadline := time.Now().Add(within)
	for {
		evs, err := r.admin.all(ctx)
		if err != nil {
			return nil, err
		}
		var reasons []string
		for _, ev := range evs {
			if ev.Type == "payment.received" && ev.State == "retrying" && strings.Contains(ev.LastError, "not in Accurate yet") {
				reasons = append(reasons, ev.LastError)
			}
		}
		if len(reasons) >= n || time.Now().After(deadline) {
			return reasons, nil
		}
		if err := wait.Sleep(ctx, 200*time.Millisecond); err != nil {
			return reasons, err
		}
	}
}
