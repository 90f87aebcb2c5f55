package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/wait"
)

// invoiceOfMissingSKU is an invoice.created for order n of store 1009 that
// sells one item whose SKU Accurate does not have.
func invoiceOfMissingSKU(n int, sku string) []byte {
	return []byte(fmt.Sprintf(`{"type":"invoice.created","timestamp":"2026-11-26T10:00:00+07:00","data":{
 "id":%d,"invoice_reference":"INV/MISS/%d","status":"Unpaid","created_at":"2026-11-26T10:00:00+07:00",
 "order":{"id":%d,"local_id":"MISS%d","local_name":"MISS-%06d","channel":"Shopee","channel_id":12,
  "store_id":1009,"store_name":"Toko Maju Shopee","warehouse_id":78,"cashless":true,"shipping_price":0,"discount_amount":0,
  "item_lines":[{"id":%d,"sku":%q,"name":"Barang Baru","variant_name":null,"price":50000,"sale_price":50000}]}}}`,
		820000+n, n, 520000+n, n, n, n, sku))
}

func missingSKUKey(n int) string { return fmt.Sprintf("invoice.created:%d", 820000+n) }

// The refusals of many events are explained by look-ups that grow with what
// is missing, not with the events: the look-ups of events in flight go
// together, and what was found missing is remembered for a minute. The
// figures are in docs/performance.md ("Missing master data").
//
// The backlog is staged behind a backlogGate, so the bound does not depend
// on the scheduler: the refusals come in at most mostRequests(events)
// bulk-save.do answers. The events of one answer reach item/list.do as one
// group, and customer/list.do as up to three (straight from the answer when
// their SKU is remembered missing, or from either item/list.do); a group
// costs a lane at most two requests, the one its first caller started and
// one for the rest. So at most 2 + 6 look-ups an answer, against one or two
// an event unbatched.
func lookupsBound(events int) int { return (2 + 6) * mostRequests(events) }

func TestLookupsScaleWithWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events int
		skus   int
		most   int // look-ups allowed: item/list.do and customer/list.do together
	}{
		{"200 refusals naming one SKU cost a handful of look-ups", 200, 1, lookupsBound(200)},
		{"20 refusals naming 20 SKUs cost fewer look-ups than refusals", 20, 20, lookupsBound(20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, gate := gatedWorld(t, tc.events)
			w.start()
			gate.started()
			keys := make([]string, tc.events)
			bodies := make([][]byte, tc.events)
			for i := range tc.events {
				keys[i] = missingSKUKey(i + 1)
				bodies[i] = invoiceOfMissingSKU(i+1, fmt.Sprintf("SKU-MISSING-%02d", i%tc.skus))
			}
			w.sendAll(bodies)
			gate.setStaged()
			states := w.waitFor(keys, 120*time.Second, events.StateSynced, events.StateFailed)
			if n := count(states)[events.StateFailed]; n != tc.events {
				t.Fatalf("%d of %d failed: %v", n, tc.events, count(states))
			}
			for _, k := range []string{keys[0], keys[tc.events-1]} {
				if reason := fmt.Sprint(w.event(k)["last_error"]); !strings.Contains(reason, "SKU-MISSING-") || !strings.Contains(reason, "auto_create.items") {
					t.Errorf("%s: the reason %q does not name the missing SKU", k, reason)
				}
			}
			calls := w.sandbox.Calls()
			lookups := calls["item/list"] + calls["customer/list"]
			t.Logf("%d refusals of %d SKU(s): %d look-ups (item/list.do %d, customer/list.do %d)",
				tc.events, tc.skus, lookups, calls["item/list"], calls["customer/list"])
			if lookups > tc.most {
				t.Errorf("%d look-ups for %d refusals of %d SKU(s); want at most %d", lookups, tc.events, tc.skus, tc.most)
			}

			t.Run("a replay forgets what was missing and asks Accurate again", func(t *testing.T) {
				before := w.sandbox.Calls()["item/list"]
				if status, body := w.admin(http.MethodPost, "/admin/events/"+keys[0]+"/replay", nil); status != http.StatusAccepted {
					t.Fatalf("replay = %d %v", status, body)
				}
				if !wait.Until(30*time.Second, 50*time.Millisecond, func() bool {
					ev := w.event(keys[0])
					return ev["state"] == events.StateFailed && strings.Contains(fmt.Sprint(ev["history"]), "replayed")
				}) {
					t.Fatalf("the replay did not fail again: %v", w.event(keys[0]))
				}
				if after := w.sandbox.Calls()["item/list"]; after != before+1 {
					t.Errorf("item/list.do called %d times for the replay; want once", after-before)
				}
			})
		})
	}
}
