package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/money"
)

// Items missing in Accurate, created on demand (auto_create), through the
// real HTTP path, a real Redis, the workers and the sandbox.

// invoiceOfNewItems is an invoice.created for order n of store 1009 that
// sells two items Accurate does not have.
func invoiceOfNewItems(n int) []byte {
	return []byte(fmt.Sprintf(`{"type":"invoice.created","timestamp":"2026-11-26T10:00:00+07:00","data":{
 "id":%d,"invoice_reference":"INV/NEW/%d","status":"Unpaid","created_at":"2026-11-26T10:00:00+07:00",
 "order":{"id":%d,"local_id":"NEW%d","local_name":"NEW-%06d","channel":"Shopee","channel_id":12,
  "store_id":1009,"store_name":"Toko Maju Shopee","warehouse_id":78,"cashless":true,"shipping_price":0,"discount_amount":0,
  "item_lines":[
   {"id":%d,"sku":"TUMBLER-HJ-500","name":"Tumbler Stainless","variant_name":"Hijau 500ml","price":120000,"sale_price":99000},
   {"id":%d,"sku":"KAOS-HTM-L","name":"Kaos Polos","variant_name":"Hitam L","price":100000,"sale_price":89000},
   {"id":%d,"sku":"TOTE-KANVAS","name":"Tas Kanvas","variant_name":null,"price":45000,"sale_price":0}]}}}`,
		810000+n, n, 510000+n, n, n, 3*n+1, 3*n+2, 3*n+3))
}

func newItemsKey(n int) string { return fmt.Sprintf("invoice.created:%d", 810000+n) }

func TestAutoCreateMakesEachMissingItemOnceWhenTenEventsRaceForThem(t *testing.T) {
	w := newWorld(t)
	mappingYAML := fixtures.Body(t, "mapping.yaml")
	w.mapping = w.writeMapping(append(mappingYAML, []byte(`
auto_create:
  items:
    item_type: INVENTORY
    unit: PCS
    sales_account: "410201"
`)...))
	w.start()

	const n = 10
	keys := make([]string, n)
	for i := range n {
		keys[i] = newItemsKey(i)
	}
	// All ten at once, so that they meet the missing items together.
	errs := make(chan error, n)
	for i := range n {
		go func() {
			if status := w.send(invoiceOfNewItems(i)); status != http.StatusAccepted {
				errs <- fmt.Errorf("invoice %d answered %d", i, status)
				return
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		w.mustEnd(k, events.StateSynced)
	}

	items := w.sandbox.CreatedItems()
	var nos []string
	for _, it := range items {
		nos = append(nos, it.No)
	}
	slices.Sort(nos)
	if strings.Join(nos, " ") != "TOTE-KANVAS TUMBLER-HJ-500" {
		t.Fatalf("items created %v; want TOTE-KANVAS and TUMBLER-HJ-500 once each", nos)
	}
	if calls := w.sandbox.Calls()["item/save"]; calls != 2 {
		t.Errorf("item/save.do was called %d times; want 2, one per missing item", calls)
	}
	want := map[string]struct {
		name  string
		price money.Amount
	}{"TUMBLER-HJ-500": {"Tumbler Stainless Hijau 500ml", money.Rupiah(99000)}, "TOTE-KANVAS": {"Tas Kanvas", money.Rupiah(45000)}}
	for _, it := range items {
		exp := want[it.No]
		if it.Name != exp.name || it.UnitPrice != exp.price || it.ItemType != "INVENTORY" || it.Unit1Name != "PCS" || it.SalesGlAccountNo != "410201" {
			t.Errorf("item %+v; want %q at %s, INVENTORY, PCS, sales account 410201", it, exp.name, exp.price.Format())
		}
	}
	if got := len(w.sandbox.Invoices()); got != n {
		t.Errorf("%d fakturs posted, want %d", got, n)
	}
	for _, k := range keys {
		if ev := w.event(k); !strings.HasPrefix(fmt.Sprint(ev["accurate_number"]), "NEW-") {
			t.Errorf("%s synced as %v", k, ev["accurate_number"])
		}
	}

	// Every event once more: nothing new in Accurate, no item again.
	for i := range n {
		w.mustSend(invoiceOfNewItems(i), http.StatusOK)
	}
	w.replayCreatesNothing(keys...)
	if got := len(w.sandbox.CreatedItems()); got != 2 {
		t.Errorf("%d items after the replays, want still 2", got)
	}
}

func TestWithoutAutoCreateMissingItemsFailTheEventNamingEveryOne(t *testing.T) {
	w := newWorld(t)
	w.start()
	w.mustSend(invoiceOfNewItems(1), http.StatusAccepted)
	ev := w.mustEnd(newItemsKey(1), events.StateFailed)
	reason := fmt.Sprint(ev["last_error"])
	says(t, "the reason", reason, "TUMBLER-HJ-500 (Tumbler Stainless Hijau 500ml)", "TOTE-KANVAS (Tas Kanvas)", "auto_create.items")
	if len(w.sandbox.CreatedItems()) != 0 || len(w.sandbox.Invoices()) != 0 {
		t.Errorf("created %v and fakturs %v; want nothing", w.sandbox.CreatedItems(), w.sandbox.Invoices())
	}
	// The console and the sellers' page read it as records to create in Accurate.
	if f, _ := ev["failure"].(map[string]any); f["kind"] != "accurate" || f["record"] != "item TUMBLER-HJ-500, item TOTE-KANVAS" || f["accurate_message"] == "" {
		t.Errorf("failure %v; want records to create in Accurate, naming both items, with Accurate's words", ev["failure"])
	}
	// A replay before the seller acts fails the same way, all items named.
	if status, body := w.admin(http.MethodPost, "/admin/events/"+newItemsKey(1)+"/replay", nil); status != http.StatusAccepted {
		t.Fatalf("replay = %d %v", status, body)
	}
	if !wait.Until(60e9, 50e6, func() bool {
		ev := w.event(newItemsKey(1))
		return ev["state"] == events.StateFailed && strings.Contains(fmt.Sprint(ev["history"]), "replayed") && ev["last_error"] == reason
	}) {
		t.Errorf("the replay did not fail again with the same reason: %v", w.event(newItemsKey(1)))
	}
	if len(w.sandbox.CreatedItems()) != 0 || len(w.sandbox.Invoices()) != 0 {
		t.Errorf("the replay created %v and fakturs %v; want nothing", w.sandbox.CreatedItems(), w.sandbox.Invoices())
	}
}
