package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// A preview is what an event would send to Accurate under a mapping (a
// draft the seller has not saved yet): the documents built by the code
// that posts them, reading the event store only. Nothing is claimed,
// recorded or sent: the preview never calls the worker's Accurate, which a
// worker built for previews does not even have.

// Document kinds, as the admin API names them.
const (
	KindSalesInvoice = "sales-invoice"
	KindSalesReceipt = "sales-receipt"
	KindSalesReturn  = "sales-return"
)

// Document is one document an event would make; Body is what save.do
// would be sent (the Accurate client sends it as its JSON):
// *accurate.SalesInvoice, *accurate.SalesReceipt or *accurate.SalesReturn.
type Document struct {
	Kind string `json:"kind"`
	Body any    `json:"body"`
}

// PreviewProblem is why the event would not post as shown: the mapping
// key it names (amounts.service_fee), if any, and the worker's words.
type PreviewProblem struct {
	Key     string
	Message string
}

// Previewed is a preview: the documents, and what stands in their way or
// was assumed to build them.
type Previewed struct {
	Documents []Document
	Problems  []PreviewProblem
}

// ErrNoDocument is an event whose type makes no document to preview (an
// invoice.voided deletes one).
var ErrNoDocument = errors.New("makes no Accurate document to preview: choose an invoice.created, payment.received or return.created")

// Preview builds what rec would send to save.do under w's mapping.
func (w *Worker) Preview(ctx context.Context, rec events.Event) (Previewed, error) {
	ev, err := w.Decoder.Decode(rec.Payload)
	if err != nil {
		return Previewed{}, fmt.Errorf("event %s: its payload cannot be read (%v), so it %w", rec.Key, err, ErrNoDocument)
	}
	switch {
	case ev.Invoice != nil && ev.Type == forstok.TypeInvoiceCreated:
		doc, err := w.Mapping.SalesInvoice(ev.Invoice)
		return previewed(KindSalesInvoice, &doc, err, nil)
	case ev.Payment != nil:
		if out, stop := w.payingVoided(ctx, ev.Payment); stop {
			return stopped(out), nil
		}
		owing, notes, err := w.previewOwing(ctx, ev.Payment)
		if err != nil {
			return Previewed{}, err
		}
		doc, err := w.Mapping.SalesReceipt(ev.Payment, owing)
		return previewed(KindSalesReceipt, &doc, err, notes)
	case ev.Return != nil:
		return w.previewReturn(ctx, ev.Return)
	}
	return Previewed{}, fmt.Errorf("event %s (%s) %w", rec.Key, ev.Type, ErrNoDocument)
}

// previewed is a preview of one document, or of the mapping failure that
// keeps it from being built, as the worker would record it.
func previewed(kind string, doc any, err error, notes []PreviewProblem) (Previewed, error) {
	if err != nil {
		p := stopped(mappingFailure(err))
		p.Problems = append(notes, p.Problems...)
		return p, nil
	}
	return Previewed{Documents: []Document{{Kind: kind, Body: doc}}, Problems: notes}, nil
}

// stopped is a preview of an event the worker would not post: how it
// would end instead.
func stopped(out outcome) Previewed {
	return Previewed{Problems: []PreviewProblem{{Key: out.failure.Key, Message: out.reason}}}
}

// previewOwing is what each faktur a payment settles still owes, as far as
// the service knows without asking Accurate: the total it recorded when it
// posted the faktur; else the total its own invoice event would post under
// this mapping; else the invoice total Forstok sent. The last two are
// noted, since the payment itself reads Accurate's figure.
func (w *Worker) previewOwing(ctx context.Context, p *forstok.Payment) (map[string]money.Amount, []PreviewProblem, error) {
	owing := map[string]money.Amount{}
	var notes []PreviewProblem
	for _, no := range mapping.InvoiceNumbers(p) {
		total, ok, err := w.Orders.FakturTotal(ctx, no)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the recorded total of faktur %s: %w", no, err)
		}
		if ok {
			owing[no] = money.Amount(total)
			continue
		}
		if inv, ok := w.fakturOwner(ctx, no); ok {
			if ev, err := w.Decoder.Decode(inv.Payload); err == nil && ev.Invoice != nil {
				if doc, err := w.Mapping.SalesInvoice(ev.Invoice); err == nil {
					owing[no] = doc.Total()
					notes = append(notes, PreviewProblem{Message: "faktur " + no + " is not in Accurate yet: the preview takes the total its invoice event " +
						inv.Key + " would post (Rp " + doc.Total().Format() + "); the payment waits for it"})
					continue
				}
			}
		}
		var sent money.Amount
		for _, inv := range p.Invoices {
			if inv.Order.LocalName == no {
				sent += inv.Total.Amount
			}
		}
		owing[no] = sent
		notes = append(notes, PreviewProblem{Message: "what faktur " + no + " still owes is read from Accurate when the payment posts; " +
			"a preview asks Accurate nothing, so it takes the invoice total Forstok sent (Rp " + sent.Format() + ")"})
	}
	return owing, notes, nil
}

// previewReturn builds a retur from what its faktur sold by this service's
// own invoice event, and the returns of that faktur recorded before it.
func (w *Worker) previewReturn(ctx context.Context, r *forstok.Return) (Previewed, error) {
	faktur := r.Order.LocalName
	sold, out, ok, decided := w.soldByOwnInvoice(ctx, faktur)
	switch {
	case !decided:
		return Previewed{Problems: []PreviewProblem{{Message: "faktur " + faktur + " was not posted by this service: the return reads what it sold from Accurate when it posts, which a preview does not ask"}}}, nil
	case !ok:
		return stopped(out), nil
	}
	recorded, err := w.Orders.ReturnsOf(ctx, faktur)
	if err != nil {
		return Previewed{}, fmt.Errorf("reading the earlier returns of faktur %s: %w", faktur, err)
	}
	prior, bad := priorReturns(recorded, faktur, returnNumber(r))
	if bad != nil {
		return stopped(*bad), nil
	}
	doc, _, err := w.Mapping.SalesReturn(r, sold, prior)
	return previewed(KindSalesReturn, &doc, err, nil)
}

// returnNumber is the number of the retur a return becomes.
func returnNumber(r *forstok.Return) string { return mapping.ReturNumber(r.ID) }

// returnKeyOf is the key of the return.created event that posts the retur
// number.
func returnKeyOf(number string) string {
	return forstok.TypeReturnCreated + ":" + strings.TrimPrefix(number, mapping.ReturPrefix)
}
