package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

var exampleKeys = []string{"invoice.created:70001", "invoice.created:70002", "payment.received:90001", "payment.received:90002"}

func TestExamplesSyncEndToEnd(t *testing.T) { examplesSyncEndToEnd(t, newWorld(t)) }

func examplesSyncEndToEnd(t *testing.T, w *world) {
	w.start()
	// Payouts come days after the orders: the invoices sync first.
	for i, name := range examples.Webhooks {
		if status := w.send(fixtures.Body(t, name)); status != http.StatusAccepted {
			t.Fatalf("deliver %s = %d; want 202", name, status)
		}
		if i == 1 {
			w.waitFor(exampleKeys[:2], 30*time.Second)
		}
	}
	states := w.waitFor(exampleKeys, 30*time.Second)
	for _, k := range exampleKeys {
		if states[k] != "synced" {
			t.Fatalf("%s ended %q: %v", k, states[k], w.event(k)["last_error"])
		}
	}

	t.Run("Accurate holds exactly the documents the mapping makes of the examples", func(t *testing.T) {
		settings, err := mapping.Parse(fixtures.Body(t, "mapping.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		dec := forstok.NewDecoder()
		// The two invoices sync concurrently, so Accurate may hold them in
		// either order: match each faktur to its example by number.
		invoices := map[string]sandbox.StoredInvoice{}
		for _, inv := range w.sandbox.Invoices() {
			invoices[inv.Number] = inv
		}
		if len(invoices) != 2 {
			t.Fatalf("sandbox holds %d fakturs (%v); want 2", len(invoices), slices.Collect(maps.Keys(invoices)))
		}
		wantTotals := map[string]money.Amount{"2411260AB12CD3": money.Rupiah(233000), "INV/20261126/MPL/3819022331": money.Rupiah(242000)}
		for _, name := range examples.Webhooks[:2] {
			ev, err := dec.Decode(fixtures.Body(t, name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := settings.SalesInvoice(ev.Invoice)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := invoices[want.Number]
			if !ok {
				t.Errorf("Accurate holds no faktur %s (from %s)", want.Number, name)
				continue
			}
			if !sameJSON(t, got.SalesInvoice, want) {
				t.Errorf("faktur %s in Accurate:\n%s\nwant:\n%s", want.Number, asJSON(got.SalesInvoice), asJSON(want))
			}
			if got.TotalAmount != wantTotals[want.Number] || got.PrimeOwing != 0 {
				t.Errorf("faktur %s total %s owing %s; want total %s, fully paid", want.Number, got.TotalAmount, got.PrimeOwing, wantTotals[want.Number])
			}
		}
		receipts := w.sandbox.Receipts()
		wantCheques := map[string]money.Amount{"FP-90001": money.Rupiah(212350), "FP-90002": money.Rupiah(229600)}
		if len(receipts) != 2 {
			t.Fatalf("sandbox holds %d penerimaan; want 2", len(receipts))
		}
		byNumber := map[string]sandbox.StoredReceipt{}
		for _, r := range receipts {
			byNumber[r.Number] = r
		}
		for number, cheque := range wantCheques {
			r, ok := byNumber[number]
			if !ok {
				t.Errorf("Accurate holds no penerimaan %s", number)
				continue
			}
			if r.ChequeAmount != cheque || r.Balance() != r.ChequeAmount {
				t.Errorf("penerimaan %s cheque %s balance %s; want %s, balanced", r.Number, r.ChequeAmount, r.Balance(), cheque)
			}
		}
	})

	t.Run("each event records the Accurate number it produced", func(t *testing.T) {
		want := map[string]string{
			"invoice.created:70001": "2411260AB12CD3", "invoice.created:70002": "INV/20261126/MPL/3819022331",
			"payment.received:90001": "FP-90001", "payment.received:90002": "FP-90002",
		}
		for key, number := range want {
			ev := w.event(key)
			if ev["accurate_number"] != number || ev["accurate_id"] == float64(0) || ev["attempts"] != float64(1) {
				t.Errorf("%s: number %v id %v attempts %v; want %s, an id, one attempt", key, ev["accurate_number"], ev["accurate_id"], ev["attempts"], number)
			}
		}
	})

	t.Run("the happy path costs at most one bulk save per document and no detail look-ups", func(t *testing.T) {
		calls := w.sandbox.Calls()
		for endpoint, want := range map[string][2]int{
			"sales-invoice/bulk-save": {1, 2}, "sales-receipt/bulk-save": {1, 2}, "sales-invoice/save": {0, 0}, "sales-receipt/save": {0, 0},
			"sales-invoice/detail": {0, 0}, "sales-invoice/list": {0, 0},
		} {
			if calls[endpoint] < want[0] || calls[endpoint] > want[1] {
				t.Errorf("%s called %d times; want %d to %d (all calls: %v)", endpoint, calls[endpoint], want[0], want[1], calls)
			}
		}
	})

	t.Run("replaying a synced event creates nothing new", func(t *testing.T) {
		attempts := map[string]float64{}
		for _, key := range exampleKeys {
			attempts[key], _ = w.event(key)["attempts"].(float64)
			if status, body := w.admin(http.MethodPost, "/admin/events/"+key+"/replay", nil); status != http.StatusAccepted {
				t.Fatalf("replay %s = %d %v", key, status, body)
			}
		}
		// Wait until every replay has run and settled.
		deadline := time.Now().Add(30 * time.Second)
		for _, key := range exampleKeys {
			for {
				ev := w.event(key)
				if ev["attempts"] == attempts[key]+1 && ev["state"] == "synced" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s after replay: %v", key, ev)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if n, m := len(w.sandbox.Invoices()), len(w.sandbox.Receipts()); n != 2 || m != 2 {
			t.Errorf("after replays Accurate holds %d fakturs and %d penerimaan; want 2 and 2", n, m)
		}
	})
}

func TestPaymentBeforeItsInvoiceWaitsThenSyncs(t *testing.T) {
	w := newWorld(t)
	w.start()
	if status := w.send(fixtures.Body(t, "payment-received-shopee.json")); status != http.StatusAccepted {
		t.Fatalf("payment = %d", status)
	}
	states := w.waitFor([]string{"payment.received:90001"}, 10*time.Second, "retrying", "failed", "synced")
	ev := w.event("payment.received:90001")
	if states["payment.received:90001"] != "retrying" || !strings.Contains(ev["last_error"].(string), "2411260AB12CD3") || ev["next_attempt_at"] == nil {
		t.Fatalf("payment before its invoice: %v; want retrying, naming the faktur, with a next attempt", ev)
	}
	if status := w.send(fixtures.Body(t, "invoice-created-shopee.json")); status != http.StatusAccepted {
		t.Fatalf("invoice = %d", status)
	}
	states = w.waitFor([]string{"invoice.created:70001", "payment.received:90001"}, 30*time.Second)
	if states["invoice.created:70001"] != "synced" || states["payment.received:90001"] != "synced" {
		t.Fatalf("states = %v; want both synced", states)
	}
	if n := len(w.sandbox.Receipts()); n != 1 {
		t.Errorf("Accurate holds %d penerimaan; want 1", n)
	}
}

func TestMappingFailureIsFixedAndReplayed(t *testing.T) {
	mappingFailureIsFixedAndReplayed(t, newWorld(t))
}

func mappingFailureIsFixedAndReplayed(t *testing.T, w *world) {
	// The Tokopedia store is not mapped yet.
	w.mapping = w.writeMapping(fixtures.MappingWithoutStore(t, "1010"))
	w.start()
	const key = "invoice.created:70002"
	w.send(fixtures.Body(t, "invoice-created-tokopedia-bundle.json"))
	states := w.waitFor([]string{key}, 20*time.Second)
	ev := w.event(key)
	reason, _ := ev["last_error"].(string)
	if states[key] != "failed" || !strings.Contains(reason, `stores."1010"`) || ev["attempts"] != float64(1) {
		t.Fatalf("unmapped store: %v; want failed at once, naming stores.\"1010\"", ev)
	}
	if n := w.sandbox.Calls()["sales-invoice/bulk-save"]; n != 0 {
		t.Errorf("a mapping failure still called Accurate %d times", n)
	}

	w.stop()
	w.mapping = w.writeMapping(fixtures.MappingYAML(t))
	w.start()
	if status, body := w.admin(http.MethodPost, "/admin/events/"+key+"/replay", nil); status != http.StatusAccepted {
		t.Fatalf("replay = %d %v", status, body)
	}
	states = w.waitFor([]string{key}, 20*time.Second, "synced")
	if states[key] != "synced" || len(w.sandbox.Invoices()) != 1 {
		t.Fatalf("after the fix and a replay: %v, %d fakturs", w.event(key), len(w.sandbox.Invoices()))
	}
}

func TestFaultyAccurateLosesNothingAndDuplicatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("400 events through a faulty Accurate")
	}
	// Accurate's limits are lifted here so that the test measures faults,
	// not patience; the load scripts measure the limits.
	w := newWorld(t, func(c *sandbox.Config) {
		c.RateLimit, c.MaxConcurrency = 0, 0
		c.Faults = sandbox.Faults{ErrorRate: 0.3, LoseRate: 0.1}
	})
	w.extraEnv = map[string]string{"ACCURATE_RATE_LIMIT": "1000", "ACCURATE_MAX_CONCURRENCY": "16", "WORKER_CONCURRENCY": "16"}
	w.start()
	const n = 200
	var keys []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		keys = append(keys, invoiceKey(i), paymentKey(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, body := range [][]byte{generatedInvoice(i), generatedPayment(i)} {
				if status := w.send(body); status != http.StatusAccepted {
					t.Errorf("delivery %d = %d", i, status)
				}
			}
		}()
	}
	wg.Wait()
	states := w.waitFor(keys, 4*time.Minute)
	if c := count(states); c["synced"] != 2*n {
		t.Fatalf("states = %v; want all %d synced", c, 2*n)
	}
	assertOneDocumentEach(t, w.sandbox, n)
}

// assertOneDocumentEach checks Accurate holds exactly one faktur and one
// penerimaan per generated order, each paid in full.
func assertOneDocumentEach(t *testing.T, sb *sandbox.Server, n int) {
	t.Helper()
	invoices, receipts := sb.Invoices(), sb.Receipts()
	seen := map[string]int{}
	for _, inv := range invoices {
		seen[inv.Number]++
		if inv.PrimeOwing != 0 {
			t.Errorf("faktur %s still owes %s", inv.Number, inv.PrimeOwing)
		}
	}
	for _, r := range receipts {
		seen[r.Number]++
	}
	dupes := 0
	for number, c := range seen {
		if c > 1 {
			dupes++
			t.Errorf("%s exists %d times in Accurate", number, c)
		}
	}
	if len(invoices) != n || len(receipts) != n || dupes != 0 {
		t.Errorf("Accurate holds %d fakturs and %d penerimaan (%d duplicated numbers); want %d of each, none duplicated", len(invoices), len(receipts), dupes, n)
	}
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return asJSON(a) == asJSON(b)
}

func TestRetriesEndInFailureWithTheLastReason(t *testing.T) {
	t.Run("Accurate down for good: the event fails after MAX_ATTEMPTS with Accurate's answer", func(t *testing.T) {
		w := newWorld(t, func(c *sandbox.Config) { c.Faults.ErrorRate = 1 })
		w.extraEnv = map[string]string{"MAX_ATTEMPTS": "3"}
		w.start()
		w.send(generatedInvoice(1))
		states := w.waitFor([]string{invoiceKey(1)}, 30*time.Second)
		ev := w.event(invoiceKey(1))
		reason, _ := ev["last_error"].(string)
		if states[invoiceKey(1)] != "failed" || ev["attempts"] != float64(3) || !strings.Contains(reason, "gave up after 3 attempts") || !strings.Contains(reason, "transient") {
			t.Errorf("event = %v; want failed after 3 attempts with the last reason", ev)
		}
	})

	t.Run("a payment whose faktur never comes fails after PAYMENT_INVOICE_WAIT, naming it", func(t *testing.T) {
		w := newWorld(t)
		w.extraEnv = map[string]string{"PAYMENT_INVOICE_WAIT": "2s"}
		w.start()
		w.send(generatedPayment(1))
		states := w.waitFor([]string{paymentKey(1)}, 30*time.Second)
		ev := w.event(paymentKey(1))
		reason, _ := ev["last_error"].(string)
		if states[paymentKey(1)] != "failed" || !strings.Contains(reason, "GEN-000001") || !strings.Contains(reason, "waiting 2s") {
			t.Errorf("event = %v; want failed after waiting, naming faktur GEN-000001", ev)
		}
		if n := len(w.sandbox.Receipts()); n != 0 {
			t.Errorf("Accurate holds %d penerimaan; want none", n)
		}
	})
}

func TestMetricsMove(t *testing.T) {
	w := newWorld(t)
	w.start()
	w.send(generatedInvoice(7))
	w.send(generatedInvoice(7))
	w.send([]byte(`{"type":"invoice.created","data":{}}`))
	w.waitFor([]string{invoiceKey(7)}, 20*time.Second)
	want := []string{
		`fas_webhooks_total{outcome="accepted",type="invoice.created"} 1`,
		`fas_webhooks_total{outcome="duplicate",type="invoice.created"} 1`,
		`fas_webhooks_total{outcome="invalid",type="invoice.created"} 1`,
		`fas_event_attempts_total{state="synced",type="invoice.created"} 1`,
		`fas_events{state="synced"} 1`,
		`fas_queue_depth 0`,
		`fas_accurate_requests_total{endpoint="sales-invoice/bulk-save",outcome="ok"} 1`,
		`fas_accurate_request_duration_seconds_count{endpoint="sales-invoice/bulk-save"} 1`,
		// The save, and the credentials check at start (one customer id).
		`fas_accurate_requests_total{endpoint="customer/list",outcome="ok"} 1`,
		`fas_accurate_limiter_wait_seconds_count 2`,
	}
	// The worker counts an attempt just after it records the state the
	// admin API shows, so the figures are polled, not read once.
	var missing []string
	wait.Until(10*time.Second, 100*time.Millisecond, func() bool {
		missing = missing[:0]
		scraped := w.metrics()
		for _, line := range want {
			if !strings.Contains(scraped, line) {
				missing = append(missing, line)
			}
		}
		return len(missing) == 0
	})
	for _, line := range missing {
		t.Errorf("/metrics lacks %s", line)
	}
}

func TestReplayWhileProcessingIsAConflict(t *testing.T) {
	w := newWorld(t, func(c *sandbox.Config) { c.Faults.Latency = 2 * time.Second })
	w.start()
	w.send(generatedInvoice(3))
	if states := w.waitFor([]string{invoiceKey(3)}, 20*time.Second, "processing"); states[invoiceKey(3)] != "processing" {
		t.Fatalf("the event never showed as processing: %v", states)
	}
	status, body := w.admin(http.MethodPost, "/admin/events/"+invoiceKey(3)+"/replay", nil)
	if status != http.StatusConflict || !strings.Contains(fmt.Sprint(body["error"]), "wait until it finishes") {
		t.Errorf("replay while processing = %d %v; want 409 saying to wait", status, body)
	}
	if states := w.waitFor([]string{invoiceKey(3)}, 20*time.Second); states[invoiceKey(3)] != "synced" || len(w.sandbox.Invoices()) != 1 {
		t.Errorf("after the conflict: %v, %d fakturs; want synced once", states, len(w.sandbox.Invoices()))
	}
}
