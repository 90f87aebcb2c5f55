package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"forstok-accurate-sync/events"
)

// sandboxCalls is every request toko-a's database has served, and the
// documents it holds.
func (w *fleetWorld) sandboxCalls() (calls, invoices, receipts int) {
	db := w.dbs.Database("a")
	for _, n := range db.Calls() {
		calls += n
	}
	return calls, len(db.Invoices()), len(db.Receipts())
}

func TestPreviewingAMapping(t *testing.T) {
	w := newFleetWorld(t)
	w.failedPayout()
	const tokenA = "admin-of-toko-a-3f9c1e7a52b84d06a1c9"
	jsonType := []string{"Content-Type", "application/json"}
	const preview = "/admin/sellers/toko-a/mapping/preview"
	_, _, b := w.settingsCall(w.url, http.MethodGet, "/admin/sellers/toko-a/mapping", tokenA, nil)
	current := decode(t, b)
	draft := func(serviceFee string, event string) []byte {
		m := current["mapping"].(map[string]any)
		if serviceFee != "" {
			m["amounts"].(map[string]any)["service_fee"] = serviceFee
		}
		body := map[string]any{"mapping": m}
		if event != "" {
			body["event"] = event
		}
		out, _ := json.Marshal(body)
		return out
	}
	version := func() string {
		cur, err := w.app.mappings.Current(t.Context(), "toko-a")
		if err != nil {
			t.Fatal(err)
		}
		return cur.Version
	}
	// A void of an invoice never sent: an event that makes no document.
	if w.send("toko-a", testWebhookSecret, generatedVoid(61)) != http.StatusAccepted {
		t.Fatal("void refused")
	}
	w.waitState("toko-a", voidKey(61), events.StateSynced, events.StateFailed, events.StateVoided)
	before := version()
	calls, invoices, receipts := w.sandboxCalls()

	t.Run("a draft mapping the service fee shows the payout's penerimaan as save.do would take it", func(t *testing.T) {
		status, _, b := w.settingsCall(w.url, http.MethodPost, preview, tokenA, draft("610202", ""), jsonType...)
		if status != http.StatusOK {
			t.Fatalf("preview = %d %s", status, b)
		}
		var got struct {
			Event     string `json:"event"`
			Documents []struct {
				Kind string `json:"kind"`
				Body struct {
					Number        string `json:"number"`
					BankNo        string `json:"bankNo"`
					ChequeAmount  json.Number
					DetailInvoice []struct {
						InvoiceNo      string      `json:"invoiceNo"`
						PaymentAmount  json.Number `json:"paymentAmount"`
						DetailDiscount []struct {
							AccountNo string      `json:"accountNo"`
							Amount    json.Number `json:"amount"`
						} `json:"detailDiscount"`
					} `json:"detailInvoice"`
				} `json:"body"`
			} `json:"documents"`
			Problems []any `json:"problems"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Event != paymentKey(60) || len(got.Documents) != 1 || got.Problems == nil || len(got.Problems) != 0 {
			t.Fatalf("preview %s", b)
		}
		d := got.Documents[0]
		if d.Kind != "sales-receipt" || d.Body.Number != "FP-900060" || d.Body.ChequeAmount != "84550" || len(d.Body.DetailInvoice) != 1 {
			t.Fatalf("document %s", b)
		}
		inv := d.Body.DetailInvoice[0]
		if inv.InvoiceNo != "GEN-000060" || inv.PaymentAmount != "89000" || len(inv.DetailDiscount) != 1 ||
			inv.DetailDiscount[0].AccountNo != "610202" || inv.DetailDiscount[0].Amount != "4450" {
			t.Fatalf("detailInvoice %s", b)
		}
	})
	t.Run("the mapping in use names the unmapped service fee as the payout's problem", func(t *testing.T) {
		status, _, b := w.settingsCall(w.url, http.MethodPost, preview, tokenA, []byte(`{"event":"`+paymentKey(60)+`"}`), jsonType...)
		if status != http.StatusOK {
			t.Fatalf("preview = %d %s", status, b)
		}
		m := decode(t, b)
		ps, _ := m["problems"].([]any)
		if len(m["documents"].([]any)) != 0 || len(ps) != 1 || ps[0].(map[string]any)["path"] != "amounts.service_fee" {
			t.Fatalf("preview %s", b)
		}
	})
	t.Run("an event chosen by key shows its faktur", func(t *testing.T) {
		status, _, b := w.settingsCall(w.url, http.MethodPost, preview, testAdmin, draft("", invoiceKey(60)), jsonType...)
		if status != http.StatusOK {
			t.Fatalf("preview = %d %s", status, b)
		}
		m := decode(t, b)
		docs := m["documents"].([]any)
		if m["event"] != invoiceKey(60) || len(docs) != 1 || docs[0].(map[string]any)["kind"] != "sales-invoice" {
			t.Fatalf("preview %s", b)
		}
		body := docs[0].(map[string]any)["body"].(map[string]any)
		if body["number"] != "GEN-000060" || body["customerNo"] != "C-SHOPEE" || len(body["detailItem"].([]any)) != 1 {
			t.Fatalf("faktur %v", body)
		}
	})
	t.Run("bad input is refused naming what is wrong", func(t *testing.T) {
		for _, c := range []struct {
			name, path, token string
			body              []byte
			status            int
			says              string
		}{
			{"an unknown event", preview, tokenA, []byte(`{"event":"payment.received:1"}`), http.StatusNotFound, "payment.received:1"},
			{"an event that makes no document", preview, tokenA, []byte(`{"event":"` + voidKey(61) + `"}`), http.StatusUnprocessableEntity, `"path":"event"`},
			{"another seller's mapping with a seller's token", "/admin/sellers/toko-b/mapping/preview", tokenA, draft("610202", ""), http.StatusNotFound, "toko-b"},
			{"malformed JSON", preview, tokenA, []byte(`{"mapping": {`), http.StatusBadRequest, "body"},
			{"an unknown field", preview, tokenA, []byte(`{"mapping": {}, "evnt": "x"}`), http.StatusBadRequest, "evnt"},
			{"a mapping with an unknown path", preview, tokenA, []byte(`{"mapping": {"amounts": {"servis_fee": "610202"}}}`), http.StatusUnprocessableEntity, "amounts.servis_fee"},
			{"a body over the limit", preview, tokenA, append([]byte(`{"mapping":{"timezone":"`), bytes.Repeat([]byte("x"), 300<<10)...), http.StatusRequestEntityTooLarge, "256 KiB"},
		} {
			status, _, b := w.settingsCall(w.url, http.MethodPost, c.path, c.token, c.body, jsonType...)
			if status != c.status || !strings.Contains(string(b), c.says) {
				t.Errorf("%s: %d %s; want %d saying %q", c.name, status, b, c.status, c.says)
			}
		}
	})
	t.Run("a preview sends nothing to Accurate and saves no version", func(t *testing.T) {
		c, i, r := w.sandboxCalls()
		if c != calls || i != invoices || r != receipts {
			t.Fatalf("the sandbox served %d requests and holds %d fakturs, %d penerimaan; before the previews %d, %d, %d", c, i, r, calls, invoices, receipts)
		}
		if v := version(); v != before {
			t.Fatalf("version %s after previews; was %s", v, before)
		}
		if got := w.state("toko-a", paymentKey(60)); got != events.StateFailed {
			t.Fatalf("the payout is %s", got)
		}
	})
}
