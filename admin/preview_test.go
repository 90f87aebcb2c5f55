package admin_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/orders"
	"forstok-accurate-sync/sellers"
	"forstok-accurate-sync/worker"
)

func TestAPreviewWithoutAnEventTakesTheNewestInvoiceOrPayment(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	now := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	evs := events.New(rdb, events.Config{Namespace: r.Namespace, Now: clock})
	store := evs.Seller(events.DefaultSeller)
	svc := admin.New(admin.Config{Store: store, Queue: evs.Queue(), Now: clock,
		Sellers: func() []admin.Seller {
			return []admin.Seller{admin.SellerFromMapping(admin.DefaultSeller, fixtures.Settings(t))}
		},
		Mappings:   sellers.NewMappings(rdb, evs.Queue().Layout().SellerQueue(events.DefaultSeller), zap.NewNop()),
		PreviewFor: func(string) (worker.Store, worker.Orders) { return store, orders.For(rdb, store) }})
	accept := func(key, typ, example string) {
		t.Helper()
		in := events.Incoming{Key: key, Type: typ, Payload: fixtures.Body(t, example)}
		if _, err := store.Accept(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	preview := func() string {
		t.Helper()
		p, err := svc.PreviewMapping(ctx, admin.All, admin.DefaultSeller, fixtures.MappingYAML(t), "")
		if err != nil {
			t.Fatal(err)
		}
		return p.Event
	}

	accept("invoice.created:70001", "invoice.created", "invoice-created-shopee.json")
	accept("payment.received:90001", "payment.received", "payment-received-shopee.json")
	t.Run("a payment accepted in its invoice's millisecond is the newer", func(t *testing.T) {
		if got := preview(); got != "payment.received:90001" {
			t.Errorf("previewed %s; want the payment, which follows its invoice", got)
		}
	})
	t.Run("an invoice accepted after the payment is the newer", func(t *testing.T) {
		now = now.Add(time.Millisecond)
		accept("invoice.created:70002", "invoice.created", "invoice-created-tokopedia-bundle.json")
		if got := preview(); got != "invoice.created:70002" {
			t.Errorf("previewed %s; want the later invoice", got)
		}
	})
}
