package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runBigPayment syncs 10,000 fakturs, then sends one payment settling all
// of them (about 0.8 MB, inside the 1 MiB limit) and reports how the
// service and Accurate deal with it and how long it takes.
func runBigPayment(ctx context.Context, l *lab, res *result) error {
	n := l.n(10000)
	r, err := l.startStage(ctx, "big-payment", stageOptions{})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	items, sales := invoices(r.send, n)
	in := newIntake()
	start := time.Now()
	r.deliverAll(ctx, items, 32, time.Minute, in)
	if _, _, err := r.admin.settle(ctx, keysOf(sales), 5*time.Minute, nil); err != nil {
		return err
	}
	res.notef("%d invoices accepted and synced in %s", n, time.Since(start).Round(time.Second))

	const id = 990001
	body := bigPayment(id, n)
	key, number := fmt.Sprintf("payment.received:%d", id), fmt.Sprintf("FP-%d", id)
	sent := time.Now()
	a, t, err := r.send.deliver(ctx, r.send.newDelivery(body), time.Minute)
	in.record(key, a.status, t, err)
	res.absorb(in)
	if err != nil {
		return err
	}
	res.notef("the payment (%d bytes, %d invoices) was answered %d in %s: %s", len(body), n, a.status, time.Since(sent).Round(time.Millisecond), clip(string(a.body), 200))
	res.expect(a.status == http.StatusAccepted, "the payment was answered %d, want 202", a.status)

	all := append(sales, expectation{key: key, kind: penerimaan, number: number})
	res.events = len(all)
	states, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 5*time.Minute)
	if err != nil {
		return err
	}
	ev := states[key]
	res.notef("the payment ended %s after %d attempts, %s after it was sent: %s", ev.State, ev.Attempts,
		time.Since(sent).Round(time.Second), clip(ev.LastError, 300))
	if len(st.Receipts) == 1 {
		res.notef("Accurate holds one penerimaan with %d faktur lines", len(st.Receipts[0].DetailInvoice))
	}
	owing := unpaid(st, numbers(n, invoiceNumber))
	res.notef("fakturs still owing: %d of %d", len(owing), n)
	return nil
}
