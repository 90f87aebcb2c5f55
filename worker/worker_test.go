package worker

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/events"
)

func TestBackoff(t *testing.T) {
	w := New(Config{RetryBase: time.Second, RetryCap: time.Minute})
	for retried := 0; retried < 12; retried++ {
		step := min(time.Second<<retried, time.Minute)
		t.Run(fmt.Sprintf("retry %d waits between half and all of %s", retried, step), func(t *testing.T) {
			for range 50 {
				d := w.backoff(retried, false)
				if d < step/2 || d > step {
					t.Fatalf("backoff = %s; want within [%s, %s]", d, step/2, step)
				}
			}
		})
	}
	t.Run("a payment waiting for its faktur polls five times less eagerly", func(t *testing.T) {
		if d := w.backoff(0, true); d < 2500*time.Millisecond || d > 5*time.Second {
			t.Errorf("backoff = %s; want within [2.5s, 5s]", d)
		}
	})
}

// TestWaitingForAFakturNamesTheEventsKind: a return waits for its faktur as
// a payment does, and the reason says which of them is waiting.
func TestWaitingForAFakturNamesTheEventsKind(t *testing.T) {
	for _, kind := range []string{"payment", "return"} {
		for _, owner := range []*events.Event{nil, {Key: "invoice.created:1", State: events.StateFailed, LastError: "boom"},
			{Key: "invoice.created:1", State: events.StateSynced}, {Key: "invoice.created:1", State: events.StateRetrying}} {
			state := "no invoice event"
			if owner != nil {
				state = "an invoice event " + owner.State
			}
			t.Run(fmt.Sprintf("a %s behind %s says the %s waits", kind, state, kind), func(t *testing.T) {
				store := newFakeStore()
				if owner != nil {
					store.claims["faktur F-1"] = owner.Key
					store.records = map[string]events.Event{owner.Key: *owner}
				}
				w := New(withFake(Config{}, store))
				out := w.waitForFaktur(t.Context(), "F-1", kind)
				if !out.waiting || out.state != events.StateRetrying || !strings.Contains(out.reason, "this "+kind) && !strings.Contains(out.reason, "the "+kind) {
					t.Errorf("outcome %+v; want a wait naming the %s", out, kind)
				}
				other := map[string]string{"payment": "return", "return": "payment"}[kind]
				if strings.Contains(out.reason, other) {
					t.Errorf("reason %q names a %s", out.reason, other)
				}
			})
		}
	}
}
