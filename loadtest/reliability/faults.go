package main

import (
	"context"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
)

// runFaults posts invoices and their payments while Accurate answers 500,
// 502 or 503 to 30% of data calls and drops the answer of 10% of the saves
// it carried out: every event must still end as exactly one document. The
// run's length is set by the retry backoff (2 s doubling to 10 min), not by
// the number of events: a payment's retry makes two or three calls, each
// failing 30% of the time, so a few need eight or more attempts.
func runFaults(ctx context.Context, l *lab, res *result) error {
	n := l.n(300)
	r, err := l.newRig(ctx, "faults", rigOptions{faults: sandbox.Faults{ErrorRate: 0.3, LoseRate: 0.1}})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if err := r.svc.start(ctx); err != nil {
		return err
	}
	items, all := invoicesThenPayments(r.send, n)
	res.events = len(all)

	in := newIntake()
	r.deliverAll(ctx, items, 16, time.Minute, in)
	res.absorb(in)
	states, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 30*time.Minute)
	if err != nil {
		return err
	}
	res.expect(res.counts.synced == len(all), "%d of %d events synced", res.counts.synced, len(all))
	res.expect(len(st.Invoices) == n && len(st.Receipts) == n, "Accurate holds %d fakturs and %d penerimaan, want %d each", len(st.Invoices), len(st.Receipts), n)
	owing := unpaid(st, numbers(n, invoiceNumber))
	res.expect(len(owing) == 0, "%d fakturs not fully paid, e.g. %s", len(owing), firstOr(owing, ""))
	res.notef("Accurate answered %d calls with a 5xx and dropped the answer of %d saves it had carried out; %d saves, %d look-ups (list.do), %d detail.do",
		st.Calls["fault_5xx"], st.Calls["lost"], st.Calls["sales-invoice/save"]+st.Calls["sales-receipt/save"],
		st.Calls["sales-invoice/list"]+st.Calls["sales-receipt/list"], st.Calls["sales-invoice/detail"])
	res.notef("attempts per event: %s; every faktur paid in full (LUNAS)", attemptSpread(states, all))
	res.expect(!r.svc.panicked(), "the service log shows a panic")
	return nil
}

// invoicesThenPayments is n invoices, then the n payments that settle them.
func invoicesThenPayments(s *sender, n int) ([]outgoing, []expectation) {
	var items []outgoing
	var all []expectation
	for i := range n {
		items = append(items, outgoing{key: invoiceKey(i), d: s.newDelivery(invoiceBody(i, "KAOS-HTM-L"))})
		all = append(all, expectation{key: invoiceKey(i), kind: faktur, number: invoiceNumber(i)})
	}
	for i := range n {
		items = append(items, outgoing{key: paymentKey(i), d: s.newDelivery(paymentBody(i))})
		all = append(all, expectation{key: paymentKey(i), kind: penerimaan, number: receiptNumber(i)})
	}
	return items, all
}

func numbers(n int, number func(int) string) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = number(i)
	}
	return out
}
