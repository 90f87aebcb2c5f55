package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/money"
)

// return.created through the real HTTP path, a real Redis, the workers and
// the sandbox.

const tokopediaFaktur = "INV/20261126/MPL/3819022331"

// tokopediaReturn returns quantity units of the bundle line 11 of the
// Tokopedia example order, with shipping refunded.
func tokopediaReturn(id int, line int, sku string, quantity int, shippingRefund int) []byte {
	return []byte(fmt.Sprintf(`{"type":"return.created","timestamp":"2026-12-03T10:00:04+07:00","data":{
 "id":%d,"return_reference":"RET/%d","returned_at":"2026-12-03T10:00:00+07:00","reason":"Barang rusak",
 "order":{"id":35002,"local_name":%q,"store_id":1010,"warehouse_id":78},
 "item_lines":[{"order_item_line_id":%d,"sku":%q,"quantity":%d}],"shipping_refund":%d}}`, id, id, tokopediaFaktur, line, sku, quantity, shippingRefund))
}

// tokopediaPayout pays the Tokopedia faktur whatever it owes now (owing),
// less the example's fees.
func tokopediaPayout(id int, owing int64) []byte {
	return []byte(fmt.Sprintf(`{"type":"payment.received","timestamp":"2026-12-04T10:00:00+07:00","data":{
 "id":%d,"paid_at":"2026-12-04T10:00:00+07:00","store_id":1010,"amount_receive":%d,
 "invoices":[{"id":70002,"order":{"id":35002,"local_name":%q,"store_id":1010},"service_fee":9400,"fulfillment_fee":3000}]}}`,
		id, owing-9400-3000, tokopediaFaktur))
}

func (w *world) owing(faktur string) money.Amount {
	w.t.Helper()
	for _, inv := range w.sandbox.Invoices() {
		if inv.Number == faktur {
			return inv.PrimeOwing
		}
	}
	w.t.Fatalf("faktur %s is not in Accurate", faktur)
	return 0
}

func TestReturnOfTheExampleIsTheBundleAtTheFaktursPricesAndAPayoutSettlesWhatIsLeft(t *testing.T) {
	returnOfTheExample(t, newWorld(t))
}

func returnOfTheExample(t *testing.T, w *world) {
	w.start()
	w.mustSend(fixtures.Body(t, "invoice-created-tokopedia-bundle.json"), http.StatusAccepted)
	w.mustEnd("invoice.created:70002", events.StateSynced)
	w.mustSend(fixtures.Body(t, "return-created-tokopedia.json"), http.StatusAccepted)
	ev := w.mustEnd("return.created:95001", events.StateSynced)
	if ev["accurate_number"] != "RJ-95001" {
		t.Errorf("accurate_number %v", ev["accurate_number"])
	}
	got := w.sandbox.Returns()
	if len(got) != 1 {
		t.Fatalf("%d returs", len(got))
	}
	want := []accurate.InvoiceItem{
		{ItemNo: "KAOS-HTM-L", DetailName: "Kaos Polos Hitam L", Quantity: 2, UnitPrice: money.Rupiah(53477), ItemCashDiscount: money.Rupiah(1), WarehouseName: "Utama"},
		{ItemNo: "BRG-TOPI-01", DetailName: "Topi Baseball", Quantity: 1, UnitPrice: money.Rupiah(33047), WarehouseName: "Utama"},
	}
	r := got[0]
	if r.Number != "RJ-95001" || r.TransDate.String() != "03/12/2026" || r.CustomerNo != "C-TOKOPEDIA" || r.ReturnType != "INVOICE" ||
		r.InvoiceNumber != tokopediaFaktur || r.TotalAmount != money.Rupiah(140000) || fmt.Sprint(r.DetailItem) != fmt.Sprint(want) || r.CashDiscount != 0 {
		t.Errorf("retur %+v\nwant RJ-95001, 03/12/2026, C-TOKOPEDIA, INVOICE %s, 140,000: %+v", r, tokopediaFaktur, want)
	}
	if o := w.owing(tokopediaFaktur); o != money.Rupiah(102000) {
		t.Fatalf("the faktur owes %s after the return, want 102,000", o.Format())
	}

	// The faktur's remembered total (242,000) must not be used any more.
	w.mustSend(tokopediaPayout(90102, 102000), http.StatusAccepted)
	w.mustEnd("payment.received:90102", events.StateSynced)
	rc := w.sandbox.Receipts()[0]
	if rc.DetailInvoice[0].PaymentAmount != money.Rupiah(102000) || rc.Balance() != rc.ChequeAmount || w.owing(tokopediaFaktur) != 0 {
		t.Errorf("penerimaan %+v; want paymentAmount 102,000, balanced, the faktur paid", rc)
	}
	w.mustSend(fixtures.Body(t, "return-created-tokopedia.json"), http.StatusOK)
	w.replayCreatesNothing("invoice.created:70002", "return.created:95001", "payment.received:90102")
}

func TestReturnBeforeItsFakturWaitsForIt(t *testing.T) {
	w := newWorld(t)
	w.start()
	w.mustSend(fixtures.Body(t, "return-created-tokopedia.json"), http.StatusAccepted)
	if !wait.Until(30e9, 20e6, func() bool { return w.event("return.created:95001")["state"] == events.StateRetrying }) {
		t.Fatalf("the return did not wait: %v", w.event("return.created:95001"))
	}
	if reason := fmt.Sprint(w.event("return.created:95001")["last_error"]); !strings.Contains(reason, "not in Accurate yet") {
		t.Errorf("waiting reason %q", reason)
	}
	w.mustSend(fixtures.Body(t, "invoice-created-tokopedia-bundle.json"), http.StatusAccepted)
	w.mustEnd("invoice.created:70002", events.StateSynced)
	w.mustEnd("return.created:95001", events.StateSynced)
	if len(w.sandbox.Returns()) != 1 || w.owing(tokopediaFaktur) != money.Rupiah(102000) {
		t.Fatalf("returs %+v", w.sandbox.Returns())
	}
	w.replayCreatesNothing("return.created:95001")
}

func TestTwoPartialReturnsOfOneLineReverseItExactlyAndAThirdIsAnOverReturn(t *testing.T) {
	w := newWorld(t)
	w.start()
	// The example order with three bundles on line 11: 420,000 shared
	// 178,000 : 55,000 → KAOS-HTM-L 6 × 53,477 less 4, BRG-TOPI-01 3 × 33,048 less 2.
	inv := fixtures.Replaced(t, "invoice-created-tokopedia-bundle.json", `"sale_price": 140000, "total_price": 140000,`, `"sale_price": 140000, "total_price": 420000, "quantity": 3,`)
	w.mustSend(inv, http.StatusAccepted)
	w.mustEnd("invoice.created:70002", events.StateSynced)
	faktur := w.sandbox.Invoices()[0]
	if faktur.TotalAmount != money.Rupiah(420000+95000-5000+12000) {
		t.Fatalf("faktur total %s", faktur.TotalAmount.Format())
	}
	w.mustSend(tokopediaReturn(95011, 11, "PAKET-HEMAT", 1, 0), http.StatusAccepted)
	w.mustEnd("return.created:95011", events.StateSynced)
	w.mustSend(tokopediaReturn(95012, 11, "PAKET-HEMAT", 2, 0), http.StatusAccepted)
	w.mustEnd("return.created:95012", events.StateSynced)

	rets := w.sandbox.Returns()
	var total money.Amount
	discounts := map[string]money.Amount{}
	quantities := map[string]int64{}
	for _, r := range rets {
		total += r.TotalAmount
		for _, l := range r.DetailItem {
			discounts[l.ItemNo] += l.ItemCashDiscount
			quantities[l.ItemNo] += l.Quantity
		}
	}
	if total != money.Rupiah(420000) || discounts["KAOS-HTM-L"] != money.Rupiah(4) || discounts["BRG-TOPI-01"] != money.Rupiah(2) ||
		quantities["KAOS-HTM-L"] != 6 || quantities["BRG-TOPI-01"] != 3 {
		t.Errorf("the two returns give back %s, discounts %v, quantities %v; want 420,000 exactly, 4 and 2, 6 and 3", total.Format(), discounts, quantities)
	}
	if r := rets[0]; r.DetailItem[0].ItemCashDiscount != money.Amount(133) || r.DetailItem[1].ItemCashDiscount != money.Amount(66) {
		t.Errorf("the first return takes a third of each discount, rounded down to the sen (1.33 and 0.66): %+v", r.DetailItem)
	}

	w.mustSend(tokopediaReturn(95013, 11, "PAKET-HEMAT", 1, 0), http.StatusAccepted)
	over := w.mustEnd("return.created:95013", events.StateFailed)
	if reason := fmt.Sprint(over["last_error"]); !strings.Contains(reason, "line 11 (SKU PAKET-HEMAT) returns 1, but the order has 0 left to return (3 sold, 3 returned before)") {
		t.Errorf("over-return reason %q", reason)
	}
	w.replayCreatesNothing("return.created:95011", "return.created:95012", "return.created:95013")
}
