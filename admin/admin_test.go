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
	evs := events.New(r.Client(t), events.Config{Namespace: r.Namespace, Now: clock})
	w.store = evs.Seller(events.DefaultSeller)
	settings, err := mapping.Parse([]byte("stores: {\"1009\": {customer_no: C, bank_no: B}}\nwarehouses: {\"78\": Utama}\namounts: {service_fee: \"6102\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w.svc = admin.New(admin.Config{Store: w.store, Queue: evs.Queue(), Now: clock,
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
	res := events.Result{State: state, Error: reason, Failure: recorded[reason]}
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

// recorded is the failure the worker records with each reason.
var recorded = map[string]*events.Failure{
	reasonServiceFee: {Kind: events.FailMapping, Key: "amounts.fulfillment_fee", Hint: "Correct the mapping as it says, then replay this event"},
	reasonStore:      {Kind: events.FailMapping, Key: `stores."1011".customer_no`, Hint: "Correct the mapping as it says, then replay this event"},
}

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

func TestFailureOf(t *testing.T) {
	recordedFailure := &events.Failure{Kind: events.FailAccurate, Record: "item GHOST-1", AccurateMessage: "Barang \"GHOST-1\" tidak ditemukan"}
	tests := []struct {
		name string
		ev   events.Event
		want *events.Failure
	}{
		{"a failed event shows the failure the worker recorded",
			events.Event{State: events.StateFailed, LastError: "anything", Failure: recordedFailure}, recordedFailure},
		{"an event that failed before failures were recorded points at last_error",
			events.Event{State: events.StateFailed, LastError: "Accurate refused faktur SO-1: ..."},
			&events.Failure{Kind: events.FailOther, Hint: "This event failed before the service recorded what to fix: read last_error, fix what it says, then replay this event"}},
		{"an event that is not failed has none", events.Event{State: events.StateRetrying, LastError: "Accurate did not answer"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := admin.FailureOf(tc.ev)
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("FailureOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSellersShowEachSellersShareOfTheWorkers(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	evs := events.New(r.Client(t), events.Config{Namespace: r.Namespace, Share: 2})
	settings, err := mapping.Parse([]byte("stores: {\"1009\": {customer_no: C, bank_no: B}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	sellers := func() []admin.Seller {
		return []admin.Seller{admin.SellerFromMapping("toko-a", settings), admin.SellerFromMapping("toko-b", settings)}
	}
	storeFor := func(id string) admin.Store { return evs.Seller(id) }
	for i := range 5 {
		in := events.Incoming{Key: fmt.Sprintf("invoice.created:%d", i), Type: "invoice.created", Payload: []byte(`{"type":"invoice.created"}`)}
		if _, err := evs.Seller("toko-a").Accept(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	share := func(svc *admin.Service) map[string][2]int64 {
		t.Helper()
		list, err := svc.Sellers(ctx, admin.All)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]int64{}
		for _, s := range list {
			out[s.SellerID()] = [2]int64{s.Released, s.Held}
		}
		return out
	}
	t.Run("a seller with more events than its share has the share released and the rest held", func(t *testing.T) {
		got := share(admin.New(admin.Config{StoreFor: storeFor, Queue: evs.Queue(), Sellers: sellers}))
		if got["toko-a"] != [2]int64{2, 3} || got["toko-b"] != [2]int64{0, 0} {
			t.Fatalf("released, held by seller = %v; want toko-a [2 3], toko-b [0 0]", got)
		}
	})
	t.Run("without the queue the page still lists the sellers, with no share", func(t *testing.T) {
		got := share(admin.New(admin.Config{StoreFor: storeFor, Sellers: sellers}))
		if len(got) != 2 || got["toko-a"] != [2]int64{0, 0} {
			t.Fatalf("released, held by seller = %v", got)
		}
	})
}
