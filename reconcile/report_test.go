package reconcile_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
	"forstok-accurate-sync/orders"
	"forstok-accurate-sync/reconcile"
)

const (
	token  = "aat.RECON-token"
	secret = "recon-signature-secret"
)

// world is one seller over real Redis and the sandbox: the service's
// records are made as the worker makes them (Begin, Finish, the day
// book), the documents posted through the real client.
type world struct {
	t        testing.TB
	redis    testredis.Redis
	rdb      *redis.Client
	store    *events.Store
	sb       *sandbox.Server
	client   *accurate.Client
	settings *mapping.Settings
	decoder  *forstok.Decoder
}

func newWorld(t *testing.T) *world { return newWorldB(t) }

// newWorldB is newWorld for a test or a benchmark.
func newWorldB(t testing.TB) *world {
	t.Helper()
	r := testredis.New(t)
	rdb := r.Client(t)
	store := events.New(rdb, events.Config{Namespace: r.Namespace}).Seller("toko-maju")
	sb, srv := testaccurate.Serve(t, sandbox.Config{APIToken: token, SignatureSecret: secret})
	client := testaccurate.Client(t, accurate.Config{Host: srv.URL, APIToken: token, SignatureSecret: secret})
	settings := fixtures.Settings(t)
	return &world{t: t, redis: r, rdb: rdb, store: store, sb: sb, client: client, settings: settings, decoder: forstok.NewDecoder()}
}

// invoice is the example Shopee invoice as invoice id, order number and
// time.
func (w *world) invoice(id int64, number, at string) (string, forstok.Event, []byte) {
	w.t.Helper()
	raw := fixtures.Body(w.t, "invoice-created-shopee.json")
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		w.t.Fatal(err)
	}
	data := body["data"].(map[string]any)
	data["id"] = id
	data["created_at"] = at
	data["order"].(map[string]any)["local_name"] = number
	out, _ := json.Marshal(body)
	ev, err := w.decoder.Decode(out)
	if err != nil {
		w.t.Fatal(err)
	}
	return forstok.KeyFor(ev.Type, id), ev, out
}

// record makes the service's record of an event, in a state, filed under
// its day as the worker files it.
func (w *world) record(key string, ev forstok.Event, payload []byte, r events.Result) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.store.Begin(ctx, events.Incoming{Key: key, Type: ev.Type, Payload: payload}); err != nil {
		w.t.Fatal(err)
	}
	if err := w.store.Finish(ctx, key, r); err != nil {
		w.t.Fatal(err)
	}
	day, line, ok := reconcile.Filing(w.settings, key, ev)
	if !ok {
		w.t.Fatalf("%s files nothing", key)
	}
	if err := w.store.FileDay(ctx, day, line); err != nil {
		w.t.Fatal(err)
	}
}

// syncedInvoice records a synced invoice.created whose faktur Accurate
// holds, and returns its number and total.
func (w *world) syncedInvoice(id int64, number, at string) (string, money.Amount) {
	w.t.Helper()
	key, ev, payload := w.invoice(id, number, at)
	doc, err := w.settings.SalesInvoice(ev.Invoice)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.client.SaveSalesInvoice(context.Background(), &doc); err != nil {
		w.t.Fatal(err)
	}
	w.record(key, ev, payload, events.Result{State: events.StateSynced, AccurateNumber: number})
	return key, doc.Total()
}

// synced records a synced event with its day line, as the worker leaves it.
func (w *world) synced(t testing.TB, day string, l events.DayLine) {
	ctx := context.Background()
	if _, err := w.store.Begin(ctx, events.Incoming{Key: l.Key, Type: "invoice.created", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.Finish(ctx, l.Key, events.Result{State: events.StateSynced}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.FileDay(ctx, day, l); err != nil {
		t.Fatal(err)
	}
}

func (w *world) report(from, to, store string) reconcile.Report {
	w.t.Helper()
	f, _ := time.Parse(time.DateOnly, from)
	t, _ := time.Parse(time.DateOnly, to)
	rep, err := reconcile.New(reconcile.Config{}).Report(context.Background(),
		reconcile.Seller{ID: "toko-maju", Settings: w.settings, Days: w.store, Accurate: w.client},
		reconcile.Query{From: f, To: t, Store: store})
	if err != nil {
		w.t.Fatal(err)
	}
	return rep
}

func dayOf(t *testing.T, rep reconcile.Report, date, store string) reconcile.Day {
	t.Helper()
	for _, d := range rep.Days {
		if d.Date == date && d.Store == store {
			return d
		}
	}
	t.Fatalf("no day %s of store %q in %+v", date, store, rep.Days)
	return reconcile.Day{}
}

func only(t *testing.T, d reconcile.Day, kind string) reconcile.Difference {
	t.Helper()
	var found []reconcile.Difference
	for _, x := range d.Differences {
		if x.Kind == kind {
			found = append(found, x)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d differences %s on %s, want 1: %+v", len(found), kind, d.Date, d.Differences)
	}
	return found[0]
}

func TestReconcilingADay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)

	// 1 December: everything agrees.
	_, totalA := w.syncedInvoice(71001, "ORD-A", "2026-12-01T09:00:00+07:00")
	_, totalB := w.syncedInvoice(71002, "ORD-B", "2026-12-01T23:30:00+07:00") // still the 1st in Jakarta
	receipt := accurate.SalesReceipt{Number: "FP-91001", TransDate: accurate.Date{Year: 2026, Month: 12, Day: 1}, CustomerNo: "C-SHOPEE",
		BankNo: "110201", ChequeAmount: totalA, DetailInvoice: []accurate.ReceiptInvoice{{InvoiceNo: "ORD-A", PaymentAmount: totalA}}}
	if _, err := w.client.SaveSalesReceipt(ctx, &receipt); err != nil {
		t.Fatal(err)
	}
	if err := w.store.FileDay(ctx, "2026-12-01", events.DayLine{Key: "payment.received:91001", Kind: events.DocPayout,
		Number: "FP-91001", Store: "1009", TotalSen: int64(totalA), Known: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Begin(ctx, events.Incoming{Key: "payment.received:91001", Type: "payment.received", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.Finish(ctx, "payment.received:91001", events.Result{State: events.StateSynced}); err != nil {
		t.Fatal(err)
	}

	// 2 December: one of each difference.
	failedKey, failedEv, failedPayload := w.invoice(72001, "ORD-FAILED", "2026-12-02T10:00:00+07:00")
	w.record(failedKey, failedEv, failedPayload, events.Result{State: events.StateFailed, Error: "item missing",
		Failure: &events.Failure{Kind: events.FailMapping, Key: "items"}})
	missingKey, missingTotal := w.syncedInvoice(72002, "ORD-DELETED", "2026-12-02T10:00:00+07:00")
	w.sb.DeleteByHand(sandbox.KindInvoice, "ORD-DELETED")
	editedKey, editedTotal := w.syncedInvoice(72003, "ORD-EDITED", "2026-12-02T11:00:00+07:00")
	w.sb.EditByHand(sandbox.KindInvoice, "ORD-EDITED", editedTotal-money.Rupiah(5000))
	voidedKey, _ := w.syncedInvoice(72004, "ORD-VOIDED", "2026-12-02T12:00:00+07:00")
	if err := orders.For(w.rdb, w.store).MarkVoided(ctx, 72004, "invoice.voided:72004"); err != nil {
		t.Fatal(err)
	}
	stranger := accurate.SalesInvoice{Number: "ORD-BY-HAND", TransDate: accurate.Date{Year: 2026, Month: 12, Day: 2}, CustomerNo: "C-SHOPEE",
		DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(50000), WarehouseName: "Utama"}}}
	if _, err := w.client.SaveSalesInvoice(ctx, &stranger); err != nil {
		t.Fatal(err)
	}

	rep := w.report("2026-12-01", "2026-12-03", "")

	t.Run("a clean day shows its counts and totals on both sides and no difference", func(t *testing.T) {
		d := dayOf(t, rep, "2026-12-01", "1009")
		if !d.Clean() {
			t.Fatalf("differences on a clean day: %+v", d.Differences)
		}
		want := reconcile.Side{Invoices: 2, InvoiceTotal: totalA + totalB, Payouts: 1, Cash: totalA}
		if d.Forstok != want || d.Accurate != want {
			t.Errorf("forstok %+v, accurate %+v, want both %+v", d.Forstok, d.Accurate, want)
		}
	})
	t.Run("a day with nothing on either side is shown, clean", func(t *testing.T) {
		if d := dayOf(t, rep, "2026-12-03", ""); !d.Clean() || d.Forstok != (reconcile.Side{}) {
			t.Errorf("3 December: %+v", d)
		}
	})
	d := dayOf(t, rep, "2026-12-02", "1009")
	t.Run("a failed event is not_synced with its state and failure kind", func(t *testing.T) {
		x := only(t, d, reconcile.NotSynced)
		if x.Event != failedKey || x.State != events.StateFailed || x.FailureKind != events.FailMapping || x.Accurate != nil || x.Forstok == nil {
			t.Errorf("%+v", x)
		}
	})
	t.Run("a synced faktur deleted by hand is missing_in_accurate", func(t *testing.T) {
		x := only(t, d, reconcile.MissingInAccurate)
		if x.Event != missingKey || x.Number != "ORD-DELETED" || *x.Forstok != missingTotal || x.Accurate != nil {
			t.Errorf("%+v", x)
		}
	})
	t.Run("replaying a missing_in_accurate event makes an attempt past the first, which the worker starts with a look-up", func(t *testing.T) {
		// The worker looks the number up before saving on any attempt but
		// the first (worker's decision tests); a replay keeps the count.
		if err := w.store.Replay(ctx, missingKey); err != nil {
			t.Fatal(err)
		}
		_, ev, payload := w.invoice(72002, "ORD-DELETED", "2026-12-02T10:00:00+07:00")
		rec, err := w.store.Begin(ctx, events.Incoming{Key: missingKey, Type: ev.Type, Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Attempts < 2 {
			t.Errorf("the replay is attempt %d: it would save without looking the number up", rec.Attempts)
		}
		if err := w.store.Finish(ctx, missingKey, events.Result{State: events.StateSynced}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a faktur edited by hand is amount_differs with both amounts", func(t *testing.T) {
		x := only(t, d, reconcile.AmountDiffers)
		if x.Event != editedKey || *x.Forstok != editedTotal || *x.Accurate != editedTotal-money.Rupiah(5000) {
			t.Errorf("%+v", x)
		}
	})
	t.Run("a voided invoice whose faktur Accurate still holds is voided_but_present", func(t *testing.T) {
		x := only(t, d, reconcile.VoidedButPresent)
		if x.Event != voidedKey || x.Voided != "invoice.voided:72004" || x.Accurate == nil {
			t.Errorf("%+v", x)
		}
	})
	t.Run("a faktur of the store's customer the service never posted is unknown_in_accurate", func(t *testing.T) {
		x := only(t, d, reconcile.UnknownInAccurate)
		if x.Number != "ORD-BY-HAND" || *x.Accurate != money.Rupiah(50000) || x.Event != "" || x.Store != "1009" {
			t.Errorf("%+v", x)
		}
	})
	t.Run("a voided faktur counts on neither side's totals", func(t *testing.T) {
		// ORD-FAILED, ORD-DELETED, ORD-EDITED on the service's side.
		if d.Forstok.Invoices != 3 {
			t.Errorf("forstok invoices %d, want 3", d.Forstok.Invoices)
		}
	})
	t.Run("a store filter keeps that store's days only", func(t *testing.T) {
		other := w.report("2026-12-01", "2026-12-02", "1010")
		for _, d := range other.Days {
			if d.Store != "1010" || !d.Clean() || d.Forstok != (reconcile.Side{}) {
				t.Errorf("store 1010: %+v", d)
			}
		}
	})
	t.Run("Accurate is read with a few paged list calls, not one per document", func(t *testing.T) {
		if rep.Requests != 3 {
			t.Errorf("%d requests for three days, want 3 (one list per kind)", rep.Requests)
		}
		if n := w.sb.Calls()["sales-invoice/detail"]; n != 0 {
			t.Errorf("%d detail.do calls", n)
		}
	})
	t.Run("with Accurate away the report says so and calls nothing missing", func(t *testing.T) {
		w.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
		defer w.sb.SetFaults(sandbox.Faults{})
		away := w.report("2026-12-01", "2026-12-02", "")
		if len(away.Unreadable) != 1 || away.Unreadable[0].Side != "accurate" || away.Unreadable[0].RetryAt.IsZero() {
			t.Fatalf("unreadable %+v", away.Unreadable)
		}
		for _, day := range away.Days {
			if !day.Unread {
				t.Errorf("%s not marked unread", day.Date)
			}
			for _, x := range day.Differences {
				if x.Kind != reconcile.NotSynced {
					t.Errorf("%s with Accurate away: %+v", x.Kind, x)
				}
			}
		}
		if !strings.Contains(away.Unreadable[0].Error, "sales-invoice") {
			t.Errorf("error %q does not say which list", away.Unreadable[0].Error)
		}
	})
}
