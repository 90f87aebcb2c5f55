package worker

import (
	"context"
	"fmt"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// processPaymentReceived: payment.received → penerimaan penjualan.
func (w *Worker) processPaymentReceived(ctx context.Context, rec events.Event, ev forstok.Event) outcome {
	p := ev.Payment
	if out, stop := w.payingVoided(ctx, p); stop {
		return out
	}
	out := w.syncReceipt(ctx, rec, p)
	if out.state == events.StateSynced {
		// A void decides from this record: without it, the penerimaan
		// would be unknown to the void of a faktur it pays. The next
		// attempt finds the penerimaan in Accurate and notes it again.
		if err := w.Orders.NotePaid(ctx, out.doc.Number, mapping.InvoiceNumbers(p)); err != nil {
			return retry("noting the fakturs penerimaan %s settles: %v", out.doc.Number, err)
		}
	}
	return out
}

// payingVoided fails a payment that settles a voided invoice, naming every
// one: its faktur will never come, so waiting for it is pointless.
func (w *Worker) payingVoided(ctx context.Context, p *forstok.Payment) (outcome, bool) {
	var voided, fakturs []string
	for _, inv := range p.Invoices {
		voidKey, ok, err := w.voidOf(ctx, inv.ID)
		if err != nil {
			return retry("reading whether invoice %d was voided: %v", inv.ID, err), true
		}
		if ok {
			voided = append(voided, fmt.Sprintf("invoice %d (faktur %s) was voided by %s", inv.ID, inv.Order.LocalName, voidKey))
			fakturs = append(fakturs, "faktur "+inv.Order.LocalName)
		}
	}
	if len(voided) == 0 {
		return outcome{}, false
	}
	return fail(events.Failure{Kind: events.FailInvoice, Record: records(fakturs...),
		Hint: "Book this payout by hand in Accurate, or have Forstok send the payment without the voided invoice"},
		"%s: its faktur will never be in Accurate", strings.Join(voided, "; ")), true
}

// syncReceipt posts the penerimaan of a payment.received event, once every
// faktur it pays is in Accurate.
func (w *Worker) syncReceipt(ctx context.Context, rec events.Event, p *forstok.Payment) outcome {
	number := mapping.ReceiptNumber(p)
	if rec.Attempts > 1 {
		found, ok, err := w.Accurate.FindSalesReceipt(ctx, number)
		if err != nil {
			return w.classify("looking up", "penerimaan "+number, err)
		}
		if ok {
			return synced(withNumber(found, number))
		}
	}
	owing := map[string]money.Amount{}
	for _, invoiceNo := range mapping.InvoiceNumbers(p) {
		total, ok, err := w.Orders.FakturTotal(ctx, invoiceNo)
		if err != nil {
			return retry("reading the recorded total of faktur %s: %v", invoiceNo, err)
		}
		if ok {
			owing[invoiceNo] = money.Amount(total)
			continue
		}
		invoices := invoiceKeys(p, invoiceNo)
		if w.ownInvoicePending(ctx, invoiceNo, invoices...) {
			// Our own invoice event will post it and wake this payment:
			// asking Accurate now would spend a request to hear "not yet".
			return w.waitForFaktur(ctx, invoiceNo, "payment", invoices...)
		}
		detail, err := w.Accurate.SalesInvoiceDetail(ctx, invoiceNo)
		if accurate.IsNotFound(err) {
			return w.waitForFaktur(ctx, invoiceNo, "payment", invoices...)
		}
		if err != nil {
			return w.classify("reading", "faktur "+invoiceNo, err)
		}
		owing[invoiceNo] = detail.PrimeOwing
	}
	doc, err := w.Mapping.SalesReceipt(p, owing)
	if err != nil {
		return mappingFailure(err)
	}
	saved, err := w.Accurate.SaveSalesReceipt(ctx, &doc)
	switch {
	case accurate.IsDuplicate(err):
		found, ok, ferr := w.Accurate.FindSalesReceipt(ctx, number)
		if ferr != nil {
			return w.classify("looking up", "penerimaan "+number, ferr)
		}
		if !ok {
			return retry("Accurate says penerimaan %s exists but does not list it yet", number)
		}
		return synced(withNumber(found, number))
	case accurate.IsNotFound(err) && mentionsAny(err, mapping.InvoiceNumbers(p)):
		out := retry("Accurate does not know a faktur this payment settles yet: %v", err)
		out.waiting = true
		out.waitsFor = firstMentioned(err, mapping.InvoiceNumbers(p))
		return out
	case err != nil:
		return w.classify("", "penerimaan "+number, err)
	}
	return synced(withNumber(saved, number))
}

// invoiceKeys are the keys of the invoice.created events of the payment's
// invoices whose order is the faktur: the events that would post it.
func invoiceKeys(p *forstok.Payment, faktur string) []string {
	var keys []string
	for _, inv := range p.Invoices {
		if inv.Order.LocalName == faktur {
			keys = append(keys, forstok.KeyFor(forstok.TypeInvoiceCreated, inv.ID))
		}
	}
	return keys
}

// ownInvoicePending reports whether an invoice event of this service owns
// the faktur's number, or is one of the invoices (keys) accepted and not yet
// posted, and has not finished: the faktur is not in Accurate yet (the event
// saves it before it finishes). A store that does not answer leaves the
// question to Accurate.
func (w *Worker) ownInvoicePending(ctx context.Context, faktur string, invoices ...string) bool {
	inv, ok := w.fakturOwner(ctx, faktur, invoices...)
	if !ok {
		return false
	}
	switch inv.State {
	case events.StateQueued, events.StateProcessing, events.StateRetrying:
		return true
	}
	return false
}

// fakturOwner is the invoice event of this service that claimed the
// faktur's number or, before any claimed it, the first of invoices (event
// keys) that was accepted: an invoice still queued has claimed nothing yet.
// False when none is known, or the store does not answer.
func (w *Worker) fakturOwner(ctx context.Context, faktur string, invoices ...string) (events.Event, bool) {
	owner, ok, err := w.Orders.NumberOwner(ctx, "faktur", faktur)
	if err != nil {
		return events.Event{}, false
	}
	if ok {
		inv, err := w.Store.Get(ctx, owner)
		return inv, err == nil
	}
	for _, key := range invoices {
		if inv, err := w.Store.Get(ctx, key); err == nil {
			return inv, true
		}
	}
	return events.Event{}, false
}

// waitForFaktur words the wait of an event for a faktur not in Accurate
// (kind says which: "payment", "return"): by what became of the invoice
// event that owns the number, so that an event behind a failed invoice says
// which one to fix. invoices are the keys of the invoice events that would
// post the faktur, when the waiting event knows them.
func (w *Worker) waitForFaktur(ctx context.Context, number, kind string, invoices ...string) outcome {
	out := retry("faktur %s is not in Accurate yet: no invoice.created for it has reached this service; "+
		"the %s waits for it"+invoiceWaitNote, number, kind).
		pending(events.Failure{Kind: events.FailInvoice, Record: "faktur " + number,
			Hint: "Have Forstok send the invoice.created of faktur " + number + " (or post the faktur in Accurate), then replay this event"})
	out.waiting = true
	out.waitsFor = number
	inv, ok := w.fakturOwner(ctx, number, invoices...)
	if !ok {
		return out
	}
	owner := inv.Key
	switch inv.State {
	case events.StateFailed:
		out.failure.Hint = fmt.Sprintf("Fix %s and replay it, then replay this event", owner)
		out.reason = fmt.Sprintf("faktur %s is not in Accurate because its invoice event %s failed: %s. "+
			"Fix that and replay %s; this %s follows on its next attempt", number, owner, inv.LastError, owner, kind)
	case events.StateSynced:
		out.failure.Hint = fmt.Sprintf("If faktur %s was deleted in Accurate, replay %s to post it again, then replay this event", number, owner)
		out.reason = fmt.Sprintf("faktur %s is not in Accurate although its invoice event %s synced it: if it was deleted in Accurate, "+
			"replay %s to post it again; this %s follows on its next attempt", number, owner, owner, kind)
	default:
		// Accepted and not posted yet: nothing is wrong, the invoice event
		// posts the faktur and wakes this one.
		out.failure.Hint = fmt.Sprintf("Nothing to do while %s is %s: it posts faktur %s, then this %s follows", owner, inv.State, number, kind)
		out.reason = fmt.Sprintf("faktur %s is not in Accurate yet: its invoice event %s is %s (accepted, not posted yet); the %s waits for it",
			number, owner, inv.State, kind)
	}
	return out
}
