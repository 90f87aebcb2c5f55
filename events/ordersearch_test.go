package events_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"forstok-accurate-sync/events"
)

func TestOrderIndex(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	r := newStoreAt(t, &now)
	store := r

	accept := func(key, typ string, orders ...string) {
		t.Helper()
		if _, err := store.Accept(ctx, events.Incoming{Key: key, Type: typ, Payload: []byte(`{}`), Orders: orders}); err != nil {
			t.Fatal(err)
		}
	}
	accept("invoice.created:1", "invoice.created", "SO-1")
	now = now.Add(time.Minute)
	accept("payment.received:9", "payment.received", "SO-1", "SO-2")
	accept("invoice.created:2", "invoice.created", "SO-2")

	t.Run("an order number finds its invoice and the payment that settles it, newest first", func(t *testing.T) {
		evs, err := store.ByOrder(ctx, "SO-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Key != "payment.received:9" || evs[1].Key != "invoice.created:1" {
			t.Fatalf("ByOrder(SO-1) = %+v", evs)
		}
	})
	t.Run("a search in lower case with spaces around finds the same", func(t *testing.T) {
		evs, err := store.ByOrder(ctx, "  so-2 ")
		if err != nil || len(evs) != 2 {
			t.Fatalf("ByOrder(so-2) = %+v, %v", evs, err)
		}
	})
	t.Run("an unknown or empty order number finds nothing", func(t *testing.T) {
		for _, no := range []string{"SO-404", "", "  "} {
			if evs, err := store.ByOrder(ctx, no); err != nil || len(evs) != 0 {
				t.Fatalf("ByOrder(%q) = %+v, %v", no, evs, err)
			}
		}
	})
	t.Run("a replayed body indexes its order numbers too", func(t *testing.T) {
		in := events.Incoming{Key: "invoice.created:3", Type: "invoice.created", Payload: []byte(`{}`), Orders: []string{"SO-3"}}
		if err := store.ReplayRaw(ctx, in); err != nil {
			t.Fatal(err)
		}
		if evs, err := store.ByOrder(ctx, "SO-3"); err != nil || len(evs) != 1 {
			t.Fatalf("ByOrder(SO-3) = %+v, %v", evs, err)
		}
	})
}

func TestHourCountsAndOldest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 7, 10, 0, 0, time.UTC)
	store := newStoreAt(t, &now)
	at := func(h, m int) { now = time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }

	at(5, 59)
	accept(t, store, "invoice.created:1")
	at(6, 0)
	accept(t, store, "invoice.created:2")
	at(6, 30)
	accept(t, store, "invoice.created:3")
	at(7, 5)
	accept(t, store, "invoice.created:4")
	at(7, 10)

	t.Run("events are counted in the hour they were accepted", func(t *testing.T) {
		got, err := store.HourCounts(ctx, events.StateQueued, now, 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 2, 1}; !slices.Equal(got, want) {
			t.Fatalf("HourCounts = %v, want %v (05:00, 06:00, 07:00)", got, want)
		}
	})
	t.Run("an event that moved on leaves its old state's count", func(t *testing.T) {
		if _, err := store.Begin(ctx, events.Incoming{Key: "invoice.created:2", Type: "invoice.created"}); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, "invoice.created:2", events.Result{State: events.StateFailed, Error: "x"}); err != nil {
			t.Fatal(err)
		}
		queued, _ := store.HourCounts(ctx, events.StateQueued, now, 3)
		failed, _ := store.HourCounts(ctx, events.StateFailed, now, 3)
		if !slices.Equal(queued, []int64{1, 1, 1}) || !slices.Equal(failed, []int64{0, 1, 0}) {
			t.Fatalf("queued %v, failed %v", queued, failed)
		}
	})
	t.Run("the oldest queued event is the first accepted", func(t *testing.T) {
		oldest, ok, err := store.Oldest(ctx, events.StateQueued)
		if err != nil || !ok || !oldest.Equal(time.Date(2026, 12, 1, 5, 59, 0, 0, time.UTC)) {
			t.Fatalf("Oldest = %v, %v, %v", oldest, ok, err)
		}
		if _, ok, err := store.Oldest(ctx, events.StateSynced); ok || err != nil {
			t.Fatalf("Oldest(synced) = %v, %v; want none", ok, err)
		}
	})
}

func newStoreAt(t *testing.T, now *time.Time) *events.Store {
	t.Helper()
	_, rdb, r := newStore(t)
	return events.New(rdb, events.Config{Namespace: r.Namespace, Now: func() time.Time { return *now }}).Seller("")
}

func accept(t *testing.T, store *events.Store, key string) {
	t.Helper()
	if _, err := store.Accept(context.Background(), incoming(key)); err != nil {
		t.Fatal(err)
	}
}

func TestQueueDepthOfAQueueNoEventReached(t *testing.T) {
	ns, _, _ := newNamespace(t)
	if n, err := ns.Queue().QueueDepth(context.Background()); n != 0 || err != nil {
		t.Fatalf("QueueDepth of a new queue = %d, %v; want 0, nil", n, err)
	}
}
