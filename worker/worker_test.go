package worker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/mapping"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		class accurate.Class
		state string
		hint  string
	}{
		{accurate.ClassNotFound, events.StateFailed, "Create it in Accurate and replay this event; or correct the mapping, restart the service"},
		{accurate.ClassValidation, events.StateFailed, "Correct the data in Forstok and replay the corrected body with POST /admin/replay; or correct the mapping, restart the service"},
		{accurate.ClassAuth, events.StateRetrying, "refused the API token or its signature while faktur X: accurate sales-invoice/save: auth: Accurate's own words. Check ACCURATE_API_TOKEN and ACCURATE_SIGNATURE_SECRET, correct them and restart"},
		{accurate.ClassRateLimited, events.StateRetrying, "rate limit stopped faktur X"},
		{accurate.ClassTransient, events.StateRetrying, "did not answer while faktur X"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("a %s answer ends %s and says what to do", tc.class, tc.state), func(t *testing.T) {
			err := &accurate.Error{Class: tc.class, Endpoint: "sales-invoice/save", Messages: []string{"Accurate's own words"}}
			out := classify("faktur X", err)
			if out.state != tc.state || !strings.Contains(out.reason, tc.hint) || !strings.Contains(out.reason, "Accurate's own words") {
				t.Errorf("classify = %+v; want %s with %q and Accurate's message", out, tc.state, tc.hint)
			}
		})
	}
}

func TestMappingFailureKeepsTheSellersSentence(t *testing.T) {
	out := mappingFailure(&mapping.Error{Key: `stores."1011"`, Msg: `store 1011 is not in stores: add stores."1011".customer_no and bank_no`})
	if out.state != events.StateFailed || out.reason != `store 1011 is not in stores: add stores."1011".customer_no and bank_no, restart the service (it reads the mapping only at start), then replay this event` {
		t.Errorf("mappingFailure = %+v", out)
	}
	if other := mappingFailure(errors.New("boom")); !strings.Contains(other.reason, "or correct the mapping, restart the service, then replay") {
		t.Errorf("mappingFailure of another error = %+v", other)
	}
}

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
				w := New(Config{Store: store})
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
