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
// left alone and the void fails, naming them. Deletes are decided closed:
// only a faktur whose number this void's own invoice.created claimed, and a
// penerimaan only when this service's record of it and Accurate's answer
// agree on the fakturs it settles; anything else fails, deleting nothing.
func (w *Worker) processInvoiceVoided(ctx context.Context, rec events.Event, ev forstok.Event) outcome {
	v := ev.Void
	number := v.Order.LocalName
	createdKey := forstok.KeyFor(forstok.TypeInvoiceCreated, v.ID)

	// The mark first: from now on the invoice.created cannot start posting.
	if err := w.Orders.MarkVoided(ctx, v.ID, rec.Key); err != nil {
		return retry("marking invoice %d voided: %v", v.ID, err)
	}
	previous, err := w.Store.VoidUnposted(ctx, createdKey, rec.Key)
	if err != nil {
		return retry("stopping %s: %v", createdKey, err)
	}
	if previous == events.StateProcessing {
		// It may be posting right now; look again when it has finished.
		return retry("%s is being posted right now; the void runs again when it has finished", createdKey)
	}

	// Whose number it is decides whether this void may delete it: only the
	// faktur its own invoice.created posted, never another invoice's or one
	// typed into Accurate by hand.
	owner, claimed, err := w.Orders.NumberOwner(ctx, "faktur", number)
	if err != nil {
		return retry("reading which event owns faktur %s: %v", number, err)
	}
	if claimed && owner != createdKey {
		return fail(events.Failure{Kind: events.FailVoid, Record: "faktur " + number,
			Hint: fmt.Sprintf("If %s is the invoice voided, void it in Forstok; if invoice %d has another faktur, replay this void with that order.local_name (POST /admin/replay)", owner, v.ID)},
			"faktur %s was not deleted: it belongs to %s, not to %s of this void", number, owner, createdKey)
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
	if !claimed {
		return fail(events.Failure{Kind: events.FailVoid, Record: "faktur " + number,
			Hint: "If this faktur is the voided order's, delete it in Accurate by hand (with its payment); this service deletes only fakturs it posted"},
			"faktur %s was not deleted: it is in Accurate, but no event of this service posted it (%s never claimed the number)", number, createdKey)
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
// each of which must pay it alone. Which fakturs a penerimaan settles comes
// from the service's record of the payment it posted, and Accurate's
// detail.do must confirm it; otherwise ok is false and the outcome says
// what did not match, or which penerimaan also pays which other fakturs.
func (w *Worker) receiptsPayingOnly(ctx context.Context, faktur string) (only []string, out outcome, ok bool) {
	paidBy, err := w.Orders.PaidBy(ctx, faktur)
	if err != nil {
		return nil, retry("reading the penerimaan of faktur %s: %v", faktur, err), false
	}
	slices.Sort(paidBy)
	var shared, sharing, unmatched, unmatching []string
	for _, r := range paidBy {
		recorded, known, err := w.Orders.Settles(ctx, r)
		if err != nil {
			return nil, retry("reading the fakturs penerimaan %s settles: %v", r, err), false
		}
		d, err := w.Accurate.SalesReceiptDetail(ctx, r)
		if accurate.IsNotFound(err) {
			continue // deleted in Accurate already: nothing of it to delete
		}
		if err != nil {
			return nil, w.classify("reading", "penerimaan "+r, err), false
		}
		if why := receiptMismatch(r, faktur, recorded, known, d); len(why) > 0 {
			unmatched = append(unmatched, why...)
			unmatching = append(unmatching, "penerimaan "+r)
			continue
		}
		if others := without(recorded, faktur); len(others) > 0 {
			shared = append(shared, fmt.Sprintf("penerimaan %s also settles faktur %s", r, strings.Join(others, ", ")))
			sharing = append(sharing, "penerimaan "+r)
			continue
		}
		only = append(only, r)
	}
	switch {
	case len(unmatched) > 0:
		return nil, fail(events.Failure{Kind: events.FailVoid, Record: records(unmatching...),
			Hint: "Check that penerimaan in Accurate: delete by hand what the void should remove, then replay this void"},
			"faktur %s was not deleted: %s", faktur, strings.Join(unmatched, "; ")), false
	case len(shared) > 0:
		return nil, fail(events.Failure{Kind: events.FailVoid, Record: records(sharing...),
			Hint: "Decide in Accurate: delete that penerimaan (and book the other fakturs' payment again), then replay this void; or keep the faktur and credit it by hand"},
			"faktur %s was not deleted: %s", faktur, strings.Join(shared, "; ")), false
	}
	return only, outcome{}, true
}

// receiptMismatch says where the service's record of penerimaan r (the
// fakturs it settles; known is false when there is none) and Accurate's
// answer d disagree about faktur and the others; nothing when they agree.
func receiptMismatch(r, faktur string, recorded []string, known bool, d accurate.ReceiptDetail) []string {
	if !known {
		return []string{fmt.Sprintf("this service has no record of which fakturs penerimaan %s settles", r)}
	}
	if len(d.DetailInvoice) == 0 {
		return []string{fmt.Sprintf("Accurate's answer for penerimaan %s does not say which fakturs it settles", r)}
	}
	listed := make([]string, 0, len(d.DetailInvoice))
	for _, inv := range d.DetailInvoice {
		listed = append(listed, inv.InvoiceNo)
	}
	var why []string
	if !slices.Contains(listed, faktur) {
		why = append(why, fmt.Sprintf("Accurate's penerimaan %s does not list faktur %s", r, faktur))
	}
	if extra := missingFrom(recorded, listed); len(extra) > 0 {
		why = append(why, fmt.Sprintf("Accurate's penerimaan %s lists faktur %s, which this service's record of the payment does not", r, strings.Join(extra, ", ")))
	}
	if lost := without(missingFrom(listed, recorded), faktur); len(lost) > 0 {
		why = append(why, fmt.Sprintf("this service's record says penerimaan %s settles faktur %s, which Accurate's does not list", r, strings.Join(lost, ", ")))
	}
	return why
}

// missingFrom lists the members of of that set lacks, sorted, once each.
func missingFrom(set, of []string) []string {
	var out []string
	for _, v := range of {
		if !slices.Contains(set, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// without is list less v, sorted.
func without(list []string, v string) []string {
	out := slices.DeleteFunc(slices.Clone(list), func(x string) bool { return x == v })
	slices.Sort(out)
	return out
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

// voidOf is the void of an invoice.
func (w *Worker) voidOf(ctx context.Context, invoiceID int64) (string, bool, error) {
	return w.Orders.VoidOf(ctx, invoiceID)
}
