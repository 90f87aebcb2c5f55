package main

import (
	"context"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/wait"
)

// atAccuratesLimits are the service settings of the scenarios that keep to
// Accurate's own limits (8 requests a second, 8 in flight) with the
// service's default worker pool, so that documents go in bulk as they would
// for a seller.
func atAccuratesLimits() map[string]string {
	return map[string]string{"ACCURATE_RATE_LIMIT": "8", "ACCURATE_MAX_CONCURRENCY": "8", "WORKER_CONCURRENCY": "200"}
}

// runBulkFaults posts invoices and their payments, in bulk at Accurate's
// limits, while Accurate answers 500, 502 or 503 to 30% of calls and drops
// the answer of 10% of the saves it carried out, bulk requests included,
// for the whole run; nobody replays anything. Every event must end as
// exactly one document.
func runBulkFaults(ctx context.Context, l *lab, res *result) error {
	n := l.n(2000)
	r, in, all, err := l.startDelivered(ctx, res, "bulk-faults",
		stageOptions{faults: sandbox.Faults{ErrorRate: 0.3, LoseRate: 0.1}, env: atAccuratesLimits()}, 16, pairsOf(n))
	if err != nil {
		return err
	}
	defer r.close(ctx)
	_, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 15*time.Minute)
	if err != nil {
		return err
	}
	res.notef("Accurate answered %d calls with a 5xx and dropped the answer of %d requests whose saves it had carried out", st.Calls["fault_5xx"], st.Calls["lost"])
	expectEachOnce(res, st, n, len(all))
	res.notef("in all: %d bulk-save.do, %d list.do, %d detail.do, %d save.do for %d documents",
		st.Calls["sales-invoice/bulk-save"]+st.Calls["sales-receipt/bulk-save"], st.Calls["sales-invoice/list"]+st.Calls["sales-receipt/list"],
		st.Calls["sales-invoice/detail"], st.Calls["sales-invoice/save"]+st.Calls["sales-receipt/save"], len(st.Invoices)+len(st.Receipts))
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}

// runOutage delivers invoices and their payments while Accurate answers
// every call with a 5xx, keeps it down for outageFor so that the events'
// backoffs grow to minutes, then brings it back: everything must be synced
// within a minute of Accurate answering again, each document once.
func runOutage(ctx context.Context, l *lab, res *result) error {
	n := l.n(2000)
	outageFor := 5 * time.Minute
	if l.quick {
		outageFor = 30 * time.Second
	}
	r, err := l.startStage(ctx, "outage", stageOptions{faults: sandbox.Faults{ErrorRate: 1}, env: atAccuratesLimits()})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	down := time.Now()
	items, all := invoicesThenPayments(r.send, n)
	res.events = len(all)
	in := r.deliverAbsorbed(ctx, items, 16, res)
	accepted := acknowledgedOf(in, all)
	if err := wait.Sleep(ctx, max(outageFor-time.Since(down), time.Millisecond)); err != nil {
		return err
	}
	calls := r.sb.Calls()
	r.sb.SetFaults(sandbox.Faults{})
	res.notef("Accurate down for %s: %d calls answered with a 5xx", outageFor, calls["fault_5xx"])
	_, st, err := r.finish(ctx, res, accepted, 5*time.Minute)
	if err != nil {
		return err
	}
	res.notef("everything settled %s after Accurate answered again", res.settle.Round(time.Second))
	res.expect(res.settle <= time.Minute, "settled %s after Accurate answered again; want within a minute", res.settle.Round(time.Second))
	expectEachOnce(res, st, n, len(all))
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}

// expectEachOnce checks that every event synced and Accurate holds n
// fakturs and n penerimaan, every faktur paid in full; it returns the
// fakturs still owing.
func expectEachOnce(res *result, st sandbox.State, n, events int) []string {
	res.expect(res.counts.synced == events, "%d of %d events synced", res.counts.synced, events)
	res.expect(len(st.Invoices) == n && len(st.Receipts) == n, "Accurate holds %d fakturs and %d penerimaan, want %d each", len(st.Invoices), len(st.Receipts), n)
	owing := unpaid(st, numbers(n, invoiceNumber))
	res.expect(len(owing) == 0, "%d fakturs not fully paid, e.g. %s", len(owing), firstOr(owing, ""))
	return owing
}
