package main

import (
	"context"
	"net/http"
	"time"
)

// runRaces delivers every invoice ten times at once from 32 goroutines:
// the ten copies of an event are handed out one after another, so they are
// in flight together. Exactly one delivery per event may be accepted.
func runRaces(ctx context.Context, l *lab, res *result) error {
	n, copies := l.n(1000), 10
	r, err := l.startStage(ctx, "races", stageOptions{})
	if err != nil {
		return err
	}
	defer r.close(ctx)

	var items []outgoing
	var all []expectation
	for i := range n {
		body := invoiceBody(i, "KAOS-HTM-L")
		retry := r.send.newDelivery(body)
		for c := range copies {
			// Forstok's own retries keep the message id; a resend as a new
			// message does not. Both must be one event.
			d := retry
			if c%2 == 1 {
				d = r.send.newDelivery(body)
			}
			items = append(items, outgoing{key: invoiceKey(i), d: d})
		}
		all = append(all, expectation{key: invoiceKey(i), kind: faktur, number: invoiceNumber(i)})
	}
	res.events = n

	in := newIntake()
	start := time.Now()
	r.deliverAll(ctx, items, 32, time.Minute, in)
	took := time.Since(start)
	res.absorb(in)
	res.notef("%d deliveries from 32 goroutines in %s (%.0f/s)", len(items), took.Round(time.Millisecond), float64(len(items))/took.Seconds())

	res.expect(in.byStatus[http.StatusAccepted] == n, "%d deliveries accepted (202), want %d", in.byStatus[http.StatusAccepted], n)
	res.expect(in.byStatus[http.StatusOK] == n*(copies-1), "%d duplicates (200), want %d", in.byStatus[http.StatusOK], n*(copies-1))
	for status, times := range in.byStatus {
		res.expect(status == http.StatusAccepted || status == http.StatusOK, "%d deliveries answered %d", times, status)
	}
	twice := 0
	for _, statuses := range in.perKey {
		if statuses[http.StatusAccepted] != 1 {
			twice++
		}
	}
	res.expect(twice == 0, "%d events were not accepted exactly once", twice)

	_, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 3*time.Minute)
	if err != nil {
		return err
	}
	res.expect(len(st.Invoices) == n, "Accurate holds %d fakturs, want %d", len(st.Invoices), n)
	res.notef("Accurate holds %d fakturs; sales-invoice/save was called %d times", len(st.Invoices), st.Calls["sales-invoice/save"])
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}
