package mapping

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

const examplesDir = "../examples" // the repository's sample webhooks and mapping

// example is an embedded example file. These tests, inside package
// mapping, cannot use internal/fixtures (it parses with this package), so
// they read the same embedded examples it does.
func example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := examples.Files.ReadFile(name)
	if err != nil {
		t.Fatalf("example %s: %v", name, err)
	}
	return b
}

// exampleSettings parses the example mapping afresh, so a test
// may change it freely.
func exampleSettings(t testing.TB) *Settings {
	t.Helper()
	s, err := Parse(example(t, "mapping.yaml"))
	if err != nil {
		t.Fatalf("the example mapping: %v", err)
	}
	return s
}

// decodeExample reads an example webhook body's data into v, the way the
// handler does: envelope first, then the typed data.
func decodeExample(t testing.TB, name string, v any) {
	t.Helper()
	body := example(t, name)
	var env struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		t.Fatalf("%s data: %v", name, err)
	}
}

func exampleInvoice(t testing.TB, name string) *forstok.Invoice {
	t.Helper()
	var inv forstok.Invoice
	decodeExample(t, name, &inv)
	return &inv
}

func examplePayment(t testing.TB, name string) *forstok.Payment {
	t.Helper()
	var p forstok.Payment
	decodeExample(t, name, &p)
	return &p
}

// wantError fails the test unless err is a *Error on key saying msg.
func wantError(t *testing.T, err error, key, msg string) {
	t.Helper()
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v, want *Error", err)
	}
	if me.Key != key || me.Error() != msg {
		t.Errorf("got key %q, %q\nwant key %q, %q", me.Key, me.Error(), key, msg)
	}
}

func rupiah(r int64) forstok.Money { return forstok.Money{Amount: money.Rupiah(r)} }

func sen(s int64) forstok.Money { return forstok.Money{Amount: money.Amount(s)} }

func ptr[T any](v T) *T { return &v }

// order builds a minimal valid invoice of store 1009, warehouse 78.
func order(lines ...forstok.ItemLine) *forstok.Invoice {
	return &forstok.Invoice{
		ID:               70009,
		InvoiceReference: "INV/FS/2026/11/70009",
		CreatedAt:        time.Date(2026, 11, 26, 9, 30, 0, 0, time.FixedZone("WIB", 7*3600)),
		Order: &forstok.Order{
			ID:          35009,
			LocalName:   "ORDER-9",
			Channel:     "Shopee",
			ChannelID:   12,
			StoreID:     1009,
			StoreName:   "Toko Maju Shopee",
			WarehouseID: 78,
			Cashless:    ptr(true),
			ItemLines:   lines,
		},
	}
}

func line(sku string, price int64) forstok.ItemLine {
	return forstok.ItemLine{ID: 1, SKU: sku, Name: sku, Price: rupiah(price)}
}

func bundle(price money.Amount, units int64, parts ...forstok.BundleComponent) forstok.ItemLine {
	return forstok.ItemLine{ID: 1, SKU: "BUNDLE", Name: "Bundle", Price: forstok.Money{Amount: price}, Quantity: &units, BundleInfo: parts}
}

func component(sku string, qty, price int64) forstok.BundleComponent {
	return forstok.BundleComponent{SKU: sku, Name: sku, Qty: qty, ItemPrice: rupiah(price)}
}
