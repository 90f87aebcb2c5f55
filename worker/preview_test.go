package worker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/orders"
)

// TestPreviewReadsTheStoreOnly: a worker built without an Accurate client
// previews each kind of event (a call to Accurate would panic), taking
// what a faktur owes from what the service knows, and saying so.
func TestPreviewReadsTheStoreOnly(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	store := events.New(rdb, events.Config{Namespace: r.Namespace}).Seller(events.DefaultSeller)
	memory := orders.For(rdb, store)
	settings := exampleSettings(t)
	w := New(Config{Store: store, Orders: memory, Mapping: settings})
	accept := func(file string) events.Event {
		t.Helper()
		in, _ := acceptExample(t, store, w, file)
		rec, err := store.Get(ctx, in.Key)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	receipt := func(t *testing.T, p Previewed) *accurate.SalesReceipt {
		t.Helper()
		if len(p.Documents) != 1 || p.Documents[0].Kind != KindSalesReceipt {
			t.Fatalf("preview %+v; want one penerimaan", p)
		}
		return p.Documents[0].Body.(*accurate.SalesReceipt)
	}
	payment := accept("payment-received-shopee.json")

	t.Run("a payment of a faktur the service never saw takes the invoice total Forstok sent, and says so", func(t *testing.T) {
		p, err := w.Preview(ctx, payment)
		if err != nil {
			t.Fatal(err)
		}
		rc := receipt(t, p)
		if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Message, "asks Accurate nothing") || rc.Balance() != rc.ChequeAmount {
			t.Fatalf("problems %+v, receipt %+v", p.Problems, rc)
		}
	})
	invoice := accept("invoice-created-shopee.json")
	faktur := mapping.InvoiceNumbers(mustDecode(t, w, payment).Payment)[0]
	if _, err := memory.ClaimNumber(ctx, "faktur", faktur, invoice.Key); err != nil {
		t.Fatal(err)
	}
	t.Run("a payment of a faktur its invoice event has not posted yet takes the total that event would post", func(t *testing.T) {
		p, err := w.Preview(ctx, payment)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := settings.SalesInvoice(mustDecode(t, w, invoice).Invoice)
		rc := receipt(t, p)
		if rc.DetailInvoice[0].PaymentAmount != doc.Total() || len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Message, invoice.Key) {
			t.Fatalf("problems %+v, receipt %+v; want the faktur's total %s", p.Problems, rc, doc.Total())
		}
	})
	t.Run("a payment of a posted faktur takes its recorded total, with nothing to say", func(t *testing.T) {
		doc, _ := settings.SalesInvoice(mustDecode(t, w, invoice).Invoice)
		if err := memory.RememberFaktur(ctx, faktur, int64(doc.Total())); err != nil {
			t.Fatal(err)
		}
		p, err := w.Preview(ctx, payment)
		if err != nil {
			t.Fatal(err)
		}
		if rc := receipt(t, p); rc.DetailInvoice[0].PaymentAmount != doc.Total() || len(p.Problems) != 0 {
			t.Fatalf("problems %+v, receipt %+v", p.Problems, rc)
		}
	})
	t.Run("an invoice shows its faktur; an unmapped store is the problem, at its path", func(t *testing.T) {
		p, err := w.Preview(ctx, invoice)
		if err != nil || len(p.Documents) != 1 || p.Documents[0].Kind != KindSalesInvoice {
			t.Fatalf("preview %+v, %v", p, err)
		}
		bare, _ := mapping.Parse([]byte("stores:\n  \"1\":\n    customer_no: C\n    bank_no: \"110201\"\nwarehouses:\n  \"1\": Utama\n"))
		p, err = New(Config{Store: store, Orders: memory, Mapping: bare}).Preview(ctx, invoice)
		if err != nil || len(p.Documents) != 0 || len(p.Problems) != 1 || !strings.HasPrefix(p.Problems[0].Key, "stores.") {
			t.Fatalf("preview %+v, %v", p, err)
		}
	})
	t.Run("a return of a faktur this service did not post says the preview cannot read it", func(t *testing.T) {
		p, err := w.Preview(ctx, accept("return-created-tokopedia.json"))
		if err != nil || len(p.Documents) != 0 || len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Message, "was not posted by this service") {
			t.Fatalf("preview %+v, %v", p, err)
		}
	})
	t.Run("a void makes no document", func(t *testing.T) {
		if _, err := w.Preview(ctx, accept("invoice-voided-shopee.json")); !errors.Is(err, ErrNoDocument) {
			t.Fatalf("err = %v; want ErrNoDocument", err)
		}
	})
}

// acceptExample accepts an example webhook into the store, as the edge
// does.
func acceptExample(t *testing.T, store *events.Store, w *Worker, file string) (events.Incoming, forstok.Event) {
	t.Helper()
	raw := fixtures.Body(t, file)
	ev, err := w.Decoder.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	in := events.Incoming{Key: ev.Key(), Type: ev.Type, Payload: raw}
	if _, err := store.Accept(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return in, ev
}

func mustDecode(t *testing.T, w *Worker, rec events.Event) forstok.Event {
	t.Helper()
	ev, err := w.Decoder.Decode(rec.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
