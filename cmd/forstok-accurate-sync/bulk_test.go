package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
)

// sendAll delivers the bodies from a few senders at once, as Forstok does
// after a sale, so that the service has a backlog to drain.
func (w *world) sendAll(bodies [][]byte) {
	w.t.Helper()
	var wg sync.WaitGroup
	next := make(chan []byte)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if status := w.send(b); status != http.StatusAccepted {
					w.t.Errorf("webhook answered %d; want 202", status)
				}
			}
		}()
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
}

// invalidInvoice is generatedInvoice(n) selling an item Accurate does not
// have, named after n.
func invalidInvoice(n int) []byte {
	return bytes.Replace(generatedInvoice(n), []byte(`"sku":"KAOS-HTM-L"`), []byte(fmt.Sprintf(`"sku":"NO-SUCH-%d"`, n)), 1)
}

func TestBacklogPostsInBulk(t *testing.T) {
	const n = 400
	w := newWorld(t)
	w.start()
	bodies := make([][]byte, n)
	keys := make([]string, n)
	invalid := map[string]int{}
	for i := range n {
		keys[i] = invoiceKey(3000 + i)
		bodies[i] = generatedInvoice(3000 + i)
		if i%20 == 13 { // 5 %
			bodies[i] = invalidInvoice(3000 + i)
			invalid[keys[i]] = 3000 + i
		}
	}
	w.sendAll(bodies)
	states := w.waitFor(keys, 90*time.Second)

	t.Run("every valid invoice is synced and each invalid one failed with its own item named", func(t *testing.T) {
		for _, k := range keys {
			i, bad := invalid[k]
			switch {
			case !bad && states[k] != "synced":
				t.Errorf("%s ended %q: %v", k, states[k], w.event(k)["last_error"])
			case bad && states[k] != "failed":
				t.Errorf("%s (invalid) ended %q; want failed", k, states[k])
			case bad:
				reason, _ := w.event(k)["last_error"].(string)
				if !strings.Contains(reason, fmt.Sprintf("NO-SUCH-%d", i)) {
					t.Errorf("%s failed with %q; want its own item NO-SUCH-%d named", k, reason, i)
				}
			}
		}
		if got, want := len(w.sandbox.Invoices()), n-len(invalid); got != want {
			t.Errorf("Accurate holds %d fakturs; want %d", got, want)
		}
	})
	t.Run("the fakturs went in bulk, many to a request", func(t *testing.T) {
		calls := w.sandbox.Calls()
		if calls["sales-invoice/save"] != 0 || calls["sales-invoice/bulk-save"] > n/10 {
			t.Errorf("calls %v; want no save.do and at most %d bulk-save.do for %d fakturs", calls, n/10, n)
		}
	})
}

func TestBulkFaultsLeaveExactlyOneDocumentPerEvent(t *testing.T) {
	const n = 300
	w := newWorld(t)
	w.sandbox.SetFaults(sandbox.Faults{ErrorRate: 0.3, LoseRate: 0.1})
	w.start()
	var bodies [][]byte
	var keys []string
	for i := range n {
		bodies = append(bodies, generatedInvoice(4000+i), generatedPayment(4000+i))
		keys = append(keys, invoiceKey(4000+i), paymentKey(4000+i))
	}
	w.sendAll(bodies)
	states := w.waitFor(keys, 3*time.Minute)
	if c := count(states); c["synced"] != len(keys) {
		t.Fatalf("with 30%% 5xx and 10%% lost answers: %v; want all %d synced", c, len(keys))
	}
	t.Run("Accurate holds one faktur per invoice and one penerimaan per payment", func(t *testing.T) {
		fakturs, receipts := map[string]int{}, map[string]int{}
		for _, inv := range w.sandbox.Invoices() {
			fakturs[inv.Number]++
		}
		for _, r := range w.sandbox.Receipts() {
			receipts[r.Number]++
		}
		if len(fakturs) != n || len(receipts) != n {
			t.Errorf("%d fakturs and %d penerimaan; want %d each", len(fakturs), len(receipts), n)
		}
		for number, c := range fakturs {
			if c != 1 {
				t.Errorf("faktur %s is there %d times", number, c)
			}
		}
		for number, c := range receipts {
			if c != 1 {
				t.Errorf("penerimaan %s is there %d times", number, c)
			}
		}
	})
	t.Run("every faktur is paid in full, once", func(t *testing.T) {
		for _, inv := range w.sandbox.Invoices() {
			if inv.PrimeOwing != 0 {
				t.Errorf("faktur %s still owes %s", inv.Number, inv.PrimeOwing)
			}
		}
	})
}
