package worker

import (
	"context"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// processPaymentReceived: payment.received → penerimaan penjualan.
func (w *Worker) processPaymentReceived(ctx context.Context, rec events.Event, ev forstok.Event) outcome {
	return w.syncReceipt(ctx, rec, ev.Payment)
}

// syncReceipt posts the penerimaan of a payment.received event, once every
// faktur it pays is in Accurate.
func (w *Worker) syncReceipt(ctx context.Context, rec events.Event, p *forstok.Payment) outcome {
	number := mapping.ReceiptNumber(p)
	if rec.Attempts > 1 {
		found, ok, err := w.Accurate.FindSalesReceipt(ctx, number)
		if err != nil {
			return classify("looking up penerimaan "+number, err)
		}
		if ok {
			return synced(withNumber(found, number))
		}
	}
	owing := map[string]money.Amount{}
	for _, invoiceNo := range mapping.InvoiceNumbers(p) {
		total, ok, err := w.Store.FakturTotal(ctx, invoiceNo)
		if err != nil {
			return retry("reading the recorded total of faktur %s: %v", invoiceNo, err)
		}
		if ok {
			owing[invoiceNo] = money.Amount(total)
			continue
		}
		detail, err := w.Accurate.SalesInvoiceDetail(ctx, invoiceNo)
		if accurate.IsNotFound(err) {
			out := retry("faktur %s is not in Accurate yet (its invoice.created has not synced)", invoiceNo)
			out.waiting = true
			return out
		}
		if err != nil {
			return classify("reading faktur "+invoiceNo, err)
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
			return classify("looking up penerimaan "+number, ferr)
		}
		if !ok {
			return retry("Accurate says penerimaan %s exists but does not list it yet", number)
		}
		return synced(withNumber(found, number))
	case accurate.IsNotFound(err) && mentionsAny(err, mapping.InvoiceNumbers(p)):
		out := retry("Accurate does not know a faktur this payment settles yet: %v", err)
		out.waiting = true
		return out
	case err != nil:
		return classify("penerimaan "+number, err)
	}
	return synced(withNumber(saved, number))
}
