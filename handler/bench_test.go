package handler_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testredis"
)

// BenchmarkWebhook is one whole invoice.created delivery through handler.New,
// from the request to the 202, with the real events.Store on a real Redis:
// content type, body read, signature check, decode and validation, the
// idempotent enqueue and the record. The request is served in process
// (httptest.NewRecorder), so the figure is the edge's own cost plus its two
// Redis round trips, without the HTTP server or the network. Each iteration
// sends a distinct event; signing it (the sender's work, ≈4 µs, see
// forstok's BenchmarkVerify) is inside the loop.
func BenchmarkWebhook(b *testing.B) {
	r := testredis.New(b)
	rdb := r.Client(b) // testredis deletes the thousands of events stored when the benchmark ends
	verifier, err := forstok.NewVerifier(secretA, 5*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	h := handler.New(handler.Config{Store: events.New(rdb, events.Config{Namespace: r.Namespace}).Seller(events.DefaultSeller), Verifier: verifier})

	body := fixtures.Body(b, "invoice-created-shopee.json")
	// The invoice id is rewritten in place with a fixed width, so that every
	// iteration is a distinct event at no cost beyond the copy.
	const idLit = `"id": 70001,`
	at := bytes.Index(body, []byte(idLit))
	if at < 0 {
		b.Fatal("the example has no invoice id to vary")
	}
	idAt := at + len(`"id": `)
	body = bytes.Replace(body, []byte(idLit), []byte(`"id": 100000000,`), 1)

	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		strconv.AppendInt(body[:idAt], 100000000+int64(n), 10)
		id := "msg_bench_" + strconv.Itoa(n)
		now := time.Now()
		sig, err := forstok.Sign(secretA, id, now.Unix(), body)
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhooks/forstok", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
