package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/syncbuf"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
)

const (
	testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testToken         = "aat.test-token"
	testSigSecret     = "test-signature-secret"
	testAdmin         = "test-admin-6d2f0b8e41a7c3955e1f0b2d"
)

// world is the service with everything it talks to: a real Redis, the
// accurate-sandbox over real HTTP, and the service on a real listener.
type world struct {
	t       *testing.T
	redis   testredis.Redis
	sandbox *sandbox.Server
	accURL  string
	mapping string
	url     string
	// app is the running service (start); read it through a gate's
	// atomic copy from other goroutines.
	app  *app
	stop func()
	logs *syncbuf.Buffer
	// extraEnv adds to or overrides the service's environment.
	extraEnv map[string]string
	// retryMin and retryCap, when set, replace the tests' short backoff
	// (20 ms up to 1 s): a test that shows a wake-up needs a long one.
	retryMin, retryCap time.Duration
	// cluster, when set, is the Redis Cluster the service runs on instead
	// of w.redis's one node (onCluster).
	cluster *testredis.Cluster
}

// onCluster moves the world to the Redis Cluster of three masters this
// test binary shares, under a namespace of its own.
func (w *world) onCluster() *world {
	c := testredis.NewCluster(w.t)
	w.cluster = &c
	w.redis.Namespace = c.Namespace
	return w
}

// newWorld builds the world around an Accurate sandbox with Accurate's own
// limits (8 per second, 8 in flight), which tune may change.
func newWorld(t *testing.T, tune ...func(*sandbox.Config)) *world {
	t.Helper()
	w := &world{t: t, redis: testredis.New(t), logs: &syncbuf.Buffer{}}
	sc := sandbox.Config{APIToken: testToken, SignatureSecret: testSigSecret, RateLimit: 8, MaxConcurrency: 8}
	for _, f := range tune {
		f(&sc)
	}
	var acc *httptest.Server
	w.sandbox, acc = testaccurate.Serve(t, sc)
	w.accURL = acc.URL
	mappingYAML := fixtures.MappingYAML(t)
	w.mapping = w.writeMapping(mappingYAML)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log (tail):\n%s", w.logs.Tail(6000))
		}
	})
	return w
}

func (w *world) writeMapping(content []byte) string {
	path := filepath.Join(w.t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

func (w *world) env() map[string]string {
	env := map[string]string{
		"REDIS_URL":                 w.redis.URL,
		"REDIS_NAMESPACE":           w.redis.Namespace,
		"FORSTOK_WEBHOOK_SECRET":    testWebhookSecret,
		"ACCURATE_API_TOKEN":        testToken,
		"ACCURATE_SIGNATURE_SECRET": testSigSecret,
		"ACCURATE_HOST":             w.accURL,
		"MAPPING_FILE":              w.mapping,
		"ADMIN_TOKEN":               testAdmin,
		"LOG_LEVEL":                 "info",
		"SHUTDOWN_TIMEOUT":          "5s",
		// The daily reconciliation would read the sandbox at start (it is
		// past 06:00 somewhere); a test that wants it sets a time.
		"RECONCILE_AT": "off",
	}
	if w.cluster != nil {
		env["REDIS_URL"], env["REDIS_CLUSTER_ADDRS"] = "", strings.Join(w.cluster.Addrs, ",")
	}
	for k, v := range w.extraEnv {
		env[k] = v
	}
	return env
}

// start runs the service in this process until stop is called.
func (w *world) start() {
	w.t.Helper()
	env := w.env()
	cfg, err := loadConfig(func(k string) string { return env[k] }, needServe)
	if err != nil {
		w.t.Fatal(err)
	}
	opts := options{logger: newLogger(zapcore.InfoLevel, w.logs), retryMin: 20 * time.Millisecond, retryCap: time.Second, poll: 100 * time.Millisecond}
	if w.retryMin > 0 {
		opts.retryMin, opts.retryCap = w.retryMin, w.retryCap
	}
	a, err := newApp(cfg, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	w.url = "http://" + ln.Addr().String()
	w.app = a
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	w.stop = func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("service stopped with %v", err)
		}
		_ = a.rdb.Close()
		w.stop = nil
	}
	w.t.Cleanup(func() {
		if w.stop != nil {
			w.stop()
		}
	})
}

// send delivers a signed webhook and returns the status.
func (w *world) send(body []byte) int {
	w.t.Helper()
	status, _, err := postWebhook(context.Background(), http.DefaultClient, w.url+"/webhooks/forstok", testWebhookSecret, newMessageID("test"), body)
	if err != nil {
		w.t.Fatal(err)
	}
	return status
}

func (w *world) admin(method, path string, body []byte) (int, map[string]any) {
	w.t.Helper()
	return callJSON(w.t, method, w.url+path, testAdmin, body)
}

// callJSON sends a request with the bearer token (none when empty) and the
// JSON body (none when nil), and returns the status and the decoded answer.
func callJSON(t testing.TB, method, url, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (w *world) event(key string) map[string]any {
	w.t.Helper()
	status, ev := w.admin(http.MethodGet, "/admin/events/"+key, nil)
	if status != http.StatusOK {
		w.t.Fatalf("GET event %s = %d %v", key, status, ev)
	}
	return ev
}

// waitFor polls the admin API until every key reaches a final state or the
// time runs out, and returns the states.
func (w *world) waitFor(keys []string, within time.Duration, final ...string) map[string]string {
	w.t.Helper()
	if len(final) == 0 {
		final = []string{events.StateSynced, events.StateFailed}
	}
	deadline := time.Now().Add(within)
	states := map[string]string{}
	for {
		pending := 0
		for _, k := range keys {
			if isOneOf(states[k], final) {
				continue
			}
			status, ev := w.admin(http.MethodGet, "/admin/events/"+k, nil)
			if status == http.StatusOK {
				states[k], _ = ev["state"].(string)
			}
			if !isOneOf(states[k], final) {
				pending++
			}
		}
		if pending == 0 || time.Now().After(deadline) {
			return states
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func isOneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

func count(states map[string]string) map[string]int {
	out := map[string]int{}
	for _, s := range states {
		out[s]++
	}
	return out
}

// generatedInvoice is an invoice.created for order n of store 1009: one
// shirt at 89,000.
func generatedInvoice(n int) []byte {
	return []byte(fmt.Sprintf(`{"type":"invoice.created","timestamp":"2026-11-26T10:00:00+07:00","data":{
 "id":%d,"invoice_reference":"INV/GEN/%d","status":"Unpaid","created_at":"2026-11-26T10:00:00+07:00",
 "order":{"id":%d,"local_id":"GEN%d","local_name":"GEN-%06d","channel":"Shopee","channel_id":12,
  "store_id":1009,"store_name":"Toko Maju Shopee","warehouse_id":78,"cashless":true,"shipping_price":0,"discount_amount":0,
  "item_lines":[{"id":%d,"sku":"KAOS-HTM-L","name":"Kaos Polos","variant_name":"Hitam L","price":100000,"sale_price":89000}]}}}`,
		800000+n, n, 500000+n, n, n, n+1))
}

// generatedPayment pays generatedInvoice(n): 89,000 less a 4,450 service fee.
func generatedPayment(n int) []byte {
	return []byte(fmt.Sprintf(`{"type":"payment.received","timestamp":"2026-11-29T10:00:00+07:00","data":{
 "id":%d,"reference":"PAYOUT-%d","paid_at":"2026-11-29T10:00:00+07:00","store_id":1009,"amount_receive":"84550.00",
 "invoices":[{"id":%d,"order":{"id":%d,"local_name":"GEN-%06d","store_id":1009},"total":89000,"service_fee":4450}]}}`,
		900000+n, n, 800000+n, 500000+n, n))
}

func invoiceKey(n int) string { return fmt.Sprintf("invoice.created:%d", 800000+n) }
func paymentKey(n int) string { return fmt.Sprintf("payment.received:%d", 900000+n) }

// metrics is the service's /metrics page.
func (w *world) metrics() string {
	w.t.Helper()
	resp, err := http.Get(w.url + "/metrics")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	return body.String()
}

// states reads each key's state once from the admin API ("" when unknown).
func (w *world) states(keys []string) map[string]string {
	w.t.Helper()
	out := map[string]string{}
	for _, k := range keys {
		if status, ev := w.admin(http.MethodGet, "/admin/events/"+k, nil); status == http.StatusOK {
			out[k], _ = ev["state"].(string)
		}
	}
	return out
}

// says fails the test for each of wants that text (what names it) lacks.
func says(t testing.TB, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}
