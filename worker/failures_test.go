package worker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testnet"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/orders"
)

// TestWhatAFailureRecords runs each way the worker fails an event through
// the real worker, the event store in a real Redis and the accurate-sandbox
// over HTTP, and reads back the failure the store kept: the kind, the key or
// record to fix, Accurate's words and a hint, never a restart.
func TestWhatAFailureRecords(t *testing.T) {
	const faktur = "2411260AB12CD3" // order.local_name of the Shopee example invoice 70001
	type world struct {
		sb       *sandbox.Server
		store    *events.Store
		memory   *orders.Memory
		rdb      *redis.Client
		settings *mapping.Settings
		cfg      *Config
		token    *string // the API token the client signs with
		limiter  *accurate.Limiter
		// sync runs an earlier event through a worker of its own, on the
		// same sandbox and store, and wants it to end in state.
		sync func(t *testing.T, body []byte, state string)
	}
	const (
		bundleFaktur = "INV/20261126/MPL/3819022331" // order.local_name of the Tokopedia bundle invoice 70002, which return 95001 returns against
		retur        = "RJ-95001"
	)
	// voidOfBundle is the example void edited to void invoice 70002.
	voidOfBundle := func(b map[string]any) {
		b["data"].(map[string]any)["id"] = 70002
		order(b)["local_name"], order(b)["store_id"] = bundleFaktur, 1010
	}
	// frozen is a sandbox clock that never leaves its second: once a rate
	// limit of one request a second is used, every later request is refused.
	frozenAt := time.Now()
	frozen := func() time.Time { return frozenAt }
	cases := []struct {
		name    string
		example string
		edit    func(body map[string]any)
		sandbox sandbox.Config // limits and clock of the sandbox
		earlier []string       // examples synced first, before setup
		faults  sandbox.Faults // the sandbox's faults once the earlier examples synced
		closed  accurate.Date  // the sandbox's books closed through this day, once the earlier examples synced
		setup   func(t *testing.T, w world)
		want    events.Failure // Kind, Key and Record exactly; AccurateMessage and Hint as phrases they hold
	}{
		{name: "a store the mapping lacks records kind mapping with the key to add",
			example: "invoice-created-shopee.json",
			setup:   func(_ *testing.T, w world) { delete(w.settings.Stores, "1009") },
			want:    events.Failure{Kind: events.FailMapping, Key: `stores."1009"`, Hint: "Correct the mapping"}},
		{name: "an invoice without its faktur number records kind forstok",
			example: "invoice-created-shopee.json",
			edit:    func(b map[string]any) { order(b)["local_name"] = "" },
			want:    events.Failure{Kind: events.FailForstok, Hint: "POST /admin/replay"}},
		{name: "a stored payload that is no webhook records kind forstok",
			example: "",
			want:    events.Failure{Kind: events.FailForstok, Hint: "Replay a corrected body"}},
		{name: "a faktur Accurate refuses records kind accurate with Accurate's own words",
			example: "invoice-created-shopee.json",
			setup:   func(_ *testing.T, w world) { w.settings.Warehouses["78"] = "Gudang Barat" },
			want: events.Failure{Kind: events.FailAccurate, Record: "faktur " + faktur,
				AccurateMessage: `Gudang "Gudang Barat" tidak ditemukan`, Hint: "Create it in Accurate"}},
		{name: "a faktur dated in a period Accurate has closed records kind accurate with Accurate's own words",
			example: "invoice-created-shopee.json",
			closed:  accurate.Date{Year: 2026, Month: time.November, Day: 30},
			want: events.Failure{Kind: events.FailAccurate, Record: "faktur " + faktur,
				AccurateMessage: "periode 11/2026 sudah ditutup", Hint: "Correct the data"}},
		{name: "an item Accurate lacks records kind accurate naming the item and Accurate's words",
			example: "invoice-created-shopee.json",
			edit:    func(b map[string]any) { line(b, 2)["sku"] = "GHOST-1" },
			want: events.Failure{Kind: events.FailAccurate, Record: "item GHOST-1",
				AccurateMessage: "tidak ditemukan", Hint: "auto_create.items"}},
		{name: "a faktur number another event owns records kind forstok naming the faktur",
			example: "invoice-created-shopee.json",
			setup: func(t *testing.T, w world) {
				if _, err := w.memory.ClaimNumber(t.Context(), "faktur", faktur, "invoice.created:1"); err != nil {
					t.Fatal(err)
				}
			},
			want: events.Failure{Kind: events.FailForstok, Record: "faktur " + faktur, Hint: "its own local_name"}},
		{name: "a payment of a voided invoice records kind invoice naming its faktur",
			example: "payment-received-shopee.json",
			setup: func(t *testing.T, w world) {
				if err := w.memory.MarkVoided(t.Context(), 70001, "invoice.voided:70001"); err != nil {
					t.Fatal(err)
				}
			},
			want: events.Failure{Kind: events.FailInvoice, Record: "faktur " + faktur, Hint: "Book this payout by hand"}},
		{name: "a payment whose faktur never came records kind invoice once its wait is over",
			example: "payment-received-shopee.json",
			setup:   func(_ *testing.T, w world) { w.cfg.InvoiceWait = time.Nanosecond },
			want:    events.Failure{Kind: events.FailInvoice, Record: "faktur " + faktur, Hint: "replay this event"}},
		{name: "credentials Accurate refuses record kind credentials naming where the seller's are set",
			example: "invoice-created-shopee.json",
			setup: func(_ *testing.T, w world) {
				*w.token = "aat.not-the-sellers"
				w.cfg.MaxAttempts, w.cfg.Credentials = 1, "the seller file toko-b.yaml (accurate.api_token)"
			},
			want: events.Failure{Kind: events.FailCredentials, AccurateMessage: "tidak valid",
				Hint: "Check the seller file toko-b.yaml (accurate.api_token)"}},
		{name: "attempts used up while Accurate does not answer record kind wait",
			example: "invoice-created-shopee.json",
			faults:  sandbox.Faults{ErrorRate: 1},
			setup:   func(_ *testing.T, w world) { w.cfg.MaxAttempts = 1 },
			want:    events.Failure{Kind: events.FailWait, Hint: "when Accurate answers again"}},
		{name: "attempts used up while the Redis of the shared rate limit does not answer record kind other naming Redis, not Accurate",
			example: "invoice-created-shopee.json",
			setup: func(t *testing.T, w world) {
				dead := redis.NewClient(&redis.Options{Addr: testnet.FreeAddr(t), MaxRetries: -1})
				t.Cleanup(func() { _ = dead.Close() })
				*w.limiter = accurate.NewRedisLimiter(dead, "limit", 0, 0)
				w.cfg.MaxAttempts = 1
			},
			want: events.Failure{Kind: events.FailOther, Hint: "Redis did not answer"}},
		{name: "attempts used up while Accurate's rate limit refuses every request record kind wait with Accurate's own words",
			example: "invoice-created-shopee.json",
			sandbox: sandbox.Config{RateLimit: 1, Now: frozen},
			setup: func(_ *testing.T, w world) {
				// Another program of the seller's takes the second's one request.
				w.sb.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/accurate/api/item/list.do", nil))
				w.cfg.MaxAttempts = 1
			},
			want: events.Failure{Kind: events.FailWait, AccurateMessage: "request per detik", Hint: "rate limit"}},
		{name: "a return of an invoice that was voided records kind invoice naming its faktur",
			example: "return-created-tokopedia.json",
			earlier: []string{"invoice-created-tokopedia-bundle.json"},
			setup: func(t *testing.T, w world) {
				w.sync(t, fixtures.Edited(t, "invoice-voided-shopee.json", voidOfBundle), events.StateSynced)
			},
			want: events.Failure{Kind: events.FailInvoice, Record: "faktur " + bundleFaktur, Hint: "by hand"}},
		{name: "a retur Accurate refuses records kind accurate naming the retur with Accurate's own words",
			example: "return-created-tokopedia.json",
			earlier: []string{"invoice-created-tokopedia-bundle.json"},
			closed:  accurate.Date{Year: 2026, Month: time.December, Day: 31},
			want: events.Failure{Kind: events.FailAccurate, Record: "retur " + retur,
				AccurateMessage: "periode 12/2026 sudah ditutup", Hint: "Correct the data"}},
		{name: "a retur whose save Accurate never answers records kind wait once its attempts are used up",
			example: "return-created-tokopedia.json",
			earlier: []string{"invoice-created-tokopedia-bundle.json"},
			faults:  sandbox.Faults{LoseRate: 1},
			setup:   func(_ *testing.T, w world) { w.cfg.MaxAttempts = 1 },
			want:    events.Failure{Kind: events.FailWait, Hint: "when Accurate answers again"}},
		{name: "a return whose faktur was deleted in Accurate after it synced records kind invoice naming the invoice event to replay",
			example: "return-created-tokopedia.json",
			earlier: []string{"invoice-created-tokopedia-bundle.json"},
			setup: func(t *testing.T, w world) {
				if !w.sb.DeleteByHand(sandbox.KindInvoice, bundleFaktur) {
					t.Fatal("the faktur was not in the sandbox")
				}
				w.cfg.InvoiceWait = time.Nanosecond
			},
			want: events.Failure{Kind: events.FailInvoice, Record: "faktur " + bundleFaktur, Hint: "replay invoice.created:70002"}},
		{name: "a return the faktur cannot take records kind forstok",
			example: "return-created-tokopedia.json",
			edit: func(b map[string]any) {
				b["data"].(map[string]any)["item_lines"].([]any)[0].(map[string]any)["quantity"] = 5
			},
			earlier: []string{"invoice-created-tokopedia-bundle.json"},
			want:    events.Failure{Kind: events.FailForstok, Hint: "POST /admin/replay"}},
		{name: "a return whose record of an earlier retur is unreadable records kind other naming that retur and the event to replay",
			example: "return-created-tokopedia.json",
			earlier: []string{"invoice-created-tokopedia-bundle.json"},
			setup: func(t *testing.T, w world) {
				if err := w.memory.RecordReturn(t.Context(), bundleFaktur, "RJ-95000", []byte("{not json")); err != nil {
					t.Fatal(err)
				}
			},
			want: events.Failure{Kind: events.FailOther, Record: "retur RJ-95000", Hint: "return.created:95000"}},
		{name: "a return whose faktur never came records kind invoice once its wait is over",
			example: "return-created-tokopedia.json",
			setup:   func(_ *testing.T, w world) { w.cfg.InvoiceWait = time.Nanosecond },
			want:    events.Failure{Kind: events.FailInvoice, Record: "faktur " + bundleFaktur, Hint: "replay this event"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			sb, srv := testaccurate.Serve(t, tc.sandbox)
			r := testredis.New(t)
			token := testaccurate.Token
			var limiter accurate.Limiter
			rdb := r.Client(t)
			store := events.New(rdb, events.Config{Namespace: r.Namespace}).Seller(events.DefaultSeller)
			w := world{sb: sb, store: store, memory: orders.For(rdb, store), rdb: rdb,
				settings: exampleSettings(t), cfg: &Config{}, token: &token, limiter: &limiter}
			w.sync = func(t *testing.T, body []byte, state string) {
				t.Helper()
				client := testaccurate.Client(t, accurate.Config{Host: srv.URL})
				key := keyOf(t, body)
				_ = New(withStore(Config{Accurate: client, Mapping: w.settings}, rdb, store)).processKey(ctx, key, asynq.NewTask("event", body))
				if ev, err := store.Get(ctx, key); err != nil || ev.State != state {
					t.Fatalf("the earlier %s ended %s (%s, %v); want %s", key, ev.State, ev.LastError, err, state)
				}
			}
			body := []byte(`{"type":"invoice.created","data":{}}`)
			if tc.example != "" {
				body = editedExample(t, tc.example, tc.edit)
			}
			for _, name := range tc.earlier {
				w.sync(t, fixtures.Body(t, name), events.StateSynced)
			}
			sb.SetFaults(tc.faults)
			if !tc.closed.IsZero() {
				sb.SetClosedThrough(tc.closed)
			}
			if tc.setup != nil {
				tc.setup(t, w)
			}
			client := testaccurate.Client(t, accurate.Config{Host: srv.URL, APIToken: token, ReadAttempts: 1, Limiter: limiter})
			cfg := *w.cfg
			cfg = withStore(cfg, w.rdb, w.store)
			cfg.Accurate, cfg.Mapping = client, w.settings
			key := keyOf(t, body)

			if err := New(cfg).processKey(ctx, key, asynq.NewTask("event", body)); err == nil {
				t.Fatal("the event did not fail")
			}
			ev, err := w.store.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if ev.State != events.StateFailed || ev.Failure == nil {
				t.Fatalf("%s ended %s with failure %+v (%s); want failed with a failure", key, ev.State, ev.Failure, ev.LastError)
			}
			got := *ev.Failure
			if got.Kind != tc.want.Kind || got.Key != tc.want.Key || got.Record != tc.want.Record {
				t.Errorf("failure %+v; want kind %q, key %q, record %q", got, tc.want.Kind, tc.want.Key, tc.want.Record)
			}
			if !strings.Contains(got.AccurateMessage, tc.want.AccurateMessage) || (tc.want.AccurateMessage == "") != (got.AccurateMessage == "") {
				t.Errorf("accurate_message %q; want Accurate's words holding %q", got.AccurateMessage, tc.want.AccurateMessage)
			}
			if !strings.Contains(got.Hint, tc.want.Hint) {
				t.Errorf("hint %q does not say %q", got.Hint, tc.want.Hint)
			}
			for _, words := range []string{got.Hint, ev.LastError} {
				if strings.Contains(strings.ToLower(words), "restart") {
					t.Errorf("%q advises a restart", words)
				}
			}
			if !strings.Contains(ev.LastError, got.Hint) {
				t.Errorf("last_error %q does not carry the hint %q in words", ev.LastError, got.Hint)
			}
			// Given up, it says what to do once, and no longer that it is
			// retried.
			if strings.Count(ev.LastError, got.Hint) != 1 || strings.Contains(ev.LastError, "retried") {
				t.Errorf("last_error %q; want the hint once and no word of a retry once it gave up", ev.LastError)
			}
			if *w.limiter != nil && strings.Contains(ev.LastError, "Accurate did not answer") {
				t.Errorf("last_error %q blames Accurate for Redis", ev.LastError)
			}
		})
	}
}

// editedExample is an example body with edit, if any, applied to its JSON.
func editedExample(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	if edit == nil {
		return fixtures.Body(t, name)
	}
	return fixtures.Edited(t, name, edit)
}

func order(body map[string]any) map[string]any {
	return body["data"].(map[string]any)["order"].(map[string]any)
}

func line(body map[string]any, i int) map[string]any {
	return order(body)["item_lines"].([]any)[i].(map[string]any)
}

// keyOf is the event key of a body: type:data.id, as intake makes it.
func keyOf(t *testing.T, body []byte) string {
	t.Helper()
	var ev struct {
		Type string `json:"type"`
		Data struct {
			ID json.Number `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Data.ID == "" {
		return ev.Type + ":0"
	}
	return ev.Type + ":" + ev.Data.ID.String()
}
