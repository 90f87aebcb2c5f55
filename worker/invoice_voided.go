package worker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// processInvoiceVoided: invoice.voided → the faktur is deleted
// (sales-invoice/delete.do), with the rules of the lifecycle in their order:
// an invoice.created that has not posted never will; a faktur that is
// unpaid is deleted; one paid only by a penerimaan of this service loses
// that penerimaan first; one whose penerimaan pays other fakturs too is
// left alone and the void fails, naming them.
func (w *Worker) processInvoiceVoided(ctx context.Context, rec events.Event, ev forstok.Event) outcome {
	if w.Orders == nil {
		return fail(events.Failure{Kind: events.FailOther, Hint: "Run the service with its event store (Config.Orders), then replay this event"},
			"this worker keeps no order memory (Config.Orders): voids cannot be processed")
	}
	v := ev.Void
	number := v.Order.LocalName
	createdKey := forstok.KeyFor(forstok.TypeInvoiceCreated, v.ID)

	// The mark first: from now on the invoice.created cannot start posting.
	if err := w.Orders.MarkVoided(ctx, v.ID, rec.Key); err != nil {
		return retry("marking invoice %d voided: %v", v.ID, err)
	}
	previous, err := w.Orders.VoidUnposted(ctx, createdKey, rec.Key)
	if err != nil {
		return retry("stopping %s: %v", createdKey, err)
	}
	if previous == events.StateProcessing {
		// It may be posting right now; look again when it has finished.
		return retry("%s is being posted right now; the void runs again when it has finished", createdKey)
	}

	found, exists, err := w.Accurate.FindSalesInvoice(ctx, number)
	if err != nil {
		return w.classify("looking up", "faktur "+number, err)
	}
	if !exists {
		out := synced(accurate.SavedDocument{Number: number})
		out.note = fmt.Sprintf("faktur %s is not in Accurate: nothing to delete", number)
		if previous != "" && previous != events.StateSynced {
			out.note = fmt.Sprintf("%s (was %s) will never post; faktur %s is not in Accurate: nothing to delete", createdKey, previous, number)
		}
		return out
	}

	receipts, out, ok := w.receiptsPayingOnly(ctx, number)
	if !ok {
		return out
	}
	for _, r := range receipts {
		if err := w.Accurate.DeleteSalesReceipt(ctx, r); err != nil && !accurate.IsNotFound(err) {
			return w.deleteRefused("penerimaan "+r, err)
		}
	}
	if err := w.Accurate.DeleteSalesInvoice(ctx, number); err != nil && !accurate.IsNotFound(err) {
		return w.deleteRefused("faktur "+number, err)
	}
	if err := w.Orders.ForgetFaktur(ctx, number); err != nil {
		return retry("forgetting the total of deleted faktur %s: %v", number, err)
	}
	out = synced(accurate.SavedDocument{ID: found.ID, Number: number})
	out.note = "faktur " + number + " deleted"
	if len(receipts) > 0 {
		out.note = fmt.Sprintf("penerimaan %s (paying only this faktur) deleted, then faktur %s", strings.Join(receipts, ", "), number)
	}
	return out
}

// receiptsPayingOnly lists this service's penerimaan that pay the faktur,
// each of which must pay it alone; otherwise ok is false and the outcome
// says which penerimaan also pays which other fakturs.
func (w *Worker) receiptsPayingOnly(ctx context.Context, faktur string) (only []string, out outcome, ok bool) {
	paidBy, err := w.Orders.PaidBy(ctx, faktur)
	if err != nil {
		return nil, retry("reading the penerimaan of faktur %s: %v", faktur, err), false
	}
	slices.Sort(paidBy)
	var shared, sharing []string
	for _, r := range paidBy {
		d, err := w.Accurate.SalesReceiptDetail(ctx, r)
		if accurate.IsNotFound(err) {
			continue // deleted in Accurate already
		}
		if err != nil {
			return nil, w.classify("reading", "penerimaan "+r, err), false
		}
		var others []string
		for _, inv := range d.DetailInvoice {
			if inv.InvoiceNo != faktur {
				others = append(others, inv.InvoiceNo)
			}
		}
		if len(others) > 0 {
			shared = append(shared, fmt.Sprintf("penerimaan %s also settles faktur %s", r, strings.Join(others, ", ")))
			sharing = append(sharing, "penerimaan "+r)
			continue
		}
		only = append(only, r)
	}
	if len(shared) > 0 {
		return nil, fail(events.Failure{Kind: events.FailVoid, Record: records(sharing...),
			Hint: "Decide in Accurate: delete that penerimaan (and book the other fakturs' payment again), then replay this void; or keep the faktur and credit it by hand"},
			"faktur %s was not deleted: %s", faktur, strings.Join(shared, "; ")), false
	}
	return only, outcome{}, true
}

// deleteRefused words a failed delete: Accurate's refusals (a closed
// period, a faktur a retur uses) need the seller; anything else is retried.
func (w *Worker) deleteRefused(what string, err error) outcome {
	switch accurate.ClassOf(err) {
	case accurate.ClassValidation, accurate.ClassDuplicate, accurate.ClassNotFound:
		return fail(events.Failure{Kind: events.FailAccurate, Record: what, AccurateMessage: accurateWords(err),
			Hint: "Resolve it in Accurate (reopen the period, delete the retur that uses it), then replay this void"},
			"Accurate refused to delete %s: %s", what, err)
	}
	return w.classify("deleting", ""+what, err)
}

// voidOf is the void of an invoice, when the worker keeps order memory.
func (w *Worker) voidOf(ctx context.Context, invoiceID int64) (string, bool, error) {
	if w.Orders == nil {
		return "", false, nil
	}
	return w.Orders.VoidOf(ctx, invoiceID)
}
