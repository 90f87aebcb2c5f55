package worker

import (
	"context"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
)

// postsDuringDetail runs posting once, while the first detail.do of a
// faktur is on its way: the race of a return with its own invoice event.
type postsDuringDetail struct {
	Accurate
	posting func()
}

func (a *postsDuringDetail) SalesInvoiceDetail(ctx context.Context, number string) (accurate.InvoiceDetail, error) {
	if p := a.posting; p != nil {
		a.posting = nil
		p()
	}
	return a.Accurate.SalesInvoiceDetail(ctx, number)
}

// TestAReturnRacingItsFakturReadsTheBundleFromTheInvoice: a return that
// looked for our invoice event just before it claimed the faktur, and then
// found the faktur in Accurate, must still take what was sold from the
// invoice (detail.do cannot give back a bundle's parts).
func TestAReturnRacingItsFakturReadsTheBundleFromTheInvoice(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	store := events.New(rdb, events.Config{Namespace: r.Namespace}).Seller(events.DefaultSeller)
	_, sb := testaccurate.Serve(t, sandbox.Config{})
	client := testaccurate.Client(t, accurate.Config{Host: sb.URL, ReadAttempts: 1})
	acc := &postsDuringDetail{Accurate: client}
	w := New(withStore(Config{Accurate: acc, Mapping: exampleSettings(t)}, rdb, store))

	begin := func(file string) (events.Event, forstok.Event) {
		in, ev := acceptExample(t, store, w, file)
		rec, err := store.Begin(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return rec, ev
	}
	acc.posting = func() {
		rec, ev := begin("invoice-created-tokopedia-bundle.json")
		out := w.processInvoiceCreated(ctx, rec, ev)
		if out.state != events.StateSynced {
			t.Fatalf("the invoice ended %s: %s", out.state, out.reason)
		}
		if err := store.Finish(ctx, rec.Key, events.Result{State: events.StateSynced, AccurateNumber: out.doc.Number}); err != nil {
			t.Fatal(err)
		}
	}
	rec, ev := begin("return-created-tokopedia.json")
	if out := w.processReturnCreated(ctx, rec, ev); out.state != events.StateSynced {
		t.Fatalf("the return ended %s: %s; want synced against the bundle of its invoice", out.state, out.reason)
	}
}
