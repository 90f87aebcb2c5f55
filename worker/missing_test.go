package worker

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// Items and customers missing in Accurate, through the real client, the
// accurate-sandbox over HTTP and the event store in a real Redis.

type missingWorld struct {
	sb     *sandbox.Server
	client *accurate.Client
	store  *events.Store
	rdb    *redis.Client
}

func newMissingWorld(t *testing.T) missingWorld {
	t.Helper()
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	client := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	r := testredis.New(t)
	rdb := r.Client(t)
	return missingWorld{sb: sb, client: client, store: events.New(rdb, events.Config{Namespace: r.Namespace}).Seller(events.DefaultSeller), rdb: rdb}
}

// TestMissingItemsAndCustomers: the Tokopedia example order with its two
// plain SKUs renamed to ones Accurate lacks (KAOS-MRH-XL in the bundle,
// KAOS-BRU-S on its own line).
func TestMissingItemsAndCustomers(t *testing.T) {
	newItems := &mapping.NewItems{ItemType: "INVENTORY", Unit: "PCS", SalesAccount: "410201"}
	cases := []struct {
		name       string
		auto       mapping.AutoCreate
		customer   string // the store's customer_no, when not the example's
		warehouse  string // the warehouse name, when not the example's
		existing   []string
		state      string
		reason     []string // phrases the reason holds
		notReason  []string // phrases it must not hold
		created    []string // item numbers created, in order
		customers  []string // customers created
		fakturSent bool
	}{
		{name: "without auto_create a faktur naming two missing items fails at once naming both, and creates nothing",
			state: events.StateFailed,
			reason: []string{"names what Accurate does not have: items KAOS-MRH-XL (Kaos Polos Merah XL), KAOS-BRU-S (Kaos Polos Biru S).",
				"Add them in Accurate with these numbers", "turn on auto_create.items (with item_type and unit) in the mapping", "replay"},
			notReason: []string{"customer", "BRG-TOPI-01"}},
		{name: "without auto_create a missing customer is named with the missing items in the same reason",
			customer: "C-LAZADA", state: events.StateFailed,
			reason: []string{"items KAOS-MRH-XL (Kaos Polos Merah XL), KAOS-BRU-S (Kaos Polos Biru S) and customer C-LAZADA.", "auto_create.items (with item_type and unit) and auto_create.customers"}},
		{name: "with auto_create.items the missing items are created as the mapping sets them up and the faktur posts",
			auto: mapping.AutoCreate{Items: newItems}, state: events.StateSynced,
			created: []string{"KAOS-MRH-XL", "KAOS-BRU-S"}, fakturSent: true},
		{name: "an item Accurate already has is not created again",
			auto: mapping.AutoCreate{Items: newItems}, existing: []string{"KAOS-BRU-S"}, state: events.StateSynced,
			created: []string{"KAOS-BRU-S", "KAOS-MRH-XL"}, fakturSent: true},
		{name: "with auto_create.items but not customers a missing customer fails the event before any item is created",
			auto: mapping.AutoCreate{Items: newItems}, customer: "C-LAZADA", state: events.StateFailed,
			reason: []string{"does not have: customer C-LAZADA.", "turn on auto_create.customers in the mapping"}, notReason: []string{"KAOS-MRH-XL", "auto_create.items", "map a SKU"}},
		{name: "with auto_create of both a missing customer is created, named after the store, and the faktur posts",
			auto: mapping.AutoCreate{Items: newItems, Customers: true}, customer: "C-LAZADA", state: events.StateSynced,
			created: []string{"KAOS-MRH-XL", "KAOS-BRU-S"}, customers: []string{"C-LAZADA Toko Maju Tokopedia"}, fakturSent: true},
		{name: "a refusal about something else, a warehouse Accurate lacks, is worded as before and creates nothing",
			auto: mapping.AutoCreate{Items: newItems, Customers: true}, warehouse: "Gudang Barat", existing: []string{"KAOS-MRH-XL", "KAOS-BRU-S"},
			state: events.StateFailed, reason: []string{`Gudang "Gudang Barat" tidak ditemukan`}, notReason: []string{"does not have"},
			created: []string{"KAOS-MRH-XL", "KAOS-BRU-S"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mw := newMissingWorld(t)
			for _, no := range tc.existing {
				if err := mw.client.SaveItem(ctx, &accurate.Item{No: no, Name: no, ItemType: "INVENTORY"}); err != nil {
					t.Fatal(err)
				}
			}
			settings := exampleSettings(t)
			settings.AutoCreate = tc.auto
			if tc.customer != "" {
				st := settings.Stores["1010"]
				st.CustomerNo = tc.customer
				settings.Stores["1010"] = st
			}
			if tc.warehouse != "" {
				settings.Warehouses["78"] = tc.warehouse
			}
			ev := exampleEvent(t, "invoice-created-tokopedia-bundle.json")
			lines := ev.Invoice.Order.ItemLines
			lines[0].BundleInfo[0].SKU, lines[0].BundleInfo[0].Name = "KAOS-MRH-XL", "Kaos Polos Merah XL"
			lines[1].SKU, lines[1].VariantName = "KAOS-BRU-S", "Biru S"
			w := New(withStore(Config{Accurate: mw.client, Mapping: settings}, mw.rdb, mw.store))

			out := w.processInvoiceCreated(ctx, events.Event{Key: "invoice.created:70002", Attempts: 1}, ev)
			if out.state != tc.state {
				t.Fatalf("ended %s (%s), want %s", out.state, out.words(), tc.state)
			}
			for _, p := range tc.reason {
				if !strings.Contains(out.words(), p) {
					t.Errorf("reason %q does not say %q", out.words(), p)
				}
			}
			for _, p := range tc.notReason {
				if strings.Contains(out.words(), p) {
					t.Errorf("reason %q says %q", out.words(), p)
				}
			}
			var created []string
			for _, it := range mw.sb.CreatedItems() {
				created = append(created, it.No)
				if !slices.Contains(tc.existing, it.No) && (it.ItemType != "INVENTORY" || it.Unit1Name != "PCS" || it.SalesGlAccountNo != "410201") {
					t.Errorf("item %+v is not set up as auto_create.items says", it)
				}
			}
			if strings.Join(created, " ") != strings.Join(tc.created, " ") {
				t.Errorf("items created %v, want %v", created, tc.created)
			}
			var customers []string
			for _, c := range mw.sb.CreatedCustomers() {
				customers = append(customers, c.CustomerNo+" "+c.Name)
			}
			if strings.Join(customers, ",") != strings.Join(tc.customers, ",") {
				t.Errorf("customers created %v, want %v", customers, tc.customers)
			}
			if got := len(mw.sb.Invoices()) == 1; got != tc.fakturSent {
				t.Errorf("faktur posted: %v, want %v", got, tc.fakturSent)
			}
		})
	}
}

func TestACreatedItemTakesTheLinesNameAndPrice(t *testing.T) {
	ctx := context.Background()
	mw := newMissingWorld(t)
	settings := exampleSettings(t)
	settings.AutoCreate.Items = &mapping.NewItems{ItemType: "SERVICE", Unit: "JASA"}
	ev := exampleEvent(t, "invoice-created-shopee.json")
	line := &ev.Invoice.Order.ItemLines[0]
	line.SKU, line.Name, line.VariantName = "JASA-BUNGKUS", strings.Repeat("Bungkus kado eksklusif ", 6), "" // 138 characters
	w := New(withStore(Config{Accurate: mw.client, Mapping: settings}, mw.rdb, mw.store))
	if out := w.processInvoiceCreated(ctx, events.Event{Key: "invoice.created:70001", Attempts: 1}, ev); out.state != events.StateSynced {
		t.Fatalf("ended %s: %s", out.state, out.reason)
	}
	items := mw.sb.CreatedItems()
	if len(items) != 1 {
		t.Fatalf("created %+v", items)
	}
	it := items[0]
	if n := len([]rune(it.Name)); n > accurate.ItemNameMax || !strings.HasPrefix(line.Name, it.Name) || n < accurate.ItemNameMax-1 {
		t.Errorf("name %q (%d characters): want the line's name cut to %d", it.Name, n, accurate.ItemNameMax)
	}
	if it.UnitPrice != line.UnitPrice() || it.UnitPrice == money.Amount(0) || it.ItemType != "SERVICE" || it.Unit1Name != "JASA" {
		t.Errorf("item %+v; want the line's price %s, SERVICE, JASA", it, line.UnitPrice().Format())
	}
}
