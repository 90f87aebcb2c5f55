package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/money"
)

// invoice.voided through the real HTTP path, a real Redis, the workers and
// the sandbox: every rule of the lifecycle, and every case replayed once
// more creating nothing new.

// generatedVoid voids generatedInvoice(n).
func generatedVoid(n int) []byte {
	return []byte(fmt.Sprintf(`{"type":"invoice.voided","timestamp":"2026-11-28T18:45:03+07:00","data":{
 "id":%d,"invoice_reference":"INV/GEN/%d","voided_at":"2026-11-28T18:45:00+07:00","reason":"Dibatalkan oleh pembeli",
 "order":{"id":%d,"local_name":"GEN-%06d","store_id":1009}}}`, 800000+n, n, 500000+n, n))
}

func voidKey(n int) string { return fmt.Sprintf("invoice.voided:%d", 800000+n) }

// generatedPaymentOfTwo pays generatedInvoice(a) and (b) in one payout.
func generatedPaymentOfTwo(id, a, b int) []byte {
	return []byte(fmt.Sprintf(`{"type":"payment.received","timestamp":"2026-11-29T10:00:00+07:00","data":{
 "id":%d,"paid_at":"2026-11-29T10:00:00+07:00","store_id":1009,"amount_receive":"169100.00",
 "invoices":[{"id":%d,"order":{"id":%d,"local_name":"GEN-%06d","store_id":1009},"service_fee":4450},
  {"id":%d,"order":{"id":%d,"local_name":"GEN-%06d","store_id":1009},"service_fee":4450}]}}`,
		id, 800000+a, 500000+a, a, 800000+b, 500000+b, b))
}

// mustEnd waits for key to reach state and returns the event.
func (w *world) mustEnd(key, state string) map[string]any {
	w.t.Helper()
	got := w.waitFor([]string{key}, 60*time.Second, events.StateSynced, events.StateFailed, events.StateVoided)[key]
	ev := w.event(key)
	if got != state {
		w.t.Fatalf("%s ended %q, want %q: %v", key, got, state, ev["last_error"])
	}
	return ev
}

func (w *world) mustSend(body []byte, status int) {
	w.t.Helper()
	if got := w.send(body); got != status {
		w.t.Fatalf("webhook answered %d, want %d", got, status)
	}
}

func (w *world) hasFaktur(number string) bool {
	for _, inv := range w.sandbox.Invoices() {
		if inv.Number == number {
			return true
		}
	}
	return false
}

func (w *world) hasReceipt(number string) bool {
	for _, rc := range w.sandbox.Receipts() {
		if rc.Number == number {
			return true
		}
	}
	return false
}

// changes counts the calls that change Accurate.
func (w *world) changes() int {
	n := 0
	for k, v := range w.sandbox.Calls() {
		if strings.HasSuffix(k, "/save") || strings.HasSuffix(k, "/delete") || strings.HasSuffix(k, "/bulk-save") {
			n += v
		}
	}
	return n
}

// replayCreatesNothing replays each key once more and checks that each ends
// as before and that Accurate saw no change.
func (w *world) replayCreatesNothing(keys ...string) {
	w.t.Helper()
	before := w.changes()
	for _, k := range keys {
		want := w.event(k)["state"].(string)
		status, body := w.admin(http.MethodPost, "/admin/events/"+k+"/replay", nil)
		if want == events.StateVoided {
			if status != http.StatusConflict || !strings.Contains(fmt.Sprint(body["error"]), "invoice.voided:") {
				w.t.Errorf("replaying voided %s answered %d %v; want 409 naming the void", k, status, body)
			}
			continue
		}
		if status != http.StatusAccepted {
			w.t.Fatalf("replay %s = %d %v", k, status, body)
		}
		if !wait.Until(60*time.Second, 50*time.Millisecond, func() bool {
			ev := w.event(k)
			return ev["state"] == want && len(ev["history"].([]any)) > 0 &&
				strings.Contains(fmt.Sprint(ev["history"]), "replayed") && ev["state"] != events.StateQueued
		}) {
			w.t.Errorf("%s did not end %s again after its replay: %v", k, want, w.event(k)["last_error"])
		}
	}
	if after := w.changes(); after != before {
		w.t.Errorf("replaying %v changed Accurate %d times; want nothing new (calls %v)", keys, after-before, w.sandbox.Calls())
	}
}

func TestVoidOfTheExampleDeletesItsFaktur(t *testing.T) {
	voidOfTheExampleDeletesItsFaktur(t, newWorld(t))
}

func voidOfTheExampleDeletesItsFaktur(t *testing.T, w *world) {
	w.start()
	w.mustSend(fixtures.Body(t, "invoice-created-shopee-cancelled.json"), http.StatusAccepted)
	inv := w.mustEnd("invoice.created:70003", events.StateSynced)
	if inv["accurate_number"] != "2411280XY99ZZ1" || !w.hasFaktur("2411280XY99ZZ1") {
		t.Fatalf("the faktur was not posted: %v", inv)
	}
	got := w.sandbox.Invoices()[0]
	if got.TotalAmount != money.Rupiah(89000) || got.CustomerNo != "C-SHOPEE" || got.BranchName != "Jakarta" || got.TransDate.String() != "28/11/2026" {
		t.Errorf("faktur %+v; want 89,000 for C-SHOPEE, Jakarta, 28/11/2026", got)
	}

	w.mustSend(fixtures.Body(t, "invoice-voided-shopee.json"), http.StatusAccepted)
	void := w.mustEnd("invoice.voided:70003", events.StateSynced)
	if w.hasFaktur("2411280XY99ZZ1") {
		t.Fatal("the faktur is still in Accurate after its void")
	}
	if !strings.Contains(fmt.Sprint(void["history"]), "faktur 2411280XY99ZZ1 deleted") {
		t.Errorf("the void's history does not say what it deleted: %v", void["history"])
	}
	w.mustSend(fixtures.Body(t, "invoice-voided-shopee.json"), http.StatusOK) // a redelivery is a duplicate
	w.replayCreatesNothing("invoice.voided:70003")
}

func TestVoidBeforeItsInvoiceEventKeepsTheInvoiceFromEverPosting(t *testing.T) {
	voidBeforeItsInvoiceEvent(t, newWorld(t))
}

func voidBeforeItsInvoiceEvent(t *testing.T, w *world) {
	w.start()
	w.mustSend(generatedVoid(1), http.StatusAccepted)
	void := w.mustEnd(voidKey(1), events.StateSynced)
	if !strings.Contains(fmt.Sprint(void["history"]), "not in Accurate: nothing to delete") {
		t.Errorf("history %v", void["history"])
	}
	if w.sandbox.Calls()["sales-invoice/delete"] != 0 {
		t.Error("the void called delete for a faktur that never existed")
	}

	w.mustSend(generatedInvoice(1), http.StatusAccepted)
	inv := w.mustEnd(invoiceKey(1), events.StateVoided)
	if inv["voided_by"] != voidKey(1) || w.hasFaktur("GEN-000001") {
		t.Fatalf("the invoice: %v; faktur posted %v", inv, w.hasFaktur("GEN-000001"))
	}

	t.Run("its replay is a 409 that names the void, by key and by body", func(t *testing.T) {
		status, body := w.admin(http.MethodPost, "/admin/events/"+invoiceKey(1)+"/replay", nil)
		if status != http.StatusConflict || !strings.Contains(fmt.Sprint(body["error"]), voidKey(1)) {
			t.Errorf("replay = %d %v", status, body)
		}
		status, body = w.admin(http.MethodPost, "/admin/replay", generatedInvoice(1))
		if status != http.StatusConflict || !strings.Contains(fmt.Sprint(body["error"]), voidKey(1)) {
			t.Errorf("replay of the body = %d %v", status, body)
		}
	})
	t.Run("a later delivery is a duplicate and posts nothing", func(t *testing.T) {
		w.mustSend(generatedInvoice(1), http.StatusOK)
		if w.event(invoiceKey(1))["state"] != events.StateVoided || w.hasFaktur("GEN-000001") {
			t.Error("the redelivery changed the voided invoice")
		}
	})
	t.Run("the admin list filters voided events", func(t *testing.T) {
		status, body := w.admin(http.MethodGet, "/admin/events?state=voided&type=invoice.created", nil)
		if status != http.StatusOK || len(body["events"].([]any)) != 1 {
			t.Errorf("list = %d %v", status, body)
		}
	})
	w.replayCreatesNothing(voidKey(1), invoiceKey(1))
}

func TestVoidBetweenTheRetriesOfItsInvoice(t *testing.T) {
	w := newWorld(t)
	w.start()
	w.sandbox.SetFaults(sandbox.Faults{ErrorRate: 1})
	w.mustSend(generatedInvoice(2), http.StatusAccepted)
	if !wait.Until(30*time.Second, 20*time.Millisecond, func() bool { return w.event(invoiceKey(2))["state"] == events.StateRetrying }) {
		t.Fatalf("the invoice never retried: %v", w.event(invoiceKey(2)))
	}
	w.mustSend(generatedVoid(2), http.StatusAccepted)
	w.mustEnd(invoiceKey(2), events.StateVoided)
	w.sandbox.SetFaults(sandbox.Faults{})
	w.mustEnd(voidKey(2), events.StateSynced)
	if w.hasFaktur("GEN-000002") || w.sandbox.Calls()["sales-invoice/bulk-save"] != 0 {
		t.Fatalf("the voided invoice posted: calls %v", w.sandbox.Calls())
	}
	w.replayCreatesNothing(voidKey(2), invoiceKey(2))
}

func TestVoidAfterPayment(t *testing.T) {
	t.Run("a penerimaan that pays only this faktur is deleted first, then the faktur", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		w.postedAndPaid(3)
		if !w.hasReceipt("FP-900003") {
			t.Fatal("no penerimaan")
		}
		w.mustSend(generatedVoid(3), http.StatusAccepted)
		void := w.mustEnd(voidKey(3), events.StateSynced)
		if w.hasFaktur("GEN-000003") || w.hasReceipt("FP-900003") {
			t.Fatalf("left in Accurate: faktur %v, penerimaan %v", w.hasFaktur("GEN-000003"), w.hasReceipt("FP-900003"))
		}
		if !strings.Contains(fmt.Sprint(void["history"]), "penerimaan FP-900003 (paying only this faktur) deleted, then faktur GEN-000003") {
			t.Errorf("history %v", void["history"])
		}
		w.replayCreatesNothing(voidKey(3))
	})
	t.Run("a penerimaan that pays other fakturs too stops the void, naming them", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		w.posted(4, 5)
		w.mustSend(generatedPaymentOfTwo(910045, 4, 5), http.StatusAccepted)
		w.mustEnd("payment.received:910045", events.StateSynced)
		w.mustSend(generatedVoid(4), http.StatusAccepted)
		void := w.mustEnd(voidKey(4), events.StateFailed)
		reason := fmt.Sprint(void["last_error"])
		says(t, "the reason", reason, "GEN-000004 was not deleted", "FP-910045", "GEN-000005")
		if !w.hasFaktur("GEN-000004") || !w.hasReceipt("FP-910045") {
			t.Error("something was deleted")
		}
		w.replayCreatesNothing(voidKey(4))
		if w.event(voidKey(4))["state"] != events.StateFailed {
			t.Error("the replayed void did not fail again")
		}
	})
}

func TestPaymentAfterAVoidFailsAtOnceNamingTheVoid(t *testing.T) {
	w := newWorld(t)
	w.extraEnv = map[string]string{"PAYMENT_INVOICE_WAIT": "1h"}
	w.start()
	w.mustSend(generatedVoid(6), http.StatusAccepted)
	w.mustEnd(voidKey(6), events.StateSynced)
	w.mustSend(generatedPayment(6), http.StatusAccepted)
	pay := w.mustEnd(paymentKey(6), events.StateFailed)
	if reason := fmt.Sprint(pay["last_error"]); !strings.Contains(reason, "voided by "+voidKey(6)) || strings.Contains(reason, "gave up after waiting") {
		t.Errorf("the reason %q should name the void at once", reason)
	}
	if pay["attempts"].(float64) != 1 {
		t.Errorf("it took %v attempts; a payment of a voided invoice must not wait", pay["attempts"])
	}
	w.replayCreatesNothing(paymentKey(6))
}

// generatedVoidOf is a void of invoice id naming the faktur of
// generatedInvoice(n) as its order's local_name.
func generatedVoidOf(id int64, n int) []byte {
	return []byte(fmt.Sprintf(`{"type":"invoice.voided","timestamp":"2026-11-28T18:45:03+07:00","data":{
 "id":%d,"invoice_reference":"INV/GEN/X","voided_at":"2026-11-28T18:45:00+07:00","reason":"Dibatalkan",
 "order":{"id":%d,"local_name":"GEN-%06d","store_id":1009}}}`, id, id, n))
}

// mustFailVoid waits for a void to fail, deleting nothing, and checks that
// its failure is kind void with record, and that its reason says each of says.
func (w *world) mustFailVoid(key, record string, says ...string) {
	w.t.Helper()
	ev := w.mustEnd(key, events.StateFailed)
	f, _ := ev["failure"].(map[string]any)
	if f["kind"] != events.FailVoid || f["record"] != record {
		w.t.Errorf("failure %v; want kind void, record %q", f, record)
	}
	reason := fmt.Sprint(ev["last_error"])
	for _, want := range says {
		if !strings.Contains(reason, want) {
			w.t.Errorf("the reason %q does not say %q", reason, want)
		}
	}
	if n := w.sandbox.Calls()["sales-invoice/delete"] + w.sandbox.Calls()["sales-receipt/delete"]; n != 0 {
		w.t.Errorf("the void called delete %d times; a void that fails deletes nothing", n)
	}
}

// posted syncs generatedInvoice(n) of each n.
func (w *world) posted(ns ...int) {
	w.t.Helper()
	for _, n := range ns {
		w.mustSend(generatedInvoice(n), http.StatusAccepted)
		w.mustEnd(invoiceKey(n), events.StateSynced)
	}
}

// postedAndPaid syncs generatedInvoice(n) and then generatedPayment(n).
func (w *world) postedAndPaid(n int) {
	w.t.Helper()
	w.posted(n)
	w.mustSend(generatedPayment(n), http.StatusAccepted)
	w.mustEnd(paymentKey(n), events.StateSynced)
}

// A void deletes only what this service posted for the void's own invoice,
// and a penerimaan only when the service's record of it and Accurate agree.
func TestVoidsAreDecidedClosed(t *testing.T) {
	t.Run("a void naming another invoice's faktur deletes nothing and names the owner", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		w.posted(7)
		w.mustSend(generatedVoidOf(800070, 7), http.StatusAccepted) // invoice 800070 never reached the service
		w.mustFailVoid("invoice.voided:800070", "faktur GEN-000007", "belongs to "+invoiceKey(7), "invoice.created:800070")
		if !w.hasFaktur("GEN-000007") || w.event(invoiceKey(7))["state"] != events.StateSynced {
			t.Error("the other invoice's faktur was touched")
		}
		t.Run("and so does the same void replayed by body through the admin API", func(t *testing.T) {
			if status, body := w.admin(http.MethodPost, "/admin/replay", generatedVoidOf(800070, 7)); status != http.StatusAccepted {
				t.Fatalf("replay = %d %v", status, body)
			}
			if !wait.Until(30*time.Second, 50*time.Millisecond, func() bool {
				ev := w.event("invoice.voided:800070")
				return ev["state"] == events.StateFailed && strings.Contains(fmt.Sprint(ev["history"]), "replayed")
			}) {
				t.Fatalf("the replayed void: %v", w.event("invoice.voided:800070"))
			}
			if !w.hasFaktur("GEN-000007") {
				t.Error("the replay deleted the other invoice's faktur")
			}
		})
	})
	t.Run("a faktur typed into Accurate by hand is never deleted", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		byHand, err := accurate.New(accurate.Config{Host: w.accURL, APIToken: testToken, SignatureSecret: testSigSecret})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := byHand.SaveSalesInvoice(t.Context(), &accurate.SalesInvoice{
			Number: "GEN-000009", TransDate: accurate.Date{Year: 2026, Month: 11, Day: 26}, CustomerNo: "C-SHOPEE", BranchName: "Jakarta",
			DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(89000), WarehouseName: "Utama"}},
		}); err != nil {
			t.Fatal(err)
		}
		w.mustSend(generatedVoid(9), http.StatusAccepted)
		w.mustFailVoid(voidKey(9), "faktur GEN-000009", "no event of this service posted it")
		if !w.hasFaktur("GEN-000009") {
			t.Error("the hand-made faktur was deleted")
		}
	})
	t.Run("an answer that does not list the penerimaan's fakturs deletes nothing until it does", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		w.postedAndPaid(10)
		w.sandbox.SetFaults(sandbox.Faults{ReceiptDetailWithoutInvoices: true})
		w.mustSend(generatedVoid(10), http.StatusAccepted)
		w.mustFailVoid(voidKey(10), "penerimaan FP-900010", "GEN-000010 was not deleted", "answer for penerimaan FP-900010 does not say which fakturs it settles")
		if !w.hasFaktur("GEN-000010") || !w.hasReceipt("FP-900010") {
			t.Fatal("something was deleted")
		}
		w.sandbox.SetFaults(sandbox.Faults{})
		if status, body := w.admin(http.MethodPost, "/admin/events/"+voidKey(10)+"/replay", nil); status != http.StatusAccepted {
			t.Fatalf("replay = %d %v", status, body)
		}
		if !wait.Until(30*time.Second, 50*time.Millisecond, func() bool { return w.event(voidKey(10))["state"] == events.StateSynced }) {
			t.Fatalf("the replayed void did not sync once Accurate listed the fakturs: %v", w.event(voidKey(10))["last_error"])
		}
		if w.hasFaktur("GEN-000010") || w.hasReceipt("FP-900010") {
			t.Error("the replayed void left the faktur or its penerimaan")
		}
	})
	t.Run("a penerimaan Accurate lists with a faktur this service's record lacks is kept, and so is the faktur", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		w.posted(11, 12)
		w.mustSend(generatedPayment(11), http.StatusAccepted)
		w.mustEnd(paymentKey(11), events.StateSynced)
		// The seller adds faktur GEN-000012 to the penerimaan in Accurate.
		if !w.sandbox.EditReceipt("FP-900011", func(r *accurate.SalesReceipt) {
			r.DetailInvoice = append(r.DetailInvoice, accurate.ReceiptInvoice{InvoiceNo: "GEN-000012", PaymentAmount: money.Rupiah(1000)})
		}) {
			t.Fatal("no penerimaan FP-900011")
		}
		w.mustSend(generatedVoid(11), http.StatusAccepted)
		w.mustFailVoid(voidKey(11), "penerimaan FP-900011", "penerimaan FP-900011 lists faktur GEN-000012, which this service's record of the payment does not")
		if !w.hasFaktur("GEN-000011") || !w.hasReceipt("FP-900011") {
			t.Error("something was deleted")
		}
	})
	t.Run("a record and an answer that agree delete the penerimaan first, then the faktur", func(t *testing.T) {
		w := newWorld(t)
		w.start()
		w.postedAndPaid(13)
		w.mustSend(generatedVoid(13), http.StatusAccepted)
		void := w.mustEnd(voidKey(13), events.StateSynced)
		if w.hasFaktur("GEN-000013") || w.hasReceipt("FP-900013") {
			t.Fatalf("left in Accurate: faktur %v, penerimaan %v", w.hasFaktur("GEN-000013"), w.hasReceipt("FP-900013"))
		}
		// Accurate refuses to delete a faktur a penerimaan still uses: one
		// delete of each means the penerimaan went first.
		if c := w.sandbox.Calls(); c["sales-receipt/delete"] != 1 || c["sales-invoice/delete"] != 1 {
			t.Errorf("deletes: penerimaan %d, faktur %d; want one each", c["sales-receipt/delete"], c["sales-invoice/delete"])
		}
		if !strings.Contains(fmt.Sprint(void["history"]), "penerimaan FP-900013 (paying only this faktur) deleted, then faktur GEN-000013") {
			t.Errorf("history %v", void["history"])
		}
	})
}
