package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/money"
)

// invoiceNamed is generatedInvoice(n) with another order.local_name and a
// price of its own, so that its content differs from the invoice whose
// number it borrows.
func invoiceNamed(n, nameOf int, salePrice int) []byte {
	body := generatedInvoice(n)
	body = bytes.Replace(body, []byte(fmt.Sprintf(`"local_name":"GEN-%06d"`, n)), []byte(fmt.Sprintf(`"local_name":"GEN-%06d"`, nameOf)), 1)
	return bytes.Replace(body, []byte(`"sale_price":89000`), []byte(fmt.Sprintf(`"sale_price":%d`, salePrice)), 1)
}

func TestTwoInvoicesWithOneLocalName(t *testing.T) {
	w := newWorld(t)
	w.start()
	number := fmt.Sprintf("GEN-%06d", 1)
	if status := w.send(generatedInvoice(1)); status != http.StatusAccepted {
		t.Fatalf("first invoice = %d", status)
	}
	if states := w.waitFor([]string{invoiceKey(1)}, 30*time.Second); states[invoiceKey(1)] != "synced" {
		t.Fatalf("first invoice ended %v: %v", states, w.event(invoiceKey(1))["last_error"])
	}

	t.Run("the second invoice fails naming the first, and Accurate keeps the first's faktur", func(t *testing.T) {
		if status := w.send(invoiceNamed(2, 1, 50000)); status != http.StatusAccepted {
			t.Fatalf("second invoice = %d", status)
		}
		states := w.waitFor([]string{invoiceKey(2)}, 30*time.Second)
		ev := w.event(invoiceKey(2))
		reason, _ := ev["last_error"].(string)
		if states[invoiceKey(2)] != "failed" || !strings.Contains(reason, invoiceKey(1)) || !strings.Contains(reason, number) {
			t.Fatalf("second invoice: %s %q; want failed naming %s and faktur %s", states[invoiceKey(2)], reason, invoiceKey(1), number)
		}
		invoices := w.sandbox.Invoices()
		if len(invoices) != 1 || invoices[0].Number != number || invoices[0].TotalAmount != money.Rupiah(89000) {
			t.Fatalf("Accurate holds %+v; want only the first invoice's faktur %s of 89,000", invoices, number)
		}
	})

	t.Run("the first invoice's own replay still finds its faktur and stays synced", func(t *testing.T) {
		if status, body := w.admin(http.MethodPost, "/admin/events/"+invoiceKey(1)+"/replay", nil); status != http.StatusAccepted {
			t.Fatalf("replay = %d %v", status, body)
		}
		ok := wait.Until(30*time.Second, 50*time.Millisecond, func() bool {
			ev := w.event(invoiceKey(1))
			return ev["state"] == "synced" && ev["attempts"] == float64(2)
		})
		if !ok {
			t.Fatalf("first invoice after replay: %v; want synced on its second attempt", w.event(invoiceKey(1)))
		}
		if n := len(w.sandbox.Invoices()); n != 1 {
			t.Errorf("Accurate holds %d fakturs; want 1", n)
		}
	})

	t.Run("of two invoices racing for one number exactly one is synced and the other names it", func(t *testing.T) {
		before := len(w.sandbox.Invoices())
		var wg sync.WaitGroup
		for _, n := range []int{3, 4} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status := w.send(invoiceNamed(n, 3, 80000+n)); status != http.StatusAccepted {
					t.Errorf("invoice %d = %d", n, status)
				}
			}()
		}
		wg.Wait()
		states := w.waitFor([]string{invoiceKey(3), invoiceKey(4)}, 30*time.Second)
		if c := count(states); c["synced"] != 1 || c["failed"] != 1 {
			t.Fatalf("states = %v; want one synced, one failed", states)
		}
		winner, loser := invoiceKey(3), invoiceKey(4)
		if states[winner] != "synced" {
			winner, loser = loser, winner
		}
		if reason, _ := w.event(loser)["last_error"].(string); !strings.Contains(reason, winner) {
			t.Errorf("the loser's reason %q does not name %s", reason, winner)
		}
		if n := len(w.sandbox.Invoices()) - before; n != 1 {
			t.Errorf("Accurate gained %d fakturs; want 1", n)
		}
	})
}
