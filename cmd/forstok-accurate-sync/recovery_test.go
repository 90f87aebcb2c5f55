package main

import (
	"net/http"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/wait"
)

// After an outage long enough for the backoffs to grow to several seconds,
// the events run as soon as Accurate answers again, not when their backoff
// ends, and each posts exactly one faktur.
func TestEventsRunAtOnceWhenAccurateIsBack(t *testing.T) {
	const n = 20
	w := newWorld(t)
	w.retryMin, w.retryCap = 2*time.Second, 10*time.Minute
	w.start()
	w.sandbox.SetFaults(sandbox.Faults{ErrorRate: 1})

	keys := make([]string, n)
	for i := range n {
		keys[i] = invoiceKey(2000 + i)
		w.mustSend(generatedInvoice(2000+i), http.StatusAccepted)
	}
	// Four failed attempts each: the next backoff is 8 to 16 s.
	if !wait.Until(60*time.Second, 200*time.Millisecond, func() bool {
		for _, k := range keys {
			if a, _ := w.event(k)["attempts"].(float64); a < 4 {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the events were not tried four times during the outage")
	}
	w.sandbox.SetFaults(sandbox.Faults{})
	back := time.Now()

	states := w.waitFor(keys, 30*time.Second)
	took := time.Since(back)
	if c := count(states); c["synced"] != n {
		t.Fatalf("after the outage: %v; want all %d synced", c, n)
	}
	// The probe looks every 2 s, and 20 fakturs take 2.5 s at 8 a second;
	// waiting out the backoffs would take 8 s or more.
	t.Run("every event synced within 7 s of Accurate answering again", func(t *testing.T) {
		if took > 7*time.Second {
			t.Errorf("the last event synced %s after Accurate answered again; want at most 7 s (the backoffs were 8 s or more)", took)
		}
	})
	t.Run("each invoice has exactly one faktur", func(t *testing.T) {
		if got := len(w.sandbox.Invoices()); got != n {
			t.Errorf("Accurate holds %d fakturs; want %d", got, n)
		}
	})
}
