package handler_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"forstok-accurate-sync/events"
)

// The admin routes the console's pages stand on: search by order number,
// the overview, the sellers and the replay of every failed event.
func TestAdminOperatorRoutes(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	s.deliverExamples(t)

	t.Run("an order number finds its invoice and its payment", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/events?order="+url.QueryEscape("2411260ab12cd3"), admin, nil)
		evs, _ := body["events"].([]any)
		if status != http.StatusOK || len(evs) != 2 {
			t.Fatalf("search = %d %v; want the invoice and the payment", status, body)
		}
		keys := map[string]bool{}
		for _, e := range evs {
			keys[e.(map[string]any)["key"].(string)] = true
		}
		if !keys["invoice.created:70001"] || !keys["payment.received:90001"] {
			t.Fatalf("found %v", keys)
		}
	})
	t.Run("an empty order search is a 400 naming the field", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/events?order=", admin, nil)
		if status != http.StatusBadRequest || body["error"] != "order: type a marketplace order number" {
			t.Fatalf("empty search = %d %v", status, body)
		}
	})
	t.Run("the overview counts the events by state", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/overview", admin, nil)
		states, _ := body["states"].(map[string]any)
		hours, _ := body["hours"].([]any)
		if status != http.StatusOK || states["queued"] != 4.0 || len(hours) != 24 || body["queue_depth"] != 4.0 {
			t.Fatalf("overview = %d %v", status, body)
		}
	})
	t.Run("the sellers list the one seller", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/sellers", admin, nil)
		sellers, _ := body["sellers"].([]any)
		if status != http.StatusOK || len(sellers) != 1 || sellers[0].(map[string]any)["name"] != "default" {
			t.Fatalf("sellers = %d %v", status, body)
		}
	})
	t.Run("replaying the failed events of an unknown seller is a 400 and changes nothing", func(t *testing.T) {
		status, body := s.admin(t, http.MethodPost, "/admin/replay-failed?seller=nobody", admin, nil)
		if status != http.StatusBadRequest {
			t.Fatalf("replay-failed = %d %v", status, body)
		}
	})
	t.Run("replaying the failed events queues each of them again", func(t *testing.T) {
		for _, key := range []string{"invoice.created:70001", "invoice.created:70002"} {
			if _, err := s.store.Begin(ctx, events.Incoming{Key: key, Type: "invoice.created"}); err != nil {
				t.Fatal(err)
			}
			if err := s.store.Finish(ctx, key, events.Result{State: events.StateFailed, Error: "add warehouses.\"79\""}); err != nil {
				t.Fatal(err)
			}
		}
		status, body := s.admin(t, http.MethodPost, "/admin/replay-failed?seller=default", admin, nil)
		queued, _ := body["queued"].([]any)
		if status != http.StatusAccepted || len(queued) != 2 {
			t.Fatalf("replay-failed = %d %v", status, body)
		}
		for _, key := range []string{"invoice.created:70001", "invoice.created:70002"} {
			if ev, _ := s.store.Get(ctx, key); ev.State != events.StateQueued {
				t.Errorf("%s is %s after the replay; want queued", key, ev.State)
			}
		}
	})
}
