package worker

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/reconcile"
)

// returnLockTTL bounds how long one return of a faktur keeps the others of
// the same faktur waiting, should its worker die holding the lock.
const returnLockTTL = 2 * time.Minute

// processReturnCreated: return.created → retur penjualan RJ-<id> against
// the faktur, at the faktur's prices. Returns of one faktur run one at a
// time (a lock per faktur), because each one's share of the discounts
// depends on what the earlier ones gave back.
func (w *Worker) processReturnCreated(ctx context.Context, rec events.Event, ev forstok.Event) outcome {
	r := ev.Return
	faktur := r.Order.LocalName
	number := returnNumber(r)

	unlock, ok, err := w.Orders.Lock(ctx, "return:"+faktur, returnLockTTL)
	if err != nil {
		return retry("locking the returns of faktur %s: %v", faktur, err)
	}
	if !ok {
		return retry("another return of faktur %s is being posted; this one follows", faktur)
	}
	defer unlock()

	sold, out, ok := w.soldBy(ctx, faktur)
	if !ok {
		return out
	}
	recorded, err := w.Orders.ReturnsOf(ctx, faktur)
	if err != nil {
		return retry("reading the earlier returns of faktur %s: %v", faktur, err)
	}
	prior, bad := priorReturns(recorded, faktur, number)
	if bad != nil {
		return *bad
	}
	doc, returned, err := w.Mapping.SalesReturn(r, sold, prior)
	if err != nil {
		return mappingFailure(err)
	}
	day, line := reconcile.ReturnFiling(w.Mapping, rec.Key, r, doc)
	w.fileDay(ctx, w.Logger.With(zap.String("event_key", rec.Key)), day, line)

	var saved accurate.SavedDocument
	found := false
	if rec.Attempts > 1 {
		saved, found, err = w.Accurate.FindSalesReturn(ctx, number)
		if err != nil {
			return w.classify("looking up", "retur "+number, err)
		}
	}
	if !found {
		saved, err = w.Accurate.SaveSalesReturn(ctx, &doc)
		switch {
		case accurate.ClassOf(err) == accurate.ClassDuplicate:
			f, ok, ferr := w.Accurate.FindSalesReturn(ctx, number)
			if ferr != nil {
				return w.classify("looking up", "retur "+number, ferr)
			}
			if !ok {
				return retry("Accurate says retur %s exists but does not list it yet", number)
			}
			saved = f
		case accurate.IsNotFound(err) && strings.Contains(err.Error(), faktur):
			return w.waitForFaktur(ctx, faktur, "return")
		case err != nil:
			return w.classify("", "retur "+number, err)
		}
	}
	what, _ := json.Marshal(returned) // plain data: cannot fail
	if err := w.Orders.RecordReturn(ctx, faktur, number, what); err != nil {
		return retry("recording what retur %s gave back: %v", number, err)
	}
	// What the faktur owes changed: a payment must ask Accurate.
	if err := w.Orders.ForgetFaktur(ctx, faktur); err != nil {
		return retry("forgetting the old total of faktur %s: %v", faktur, err)
	}
	return synced(withNumber(saved, number))
}

// priorReturns reads what the earlier returns of a faktur gave back, from
// their records (recorded, by retur number), leaving out this return's own
// (number) from an earlier attempt; an unreadable record is the failure.
func priorReturns(recorded map[string][]byte, faktur, number string) ([]mapping.Returned, *outcome) {
	var prior []mapping.Returned
	for n, raw := range recorded {
		if n == number {
			continue
		}
		var p mapping.Returned
		if err := json.Unmarshal(raw, &p); err != nil {
			// Replaying the return that posted it finds its retur in
			// Accurate and writes its record again.
			out := fail(events.Failure{Kind: events.FailOther, Record: "retur " + n, Hint: "Replay " + returnKeyOf(n) + ", which posted retur " + n + ", then this event"},
				"the record of retur %s of faktur %s is unreadable (%v)", n, faktur, err)
			return nil, &out
		}
		prior = append(prior, p)
	}
	return prior, nil
}

// soldBy is what the faktur sold: from the invoice.created this service
// posted it from, else from Accurate's detail.do. A faktur not in Accurate
// yet makes the return wait, as a payment does.
func (w *Worker) soldBy(ctx context.Context, faktur string) (mapping.Sold, outcome, bool) {
	if sold, out, ok, decided := w.soldByOwnInvoice(ctx, faktur); decided {
		return sold, out, ok
	}
	detail, err := w.Accurate.SalesInvoiceDetail(ctx, faktur)
	if accurate.IsNotFound(err) {
		return mapping.Sold{}, w.waitForFaktur(ctx, faktur, "return"), false
	}
	if err != nil {
		return mapping.Sold{}, w.classify("reading", "faktur "+faktur, err), false
	}
	// Our invoice event may have claimed and posted the faktur while
	// detail.do was on its way: what detail.do read may be ours, and it
	// cannot give back a bundle. The claim comes before the post, so a
	// second look now sees it.
	if sold, out, ok, decided := w.soldByOwnInvoice(ctx, faktur); decided {
		return sold, out, ok
	}
	return mapping.SoldByDetail(detail), outcome{}, true
}

// soldByOwnInvoice is what the faktur sold according to the invoice.created
// of this service that claimed or posted it; decided is false when no event
// of ours did, and the faktur is to be read from Accurate.
func (w *Worker) soldByOwnInvoice(ctx context.Context, faktur string) (sold mapping.Sold, out outcome, ok, decided bool) {
	key, posted, err := w.Orders.PostedBy(ctx, faktur)
	if err != nil {
		return mapping.Sold{}, retry("reading which event posted faktur %s: %v", faktur, err), false, true
	}
	if !posted {
		// The invoice event claims its number before it posts and notes the
		// post after: in between, Accurate may already hold the faktur.
		// Our own invoice event is the source; wait for it to finish.
		owner, claimed, err := w.Orders.NumberOwner(ctx, "faktur", faktur)
		if err != nil {
			return mapping.Sold{}, retry("reading which event claims faktur %s: %v", faktur, err), false, true
		}
		if !claimed {
			return mapping.Sold{}, outcome{}, false, false
		}
		inv, err := w.Store.Get(ctx, owner)
		if err != nil {
			return mapping.Sold{}, retry("reading %s: %v", owner, err), false, true
		}
		if inv.State != events.StateSynced && inv.State != events.StateVoided {
			return mapping.Sold{}, w.waitForFaktur(ctx, faktur, "return"), false, true
		}
		key = owner
	}
	stored, err := w.Store.Get(ctx, key)
	if err != nil {
		return mapping.Sold{}, retry("reading %s: %v", key, err), false, true
	}
	inv, err := w.Decoder.Decode(stored.Payload)
	if err != nil || inv.Invoice == nil {
		return mapping.Sold{}, outcome{}, false, false // not readable as an invoice: Accurate is the source
	}
	if voidKey, voided, err := w.Orders.VoidOf(ctx, inv.Invoice.ID); err == nil && voided {
		return mapping.Sold{}, fail(events.Failure{Kind: events.FailInvoice, Record: "faktur " + faktur, Hint: "Book the return by hand in Accurate if goods came back"},
			"faktur %s was voided by %s: there is nothing to return against", faktur, voidKey), false, true
	}
	sold, err = w.Mapping.SoldByInvoice(inv.Invoice)
	if err != nil {
		return mapping.Sold{}, mappingFailure(err), false, true
	}
	return sold, outcome{}, true, true
}
