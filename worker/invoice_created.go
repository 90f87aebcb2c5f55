package worker

import (
	"context"

	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// processInvoiceCreated: invoice.created → faktur penjualan.
func (w *Worker) processInvoiceCreated(ctx context.Context, rec events.Event, ev forstok.Event) outcome {
	// A void that came first wins: this invoice must never post. The void
	// sets its mark before it looks at this event's state, and this event
	// is "processing" before it reads the mark, so one of them sees the other.
	voidKey, voided, err := w.voidOf(ctx, ev.Invoice.ID)
	if err != nil {
		return retry("reading whether invoice %d was voided: %v", ev.Invoice.ID, err)
	}
	if voided {
		return outcome{state: events.StateVoided, voidedBy: voidKey,
			reason: "its invoice was voided (" + voidKey + ") before its faktur was posted; nothing to do"}
	}
	out := w.syncInvoice(ctx, rec, ev.Invoice)
	if out.state == events.StateSynced {
		if err := w.Orders.NotePosted(ctx, out.doc.Number, rec.Key); err != nil {
			w.Logger.Warn("could not note which event posted the faktur; a return of it will read the faktur from Accurate",
				zap.String("event_key", rec.Key), zap.Error(err))
		}
	}
	return out
}

// syncInvoice posts the faktur of an invoice.created event.
func (w *Worker) syncInvoice(ctx context.Context, rec events.Event, inv *forstok.Invoice) outcome {
	doc, err := w.Mapping.SalesInvoice(inv)
	if err != nil {
		return mappingFailure(err)
	}
	if out, ok := w.claim(ctx, rec, "faktur", doc.Number); !ok {
		return out
	}
	if rec.Attempts > 1 {
		// An earlier attempt may have saved it and lost the answer.
		found, ok, err := w.Accurate.FindSalesInvoice(ctx, doc.Number)
		if err != nil {
			return w.classify("looking up", "faktur "+doc.Number, err)
		}
		if ok {
			return w.invoiceSynced(ctx, found, doc)
		}
	}
	saved, err := w.Accurate.SaveSalesInvoice(ctx, &doc)
	if accurate.IsNotFound(err) {
		// An item or the customer may be missing in Accurate.
		out, again := w.supplyMissing(ctx, rec, inv, doc, err)
		if !again {
			return out
		}
		saved, err = w.Accurate.SaveSalesInvoice(ctx, &doc)
	}
	if accurate.IsDuplicate(err) {
		found, ok, ferr := w.Accurate.FindSalesInvoice(ctx, doc.Number)
		switch {
		case ferr != nil:
			return w.classify("looking up", "faktur "+doc.Number, ferr)
		case !ok:
			return retry("Accurate says faktur %s exists but does not list it yet", doc.Number)
		}
		return w.invoiceSynced(ctx, found, doc)
	}
	if err != nil {
		return w.classify("", "faktur "+doc.Number, err)
	}
	return w.invoiceSynced(ctx, saved, doc)
}

// invoiceSynced remembers the faktur's total so that its payment needs no
// detail.do call.
func (w *Worker) invoiceSynced(ctx context.Context, saved accurate.SavedDocument, doc accurate.SalesInvoice) outcome {
	if saved.Number == "" {
		saved.Number = doc.Number
	}
	if saved.TotalAmount > 0 {
		if err := w.Orders.RememberFaktur(ctx, saved.Number, int64(saved.TotalAmount)); err != nil {
			w.Logger.Warn("could not remember the faktur total; its payment will ask Accurate", zap.String("accurate_number", saved.Number), zap.Error(err))
		}
	}
	return synced(saved)
}
