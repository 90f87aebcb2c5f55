package main

import (
	"net/http"
	"testing"
	"time"

	"forstok-accurate-sync/internal/fixtures"
)

// A payment waiting for its faktur is woken by the faktur's sync: with a
// backoff of minutes configured, only the wake-up can post it within
// seconds.
func TestPaymentIsWokenByItsFaktur(t *testing.T) { paymentIsWokenByItsFaktur(t, newWorld(t)) }

func paymentIsWokenByItsFaktur(t *testing.T, w *world) {
	w.retryMin, w.retryCap = time.Minute, 10*time.Minute
	w.start()

	cases := []struct {
		name string
		n    int
		send func(n int)
	}{
		{"a payment sent before its invoice posts within 2 s of the faktur", 1, func(n int) {
			w.mustSend(generatedPayment(n), http.StatusAccepted)
			// It has looked for its faktur and gone to wait (minutes, by its backoff).
			if states := w.waitFor([]string{paymentKey(n)}, 10*time.Second, "retrying"); states[paymentKey(n)] != "retrying" {
				t.Fatalf("the payment is %q before its invoice came; want retrying", states[paymentKey(n)])
			}
			w.mustSend(generatedInvoice(n), http.StatusAccepted)
		}},
		{"a payment sent right after its invoice posts within 2 s of the faktur", 2, func(n int) {
			w.mustSend(generatedInvoice(n), http.StatusAccepted)
			w.mustSend(generatedPayment(n), http.StatusAccepted)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.send(tc.n)
			keys := []string{invoiceKey(tc.n), paymentKey(tc.n)}
			states := w.waitFor(keys, 20*time.Second)
			for _, k := range keys {
				if states[k] != "synced" {
					t.Fatalf("%s ended %q: %v", k, states[k], w.event(k)["last_error"])
				}
			}
			faktur, payment := w.updatedAt(invoiceKey(tc.n)), w.updatedAt(paymentKey(tc.n))
			if lag := payment.Sub(faktur); lag > 2*time.Second {
				t.Errorf("the payment synced %s after its faktur; want at most 2 s", lag)
			}
		})
	}
	if n := len(w.sandbox.Receipts()); n != len(cases) {
		t.Errorf("Accurate holds %d penerimaan; want %d, one per payment", n, len(cases))
	}
}

// updatedAt is when the event last changed, by its record.
func (w *world) updatedAt(key string) time.Time {
	w.t.Helper()
	s, _ := w.event(key)["updated_at"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		w.t.Fatalf("%s: updated_at %q: %v", key, s, err)
	}
	return at
}

// A return waiting for its faktur is woken the same way.
func TestReturnIsWokenByItsFaktur(t *testing.T) {
	const ret, inv = "return.created:95001", "invoice.created:70002"
	w := newWorld(t)
	w.retryMin, w.retryCap = time.Minute, 10*time.Minute
	w.start()
	w.mustSend(fixtures.Body(t, "return-created-tokopedia.json"), http.StatusAccepted)
	if states := w.waitFor([]string{ret}, 10*time.Second, "retrying"); states[ret] != "retrying" {
		t.Fatalf("the return is %q before its invoice came; want retrying", states[ret])
	}
	w.mustSend(fixtures.Body(t, "invoice-created-tokopedia-bundle.json"), http.StatusAccepted)
	states := w.waitFor([]string{inv, ret}, 20*time.Second)
	if states[inv] != "synced" || states[ret] != "synced" {
		t.Fatalf("invoice %q, return %q (%v); want both synced", states[inv], states[ret], w.event(ret)["last_error"])
	}
	if lag := w.updatedAt(ret).Sub(w.updatedAt(inv)); lag > 2*time.Second {
		t.Errorf("the return synced %s after its faktur; want at most 2 s", lag)
	}
	if n := len(w.sandbox.Returns()); n != 1 {
		t.Errorf("Accurate holds %d retur; want 1", n)
	}
}
