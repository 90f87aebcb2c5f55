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
	return w.syncInvoice(ctx, rec, ev.Invoice)
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
			return classify("looking up faktur "+doc.Number, err)
		}
		if ok {
			return w.invoiceSynced(ctx, found, doc)
		}
	}
	saved, err := w.Accurate.SaveSalesInvoice(ctx, &doc)
	if accurate.IsDuplicate(err) {
		found, ok, ferr := w.Accurate.FindSalesInvoice(ctx, doc.Number)
		switch {
		case ferr != nil:
			return classify("looking up faktur "+doc.Number, ferr)
		case !ok:
			return retry("Accurate says faktur %s exists but does not list it yet", doc.Number)
		}
		return w.invoiceSynced(ctx, found, doc)
	}
	if err != nil {
		return classify("faktur "+doc.Number, err)
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
		if err := w.Store.RememberFaktur(ctx, saved.Number, int64(saved.TotalAmount)); err != nil {
			w.Logger.Warn("could not remember the faktur total; its payment will ask Accurate", zap.String("accurate_number", saved.Number), zap.Error(err))
		}
	}
	return synced(saved)
}
