package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testredis"
)

const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_dGhlIHNlY29uZCBzZWNyZXQgb2YgdGhlIHJvdGF0aW9u"
	admin   = "admin-token-for-tests-5c8e21f7a0b9d4e3"
)

// service is the real HTTP handler over a real Redis.
type service struct {
	url   string
	rdb   *redis.Client
	ns    string
	evs   *events.Namespace
	store *events.Store // the default seller's
	now   time.Time
	h     http.Handler // what the server serves
}

func start(t *testing.T, opts ...func(*handler.Config)) *service {
	t.Helper()
	r := testredis.New(t)
	rdb := r.Client(t)
	return startOn(t, rdb, r.Namespace, opts...)
}

func startOn(t *testing.T, rdb *redis.Client, ns string, opts ...func(*handler.Config)) *service {
	t.Helper()
	verifier, err := forstok.NewVerifier(secretA+" "+secretB, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	evs := events.New(rdb, events.Config{Namespace: ns})
	s := &service{rdb: rdb, ns: ns, evs: evs, store: evs.Seller(events.DefaultSeller), now: time.Now()}
	cfg := handler.Config{Store: s.store, Queue: evs.Queue(), Verifier: verifier, AdminToken: admin, Now: func() time.Time { return s.now }}
	for _, o := range opts {
		o(&cfg)
	}
	s.h = handler.New(cfg)
	srv := httptest.NewServer(s.h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

type delivery struct {
	body        []byte
	id          string
	timestamp   int64
	signature   string // overrides signing
	secret      string
	contentType string
	encoding    string // Content-Encoding
}

func (s *service) deliver(t *testing.T, d delivery) (int, map[string]any) {
	t.Helper()
	if d.id == "" {
		d.id = "msg_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if d.timestamp == 0 {
		d.timestamp = s.now.Unix()
	}
	if d.secret == "" {
		d.secret = secretA
	}
	if d.contentType == "" {
		d.contentType = "application/json"
	}
	sig := d.signature
	if sig == "" {
		var err error
		if sig, err = forstok.Sign(d.secret, d.id, d.timestamp, d.body); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/forstok", bytes.NewReader(d.body))
	req.Header.Set("Content-Type", d.contentType)
	req.Header.Set("webhook-id", d.id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(d.timestamp, 10))
	req.Header.Set("webhook-signature", sig)
	if d.encoding != "" {
		req.Header.Set("Content-Encoding", d.encoding)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// keys counts what the service holds in Redis under the test's namespace.
func (s *service) keys(t *testing.T) int {
	t.Helper()
	n := 0
	err := events.EachKey(context.Background(), s.rdb, s.ns, func(keys []string) error {
		n += len(keys)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func example(t *testing.T, name string) []byte { return fixtures.Body(t, name) }

// examples are the example webhooks the admin tests deliver, by their event
// keys.
var examples = map[string]string{
	"invoice-created-shopee.json":           "invoice.created:70001",
	"invoice-created-tokopedia-bundle.json": "invoice.created:70002",
	"payment-received-shopee.json":          "payment.received:90001",
	"payment-received-tokopedia.json":       "payment.received:90002",
}

// deliverExamples delivers every one of examples, each accepted.
func (s *service) deliverExamples(t *testing.T) {
	t.Helper()
	for name := range examples {
		if status, body := s.deliver(t, delivery{body: example(t, name)}); status != http.StatusAccepted {
			t.Fatalf("deliver %s = %d %v", name, status, body)
		}
	}
}

func TestSignature(t *testing.T) {
	vectorBody := []byte(`{"test": 2432232314}`)
	const vectorID, vectorTS, vectorSig = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	s := start(t)
	s.now = time.Unix(vectorTS, 0)

	t.Run("the docs' test vector passes the signature check", func(t *testing.T) {
		status, body := s.deliver(t, delivery{body: vectorBody, id: vectorID, timestamp: vectorTS, signature: vectorSig})
		// Authentic, so it gets as far as the payload, which has no type.
		if status != http.StatusBadRequest {
			t.Errorf("status = %d %v; want 400 from decoding, past the signature", status, body)
		}
	})
	tampered := []struct {
		name string
		d    delivery
	}{
		{"a one-byte change to the body", delivery{body: []byte(`{"test": 2432232315}`), id: vectorID, timestamp: vectorTS}},
		{"a one-byte change to the id", delivery{body: vectorBody, id: vectorID + "x", timestamp: vectorTS}},
		{"a one-byte change to the timestamp", delivery{body: vectorBody, id: vectorID, timestamp: vectorTS + 1}},
		{"a missing signature", delivery{body: vectorBody, id: vectorID, timestamp: vectorTS, signature: " "}},
	}
	for _, tc := range tampered {
		t.Run(tc.name+" fails with 401", func(t *testing.T) {
			tc.d.signature = vectorSig
			if tc.name == "a missing signature" {
				tc.d.signature = " "
			}
			status, body := s.deliver(t, tc.d)
			if status != http.StatusUnauthorized || body["status"] != "rejected" || body["error"] == "" {
				t.Errorf("status = %d %v; want 401 rejected with a reason", status, body)
			}
		})
	}

	live := start(t)
	shopee := example(t, "invoice-created-shopee.json")
	t.Run("a body signed with the second, rotated secret is accepted", func(t *testing.T) {
		status, body := live.deliver(t, delivery{body: shopee, secret: secretB})
		if status != http.StatusAccepted {
			t.Errorf("status = %d %v; want 202", status, body)
		}
	})
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		t.Run(fmt.Sprintf("a timestamp %v away from now fails with 401", skew), func(t *testing.T) {
			status, _ := live.deliver(t, delivery{body: shopee, timestamp: live.now.Add(skew).Unix()})
			if status != http.StatusUnauthorized {
				t.Errorf("status = %d; want 401", status)
			}
		})
	}
}

func TestExamplesAreAcceptedOnce(t *testing.T) {
	s := start(t)
	for name, key := range examples {
		t.Run(name+" is accepted, then a duplicate", func(t *testing.T) {
			body := example(t, name)
			status, resp := s.deliver(t, delivery{body: body})
			if status != http.StatusAccepted || resp["status"] != "accepted" || resp["key"] != key {
				t.Fatalf("first = %d %v; want 202 accepted %s", status, resp, key)
			}
			status, resp = s.deliver(t, delivery{body: body})
			if status != http.StatusOK || resp["status"] != "duplicate" || resp["key"] != key {
				t.Fatalf("second = %d %v; want 200 duplicate %s", status, resp, key)
			}
		})
	}

	racing := start(t)
	for name, key := range examples {
		t.Run("twenty racing deliveries of "+name+" give one 202", func(t *testing.T) {
			body := example(t, name)
			var wg sync.WaitGroup
			var mu sync.Mutex
			statuses := map[int]int{}
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, _ := racing.deliver(t, delivery{body: body, id: fmt.Sprintf("msg_race_%d", i)})
					mu.Lock()
					statuses[status]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if statuses[http.StatusAccepted] != 1 || statuses[http.StatusOK] != 19 {
				t.Errorf("statuses = %v; want one 202 and nineteen 200 for %s", statuses, key)
			}
		})
	}
}

// mutate edits the Shopee example's JSON.
func mutate(t *testing.T, edit func(data map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(example(t, "invoice-created-shopee.json"), &env); err != nil {
		t.Fatal(err)
	}
	edit(env["data"].(map[string]any))
	b, _ := json.Marshal(env)
	return b
}

// emptyLines is an invoice of n empty item lines, each missing its id, sku
// and price.
func emptyLines(n int) []byte {
	return []byte(`{"type":"invoice.created","data":{"id":1,"invoice_reference":"R","created_at":"2026-11-26T09:30:00+07:00","order":{"id":1,"local_name":"X","channel":"Shopee","channel_id":1,"store_id":1,"warehouse_id":1,"cashless":true,"item_lines":[{}` +
		strings.Repeat(",{}", n-1) + `]}}}`)
}

// edit changes the Shopee example's bytes as sent, once.
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	return fixtures.Replaced(t, "invoice-created-shopee.json", old, new)
}

func firstLine(data map[string]any) map[string]any {
	return data["order"].(map[string]any)["item_lines"].([]any)[0].(map[string]any)
}

func TestBadInput(t *testing.T) {
	s := start(t)
	cases := []struct {
		name        string
		body        []byte
		contentType string
		encoding    string
		status      int
		field       string // for 422: a field the errors must name
		mention     string // for other statuses: a word the error must contain
	}{
		{name: "a body that is not JSON", body: []byte(`{"type": "invoice.created", `), status: 400, mention: "JSON"},
		{name: "an unknown type", body: []byte(`{"type":"order.shipped","data":{}}`), status: 400, mention: "order.shipped"},
		{name: "an empty SKU", body: mutate(t, func(d map[string]any) { firstLine(d)["sku"] = "" }), status: 422, field: "data.order.item_lines[0].sku"},
		{name: "a negative price", body: mutate(t, func(d map[string]any) { firstLine(d)["price"] = -1 }), status: 422, field: "data.order.item_lines[0].price"},
		{name: "a price with 3 decimals", body: mutate(t, func(d map[string]any) { firstLine(d)["price"] = "100000.005" }), status: 422, field: "data.order.item_lines[0].price"},
		{name: "a missing required field", body: mutate(t, func(d map[string]any) { delete(d, "invoice_reference") }), status: 422, field: "data.invoice_reference"},
		{name: "an id of 0", body: mutate(t, func(d map[string]any) { d["id"] = 0 }), status: 422, field: "data.id"},
		{name: "a body over 1 MiB", body: bytes.Repeat([]byte(" "), handler.MaxBodyBytes+1), status: 413, mention: "1 MiB"},
		{name: "a wrong content type", body: example(t, "invoice-created-shopee.json"), contentType: "text/plain", status: 415, mention: "application/json"},
		{name: "a plain body labelled gzip", body: example(t, "invoice-created-shopee.json"), encoding: "gzip", status: 415, mention: "Content-Encoding"},
		{name: "a body in an encoding not decoded", body: example(t, "invoice-created-shopee.json"), encoding: "identity, br", status: 415, mention: "br"},
		{name: "a blank local_name", body: mutate(t, func(d map[string]any) { d["order"].(map[string]any)["local_name"] = "  " }), status: 422, field: "data.order.local_name"},
		{name: "a local_name of a zero-width space", body: mutate(t, func(d map[string]any) { d["order"].(map[string]any)["local_name"] = "\u200b" }), status: 422, field: "data.order.local_name"},
		{name: "a local_name with a zero-width space after it", body: mutate(t, func(d map[string]any) { d["order"].(map[string]any)["local_name"] = "ORD-1\u200b" }), status: 422, field: "data.order.local_name"},
		{name: "a local_name with a control character", body: mutate(t, func(d map[string]any) { d["order"].(map[string]any)["local_name"] = "ORD\u00071" }), status: 422, field: "data.order.local_name"},
		{name: "a local_name with a right-to-left mark", body: mutate(t, func(d map[string]any) { d["order"].(map[string]any)["local_name"] = "\u200fORD-1" }), status: 422, field: "data.order.local_name"},
		{name: "a payment's local_name with a zero-width joiner", body: fixtures.Replaced(t, "payment-received-shopee.json", `"local_name": "`, `"local_name": "\u200d`), status: 422, field: "data.invoices[0].order.local_name"},
		{name: "a key in capitals", body: edit(t, `"sku"`, `"SKU"`), status: 422, field: "data.order.item_lines[0].SKU"},
		{name: "a key that folds to a field (ſku)", body: edit(t, `"sku"`, `"ſku"`), status: 422, field: `data.order.item_lines[0]."\u017fku"`},
		{name: "a quantity of 2^63−1", body: mutate(t, func(d map[string]any) { firstLine(d)["quantity"] = json.Number("9223372036854775807") }), status: 422, field: "data.order.item_lines[0].quantity"},
		{name: "a fee of 10^16 rupiah", body: fixtures.Replaced(t, "payment-received-shopee.json", `"service_fee": 11650`, `"service_fee": 10000000000000000`), status: 422, field: "data.invoices[0].service_fee"},
		{name: "a price one sen above what Accurate holds", body: edit(t, `"price": 100000,`, `"price": "1000000000000.00",`), status: 422, field: "data.order.item_lines[0].price"},
		{name: "a 1 MiB body of 250,000 empty item lines", body: emptyLines(250_000), status: 422, field: "data.order.item_lines"},
		{name: "an invoice of 1,000 empty item lines", body: emptyLines(1000), status: 422, field: "data.order.item_lines[0].sku"},
		{name: "a repeated key", body: edit(t, `"store_id": 1009,`, `"store_id": 1009, "store_id": 1002,`), status: 422, field: "data.order.store_id"},
		{name: "invalid UTF-8 in a name", body: edit(t, `"name": "Kaos`, "\"name\": \"\xc3(Kaos"), status: 422, field: "data.order.item_lines[0].name"},
	}
	for _, tc := range cases {
		t.Run(tc.name+fmt.Sprintf(" gets %d, names the problem and records nothing", tc.status), func(t *testing.T) {
			before := s.keys(t)
			status, body := s.deliver(t, delivery{body: tc.body, contentType: tc.contentType, encoding: tc.encoding})
			if status != tc.status {
				t.Fatalf("status = %d %v; want %d", status, body, tc.status)
			}
			if tc.field != "" {
				if body["status"] != "invalid" || !namesField(body["errors"], tc.field) {
					t.Errorf("body = %.2000v; want errors naming %s", body, tc.field)
				}
				if errs, _ := body["errors"].([]any); len(errs) > 100 {
					t.Errorf("%d errors listed; want at most 100, and how many more", len(errs))
				}
			} else if !strings.Contains(fmt.Sprint(body["error"]), tc.mention) {
				t.Errorf("body = %v; want an error mentioning %q", body, tc.mention)
			}
			if after := s.keys(t); after != before {
				t.Errorf("Redis keys went from %d to %d; bad input must change nothing", before, after)
			}
		})
	}
}

func TestRedisDown(t *testing.T) {
	srv := testredis.StartServer(t)
	opt, _ := redis.ParseURL(srv.URL)
	opt.MaxRetries = -1
	opt.DialTimeout = 200 * time.Millisecond
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	s := startOn(t, rdb, "down")
	body := example(t, "invoice-created-shopee.json")

	t.Run("with Redis stopped a delivery gets 503 and readiness fails", func(t *testing.T) {
		srv.Stop()
		status, resp := s.deliver(t, delivery{body: body, id: "msg_same"})
		if status != http.StatusServiceUnavailable || resp["status"] != "unavailable" {
			t.Fatalf("status = %d %v; want 503 unavailable", status, resp)
		}
		req, _ := http.NewRequest(http.MethodGet, s.url+"/readyz", nil)
		if status, _ := do(t, req); status != http.StatusServiceUnavailable {
			t.Errorf("readyz = %d; want 503", status)
		}
	})
	t.Run("once Redis is back the same delivery is accepted", func(t *testing.T) {
		srv.Restart()
		status, resp := s.deliver(t, delivery{body: body, id: "msg_same"})
		if status != http.StatusAccepted {
			t.Fatalf("status = %d %v; want 202", status, resp)
		}
		req, _ := http.NewRequest(http.MethodGet, s.url+"/readyz", nil)
		if status, _ := do(t, req); status != http.StatusOK {
			t.Errorf("readyz = %d; want 200", status)
		}
	})
}

func TestHealth(t *testing.T) {
	s := start(t)
	req, _ := http.NewRequest(http.MethodGet, s.url+"/healthz", nil)
	if status, _ := do(t, req); status != http.StatusOK {
		t.Errorf("healthz = %d; want 200", status)
	}
}

// namesField tells whether a 422 body's errors list names field, with a
// reason.
func namesField(errs any, field string) bool {
	list, _ := errs.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["field"] == field && m["error"] != "" {
			return true
		}
	}
	return false
}
