package admin_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
)

type world struct {
	store *events.Store
	svc   *admin.Service
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	r := testredis.New(t)
	w := &world{now: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.store = events.New(r.Client(t), events.Config{Namespace: r.Namespace, Now: clock})
	settings, err := mapping.Parse([]byte("stores: {\"1009\": {customer_no: C, bank_no: B}}\nwarehouses: {\"78\": Utama}\namounts: {service_fee: \"6102\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w.svc = admin.New(admin.Config{Store: w.store, Now: clock,
		Sellers: func() []admin.Seller { return []admin.Seller{admin.SellerFromMapping(admin.DefaultSeller, settings)} }})
	return w
}

// event accepts an event about orders and ends it in state with reason.
func (w *world) event(t *testing.T, key, state, reason string, orders ...string) {
	t.Helper()
	ctx := context.Background()
	typ := "invoice.created"
	if key[0] == 'p' {
		typ = "payment.received"
	}
	in := events.Incoming{Key: key, Type: typ, Payload: []byte(`{"type":"` + typ + `"}`), Orders: orders}
	if _, err := w.store.Accept(ctx, in); err != nil {
		t.Fatal(err)
	}
	if state == events.StateQueued {
		return
	}
	if _, err := w.store.Begin(ctx, in); err != nil {
		t.Fatal(err)
	}
	res := events.Result{State: state, Error: reason}
	if state == events.StateSynced {
		res = events.Result{State: state, AccurateID: 7, AccurateNumber: orders[0]}
	}
	if err := w.store.Finish(ctx, key, res); err != nil {
		t.Fatal(err)
	}
}

const (
	reasonServiceFee = "invoice 70001 has service_fee 4,450 but amounts.fulfillment_fee is not mapped: add amounts.fulfillment_fee, then replay"
	reasonStore      = `store 1011 (Toko Baru) is not in stores: add stores."1011".customer_no and bank_no, then replay`
)

func TestSearch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.event(t, "invoice.created:1", events.StateSynced, "", "SO-1")
	w.now = w.now.Add(time.Minute)
	w.event(t, "payment.received:5", events.StateFailed, reasonServiceFee, "SO-1", "SO-2")

	t.Run("finds every event type of an order number, newest first", func(t *testing.T) {
		evs, err := w.svc.Search(ctx, admin.All, "so-1")
		if err != nil || len(evs) != 2 || evs[0].Key != "payment.received:5" || evs[1].Key != "invoice.created:1" {
			t.Fatalf("Search = %+v, %v", evs, err)
		}
	})
	t.Run("an event key finds its event", func(t *testing.T) {
		evs, err := w.svc.Search(ctx, admin.All, "invoice.created:1")
		if err != nil || len(evs) != 1 || evs[0].Payload != nil {
			t.Fatalf("Search = %+v, %v", evs, err)
		}
	})
	t.Run("an empty search is refused naming the field", func(t *testing.T) {
		_, err := w.svc.Search(ctx, admin.All, " ")
		var in *admin.InputError
		if !errors.As(err, &in) || in.Field != "order" {
			t.Fatalf("Search(blank) = %v", err)
		}
	})
	t.Run("a seller's token sees nothing of another seller", func(t *testing.T) {
		other := admin.Scope{Seller: "toko-lain"}
		if evs, err := w.svc.Search(ctx, other, "SO-1"); err != nil || len(evs) != 0 {
			t.Fatalf("Search as another seller = %+v, %v", evs, err)
		}
		if _, err := w.svc.Get(ctx, other, "invoice.created:1"); !errors.Is(err, events.ErrNotFound) {
			t.Fatalf("Get as another seller = %v, want not found", err)
		}
		if err := w.svc.Replay(ctx, other, "invoice.created:1"); !errors.Is(err, events.ErrNotFound) {
			t.Fatalf("Replay as another seller = %v, want not found", err)
		}
		if _, err := w.svc.Get(ctx, admin.Scope{Seller: admin.DefaultSeller}, "invoice.created:1"); err != nil {
			t.Fatalf("Get as its own seller = %v", err)
		}
	})
}

func TestReplayFailed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 7 {
		w.event(t, fmt.Sprintf("invoice.created:%d", i), events.StateFailed, reasonStore, fmt.Sprint("SO-", i))
	}
	w.event(t, "invoice.created:100", events.StateSynced, "", "SO-100")

	t.Run("an unknown seller is refused and nothing is queued", func(t *testing.T) {
		_, err := w.svc.ReplayFailed(ctx, admin.All, "nobody")
		var in *admin.InputError
		if !errors.As(err, &in) || in.Field != "seller" {
			t.Fatalf("ReplayFailed(nobody) = %v", err)
		}
		if c, _ := w.store.Counts(ctx); c[events.StateFailed] != 7 {
			t.Fatalf("failed = %d, want 7 untouched", c[events.StateFailed])
		}
	})
	t.Run("another seller's token may not replay this seller's events", func(t *testing.T) {
		if _, err := w.svc.ReplayFailed(ctx, admin.Scope{Seller: "toko-lain"}, admin.DefaultSeller); err == nil {
			t.Fatal("ReplayFailed across sellers was allowed")
		}
	})
	t.Run("every failed event of the seller is queued again, the synced one is not", func(t *testing.T) {
		done, err := w.svc.ReplayFailed(ctx, admin.All, admin.DefaultSeller)
		if err != nil || len(done.Queued) != 7 || done.More {
			t.Fatalf("ReplayFailed = %+v, %v", done, err)
		}
		c, _ := w.store.Counts(ctx)
		if c[events.StateFailed] != 0 || c[events.StateQueued] != 7 || c[events.StateSynced] != 1 {
			t.Fatalf("counts after = %v", c)
		}
	})
}

func TestOverview(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	start := w.now
	w.now = start.Add(-2 * time.Hour)
	w.event(t, "invoice.created:1", events.StateSynced, "", "SO-1")
	w.event(t, "invoice.created:2", events.StateFailed, reasonStore, "SO-2")
	w.now = start
	w.event(t, "invoice.created:3", events.StateSynced, "", "SO-3")
	w.event(t, "invoice.created:4", events.StateQueued, "", "SO-4")
	w.now = start.Add(5 * time.Minute)

	o, err := w.svc.Overview(ctx, admin.All)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("counts events by state, for the one seller too", func(t *testing.T) {
		if o.States[events.StateSynced] != 2 || o.States[events.StateFailed] != 1 || o.States[events.StateQueued] != 1 {
			t.Fatalf("states = %v", o.States)
		}
		if len(o.Sellers) != 1 || o.Sellers[0].Seller != admin.DefaultSeller || o.Sellers[0].States[events.StateSynced] != 2 {
			t.Fatalf("sellers = %+v", o.Sellers)
		}
	})
	t.Run("the chart has 24 hours ending with this one, each with its synced and failed", func(t *testing.T) {
		if len(o.Hours) != admin.ChartHours {
			t.Fatalf("%d hours", len(o.Hours))
		}
		last, twoAgo := o.Hours[23], o.Hours[21]
		if !last.Start.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) || last.Synced != 1 || last.Failed != 0 {
			t.Fatalf("this hour = %+v", last)
		}
		if twoAgo.Synced != 1 || twoAgo.Failed != 1 {
			t.Fatalf("two hours ago = %+v", twoAgo)
		}
	})
	t.Run("the queue's depth and the age of its oldest event", func(t *testing.T) {
		// No worker runs here: asynq still holds all four tasks, whatever
		// the records say.
		if o.QueueDepth != 4 || o.OldestWaiting == nil || !o.OldestWaiting.Equal(start) {
			t.Fatalf("depth %d oldest %v", o.QueueDepth, o.OldestWaiting)
		}
	})
	t.Run("another seller's token sees none of it", func(t *testing.T) {
		o, err := w.svc.Overview(ctx, admin.Scope{Seller: "toko-lain"})
		if err != nil || o.States[events.StateSynced] != 0 || o.QueueDepth != 0 || len(o.Sellers) != 0 {
			t.Fatalf("overview as another seller = %+v, %v", o, err)
		}
	})
}

func TestSellers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.event(t, "invoice.created:1", events.StateFailed, reasonStore, "SO-1")
	w.event(t, "invoice.created:2", events.StateFailed, reasonStore, "SO-2")
	w.event(t, "payment.received:3", events.StateFailed, reasonServiceFee, "SO-1")

	sellers, err := w.svc.Sellers(ctx, admin.All)
	if err != nil || len(sellers) != 1 {
		t.Fatalf("Sellers = %+v, %v", sellers, err)
	}
	s := sellers[0]
	find := func(key string) admin.Problem {
		for _, p := range s.Problems {
			if p.Key == key {
				return p
			}
		}
		t.Fatalf("no problem %s in %+v", key, s.Problems)
		return admin.Problem{}
	}
	t.Run("the mapping's summary", func(t *testing.T) {
		if s.Timezone != "Asia/Jakarta" || s.Stores != 1 || s.Warehouses != 1 {
			t.Fatalf("seller = %+v", s)
		}
	})
	t.Run("a key the failed events name is a problem with their count, most failures first", func(t *testing.T) {
		if p := find(`stores."1011".customer_no`); p.Failed != 2 || p.Code != "failing" || p.Example != "invoice.created:2" {
			t.Fatalf("store problem = %+v", p)
		}
		if s.Problems[0].Key != `stores."1011".customer_no` {
			t.Fatalf("first problem = %+v", s.Problems[0])
		}
	})
	t.Run("an unmapped amount kind is a problem before any event fails on it", func(t *testing.T) {
		if p := find("amounts.voucher_seller"); p.Code != "unmapped" || p.Failed != 0 {
			t.Fatalf("voucher problem = %+v", p)
		}
		if p := find("amounts.fulfillment_fee"); p.Code != "failing" || p.Failed != 1 {
			t.Fatalf("fulfillment problem = %+v", p)
		}
		for _, p := range s.Problems {
			if p.Key == "amounts.service_fee" {
				t.Fatalf("mapped amounts.service_fee reported: %+v", p)
			}
		}
	})
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name, reason string
		want         admin.Diagnosis
	}{
		{"an unmapped fee names its amounts key", reasonServiceFee,
			admin.Diagnosis{Kind: admin.FixMapping, Key: "amounts.fulfillment_fee"}},
		{"an unknown store names the store's key", reasonStore,
			admin.Diagnosis{Kind: admin.FixMapping, Key: `stores."1011".customer_no`}},
		{"a customer Accurate does not know names Accurate's words",
			"Accurate refused faktur SO-1: accurate sales-invoice/save: not_found: Pelanggan C-X tidak ditemukan atau sudah dihapus. Create it in Accurate or fix the mapping, then replay",
			admin.Diagnosis{Kind: admin.FixAccurate, Record: "faktur SO-1: Pelanggan C-X tidak ditemukan atau sudah dihapus"}},
		{"items and a customer missing in Accurate are named, every one",
			"faktur NEW-1 names what Accurate does not have: items TUMBLER-HJ-500 (Tumbler 0.5 L), TOTE-KANVAS (Tas Kanvas) and customer C-X. Add them in Accurate with these numbers, then replay this event; or turn on auto_create.items (with item_type and unit) and auto_create.customers in the mapping so that the service creates them, restart the service, then replay",
			admin.Diagnosis{Kind: admin.FixAccurate, Record: "faktur NEW-1, missing items TUMBLER-HJ-500 (Tumbler 0.5 L), TOTE-KANVAS (Tas Kanvas) and customer C-X"}},
		{"a payment whose faktur never came names the faktur",
			"faktur SO-9 is not in Accurate yet (its invoice.created has not synced); gave up after waiting 24h0m0s: sync the invoice first, then replay this payment",
			admin.Diagnosis{Kind: admin.FixInvoice, Record: "faktur SO-9"}},
		{"bad order data is fixed in Forstok", "invoice 5 has no item_lines: correct the order in Forstok, then replay",
			admin.Diagnosis{Kind: admin.FixForstok}},
		{"Accurate away too long is waited out",
			"Accurate did not answer while faktur SO-1: timeout; gave up after 20 attempts: replay when Accurate answers again",
			admin.Diagnosis{Kind: admin.FixWait}},
		{"a refused token is a credentials problem",
			"Accurate refused the API token while faktur SO-1: check ACCURATE_API_TOKEN and ACCURATE_SIGNATURE_SECRET: 401",
			admin.Diagnosis{Kind: admin.FixCredentials}},
		{"anything else is read as it is", "something new", admin.Diagnosis{Kind: admin.FixOther}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := admin.Diagnose(tc.reason); got != tc.want {
				t.Fatalf("Diagnose = %+v, want %+v", got, tc.want)
			}
		})
	}
}
