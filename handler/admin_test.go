package handler_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/handler"
)

func (s *service) admin(t *testing.T, method, path, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

func TestAdminAuth(t *testing.T) {
	off := start(t, func(c *handler.Config) { c.AdminToken = "" })
	on := start(t)
	cases := []struct {
		name   string
		s      *service
		token  string
		status int
	}{
		{"with no ADMIN_TOKEN configured every admin route is 404", off, "anything", 404},
		{"without a token the admin API is 401", on, "", 401},
		{"with a wrong token the admin API is 401", on, "wrong", 401},
		{"with the token the admin API answers", on, admin, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/admin/events", "/admin/events?state=failed"} {
				if status, body := tc.s.admin(t, http.MethodGet, path, tc.token, nil); status != tc.status {
					t.Errorf("GET %s = %d %v; want %d", path, status, body, tc.status)
				}
			}
			if status, _ := tc.s.admin(t, http.MethodPost, "/admin/events/invoice.created:1/replay", tc.token, nil); tc.status != 200 && status != tc.status {
				t.Errorf("POST replay = %d; want %d", status, tc.status)
			}
		})
	}
}

func TestAdminEvents(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	s.deliverExamples(t)

	t.Run("the list shows every event with its documented fields", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/events", admin, nil)
		evs, _ := body["events"].([]any)
		if status != 200 || len(evs) != 4 {
			t.Fatalf("list = %d %v; want 4 events", status, body)
		}
		first := evs[0].(map[string]any)
		for _, field := range []string{"key", "type", "state", "attempts", "last_error", "accurate_number", "updated_at"} {
			if _, ok := first[field]; !ok {
				t.Errorf("list entry lacks %q: %v", field, first)
			}
		}
	})

	t.Run("the list filters by type and pages with a cursor", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/events?type=payment.received&limit=1", admin, nil)
		evs, _ := body["events"].([]any)
		cursor, _ := body["next_cursor"].(string)
		if status != 200 || len(evs) != 1 || cursor == "" {
			t.Fatalf("page 1 = %d %v; want one payment and a cursor", status, body)
		}
		_, body = s.admin(t, http.MethodGet, "/admin/events?type=payment.received&limit=1&cursor="+cursor, admin, nil)
		evs2, _ := body["events"].([]any)
		if len(evs2) != 1 || evs2[0].(map[string]any)["key"] == evs[0].(map[string]any)["key"] {
			t.Errorf("page 2 = %v; want the other payment", body)
		}
	})

	badQueries := map[string]string{
		"an unknown state": "/admin/events?state=lost",
		"an unknown type":  "/admin/events?type=order.shipped",
		"a limit of 0":     "/admin/events?limit=0",
		"a forged cursor":  "/admin/events?cursor=abc",
	}
	for name, path := range badQueries {
		t.Run(name+" is a 400 that says what is allowed", func(t *testing.T) {
			if status, body := s.admin(t, http.MethodGet, path, admin, nil); status != 400 || body["error"] == "" {
				t.Errorf("GET %s = %d %v; want 400 with an error", path, status, body)
			}
		})
	}

	t.Run("one event shows its payload and history", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/events/invoice.created:70001", admin, nil)
		if status != 200 || body["key"] != "invoice.created:70001" || body["state"] != "queued" {
			t.Fatalf("get = %d %v", status, body)
		}
		payload, _ := body["payload"].(map[string]any)
		history, _ := body["history"].([]any)
		if payload["type"] != "invoice.created" || len(history) == 0 {
			t.Errorf("payload %v, history %v; want the webhook body and its history", payload, history)
		}
		for _, field := range []string{"attempts", "last_error", "accurate_id", "accurate_number", "next_attempt_at", "created_at", "updated_at"} {
			if _, ok := body[field]; !ok {
				t.Errorf("event lacks %q: %v", field, body)
			}
		}
	})

	t.Run("a failed event shows what to fix as failure, and one that failed before failures were recorded points at last_error", func(t *testing.T) {
		recorded := events.Failure{Kind: events.FailMapping, Key: `stores."9"`, Hint: "Correct the mapping as it says, then replay this event"}
		for key, f := range map[string]*events.Failure{"invoice.created:81001": &recorded, "invoice.created:81002": nil} {
			if _, err := s.store.Begin(ctx, events.Incoming{Key: key, Type: "invoice.created"}); err != nil {
				t.Fatal(err)
			}
			if err := s.store.Finish(ctx, key, events.Result{State: events.StateFailed, Error: "store 9 is not in stores", Failure: f}); err != nil {
				t.Fatal(err)
			}
		}
		_, body := s.admin(t, http.MethodGet, "/admin/events/invoice.created:81001", admin, nil)
		if f, _ := body["failure"].(map[string]any); f["kind"] != "mapping" || f["key"] != `stores."9"` || f["hint"] != recorded.Hint {
			t.Errorf("failure %v; want the one the worker recorded", body["failure"])
		}
		_, body = s.admin(t, http.MethodGet, "/admin/events/invoice.created:81002", admin, nil)
		if f, _ := body["failure"].(map[string]any); f["kind"] != "other" || !strings.Contains(fmt.Sprint(f["hint"]), "last_error") {
			t.Errorf("failure %v; want kind other pointing at last_error", body["failure"])
		}
		_, body = s.admin(t, http.MethodGet, "/admin/events/invoice.created:70001", admin, nil)
		if _, ok := body["failure"]; ok {
			t.Errorf("a queued event shows failure %v", body["failure"])
		}
	})

	t.Run("an event key with its colon escaped as %3A is found", func(t *testing.T) {
		status, body := s.admin(t, http.MethodGet, "/admin/events/invoice.created%3A70001", admin, nil)
		if status != 200 || body["key"] != "invoice.created:70001" {
			t.Errorf("get = %d %v; want 200 with the event", status, body)
		}
	})

	t.Run("an escaped key can be replayed", func(t *testing.T) {
		key := "payment.received:90001"
		if _, err := s.store.Begin(ctx, events.Incoming{Key: key, Type: "payment.received"}); err != nil {
			t.Fatal(err)
		}
		_ = s.store.Finish(ctx, key, events.Result{State: events.StateFailed, Error: "store 9 is not in stores"})
		status, body := s.admin(t, http.MethodPost, "/admin/events/payment.received%3a90001/replay", admin, nil)
		if status != http.StatusAccepted || body["key"] != key {
			t.Errorf("replay = %d %v; want 202 for %s", status, body, key)
		}
	})

	t.Run("an unknown event is 404 to get and to replay", func(t *testing.T) {
		if status, _ := s.admin(t, http.MethodGet, "/admin/events/invoice.created:404", admin, nil); status != 404 {
			t.Errorf("get = %d; want 404", status)
		}
		if status, _ := s.admin(t, http.MethodPost, "/admin/events/invoice.created:404/replay", admin, nil); status != 404 {
			t.Errorf("replay = %d; want 404", status)
		}
	})

	t.Run("replaying a failed event queues it again", func(t *testing.T) {
		key := "invoice.created:70002"
		if _, err := s.store.Begin(ctx, events.Incoming{Key: key, Type: "invoice.created"}); err != nil {
			t.Fatal(err)
		}
		_ = s.store.Finish(ctx, key, events.Result{State: events.StateFailed, Error: "warehouse 79 is not in warehouses"})
		status, body := s.admin(t, http.MethodPost, "/admin/events/"+key+"/replay", admin, nil)
		if status != http.StatusAccepted || body["status"] != "queued" || body["key"] != key {
			t.Fatalf("replay = %d %v; want 202 queued", status, body)
		}
		ev, _ := s.store.Get(ctx, key)
		if ev.State != events.StateQueued {
			t.Errorf("state after replay = %s; want queued", ev.State)
		}
	})

	t.Run("a raw replay is validated like a webhook", func(t *testing.T) {
		bad := mutate(t, func(d map[string]any) { firstLine(d)["sku"] = "" })
		if status, body := s.admin(t, http.MethodPost, "/admin/replay", admin, bad); status != 422 {
			t.Errorf("raw replay of a bad body = %d %v; want 422", status, body)
		}
	})

	t.Run("a raw replay queues a body even when its key was seen", func(t *testing.T) {
		status, body := s.admin(t, http.MethodPost, "/admin/replay", admin, example(t, "invoice-created-shopee.json"))
		if status != http.StatusAccepted || body["key"] != "invoice.created:70001" {
			t.Errorf("raw replay = %d %v; want 202", status, body)
		}
		fresh := mutate(t, func(d map[string]any) { d["id"] = 70999 })
		status, body = s.admin(t, http.MethodPost, "/admin/replay", admin, fresh)
		if status != http.StatusAccepted || body["key"] != "invoice.created:70999" {
			t.Errorf("raw replay of a new event = %d %v; want 202", status, body)
		}
		if status, _ := s.admin(t, http.MethodGet, "/admin/events/invoice.created:70999", admin, nil); status != 200 {
			t.Errorf("the replayed event is not kept: %d", status)
		}
	})
}
