package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testredis"
)

// newSellersSite is the console of a deployment with two sellers, toko-a
// and toko-b, each with its own admin token.
func newSellersSite(t *testing.T) (a, b *site) {
	t.Helper()
	r := testredis.New(t)
	evs := events.New(r.Client(t), events.Config{Namespace: r.Namespace})
	settings := fixtures.Settings(t)
	verifier, _ := forstok.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 5*time.Minute)
	tokens := map[string]string{"token-of-a": "toko-a", "token-of-b": "toko-b"}
	srv := httptest.NewServer(handler.New(handler.Config{Store: evs.Seller(events.DefaultSeller), Queue: evs.Queue(), Verifier: verifier, AdminToken: adminToken,
		SellerToken: func(tok string) (string, bool) { s, ok := tokens[tok]; return s, ok },
		StoreFor:    func(id string) admin.Store { return evs.Seller(id) },
		Sellers: func() []admin.Seller {
			return []admin.Seller{admin.SellerFromMapping("toko-a", settings), admin.SellerFromMapping("toko-b", settings)}
		}}))
	t.Cleanup(srv.Close)
	return &site{t: t, url: srv.URL, store: evs.Seller("toko-a")}, &site{t: t, url: srv.URL, store: evs.Seller("toko-b")}
}

func TestConsoleOfOneSeller(t *testing.T) {
	siteA, siteB := newSellersSite(t)
	keyA := siteA.failedInvoice(71001, "SO-OF-A", storeMissing)
	keyB := siteB.failedInvoice(71002, "SO-OF-B", storeMissing)
	b := siteB.browser()
	if a := b.signIn("token-of-b"); a.status != http.StatusSeeOther {
		t.Fatalf("sign-in with toko-b's token = %d\n%s", a.status, a.body)
	}

	t.Run("a seller's token sees its own failed events and not another seller's", func(t *testing.T) {
		page := b.get("/console/failed")
		if page.status != http.StatusOK || !strings.Contains(page.body, "SO-OF-B") || strings.Contains(page.body, "SO-OF-A") {
			t.Fatalf("failed page for toko-b = %d\n%s", page.status, page.body)
		}
		if other := b.get("/console/failed?seller=toko-a"); other.status != http.StatusNotFound || strings.Contains(other.body, "SO-OF-A") {
			t.Errorf("toko-a's failed page with toko-b's token = %d; want 404", other.status)
		}
	})

	t.Run("another seller's event is not found, and replaying it changes nothing", func(t *testing.T) {
		if a := b.get("/console/event?" + url.Values{"key": {keyA}, "seller": {"toko-a"}}.Encode()); a.status != http.StatusNotFound {
			t.Errorf("toko-a's event with toko-b's token = %d; want 404", a.status)
		}
		own := b.get("/console/event?" + url.Values{"key": {keyB}, "seller": {"toko-b"}}.Encode())
		if own.status != http.StatusOK {
			t.Fatalf("its own event = %d", own.status)
		}
		a := b.post("/console/replay", url.Values{"csrf": {csrfOf(t, own.body)}, "key": {keyA}, "seller": {"toko-a"}})
		if a.status != http.StatusNotFound {
			t.Errorf("replaying toko-a's event with toko-b's token = %d; want 404", a.status)
		}
		if ev, _ := siteA.store.Get(context.Background(), keyA); ev.State != events.StateFailed {
			t.Errorf("toko-a's event is %s; want failed, untouched", ev.State)
		}
	})

	t.Run("the admin token chooses the seller of the failed page", func(t *testing.T) {
		admin := siteA.browser()
		admin.signIn(adminToken)
		page := admin.get("/console/failed?seller=toko-a")
		if !strings.Contains(page.body, "SO-OF-A") || !strings.Contains(page.body, `href="/console/failed?seller=toko-b"`) {
			t.Fatalf("failed page of toko-a for the admin = %d\n%s", page.status, page.body)
		}
		if !strings.Contains(page.body, "seller=toko-a") {
			t.Errorf("the event links do not name the seller:\n%s", page.body)
		}
	})
}

func TestConsoleAcrossSellers(t *testing.T) {
	siteA, siteB := newSellersSite(t)
	// The same Forstok invoice id at both sellers, each under its own
	// order number.
	keyA := siteA.failedInvoice(5001, "SO-ACROSS-A", storeMissing)
	keyB := siteB.failedInvoice(5001, "SO-ACROSS-B", storeMissing)
	b := siteA.browser()
	b.signIn(adminToken)

	t.Run("the failed page lists every seller's failed events, each with its seller", func(t *testing.T) {
		page := b.get("/console/failed")
		for _, want := range []string{"SO-ACROSS-A", "SO-ACROSS-B", `<strong class="seller">toko-a</strong>`, `<strong class="seller">toko-b</strong>`,
			`href="/console/failed?seller=toko-b"`, "Semua penjual"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the failed page lacks %q", want)
			}
		}
		if strings.Contains(page.body, "Semua beres") {
			t.Errorf("the failed page says all is well while both sellers have failed events")
		}
	})
	t.Run("the seller filter shows that seller's alone, and says when it has none without saying all is well", func(t *testing.T) {
		page := b.get("/console/failed?seller=toko-b")
		if !strings.Contains(page.body, "SO-ACROSS-B") || strings.Contains(page.body, "SO-ACROSS-A") {
			t.Errorf("toko-b's failed page:\n%s", page.body)
		}
		if err := siteB.store.Finish(context.Background(), keyB, events.Result{State: events.StateSynced, AccurateNumber: "SO-ACROSS-B"}); err != nil {
			t.Fatal(err)
		}
		page = b.get("/console/failed?seller=toko-b")
		if !strings.Contains(page.body, "Tidak ada peristiwa gagal untuk penjual toko-b") || strings.Contains(page.body, "Semua beres") {
			t.Errorf("toko-b without failed events:\n%s", page.body)
		}
		if every := b.get("/console/failed"); !strings.Contains(every.body, "SO-ACROSS-A") || strings.Contains(every.body, "Semua beres") {
			t.Errorf("every seller, toko-a still failing:\n%s", every.body)
		}
	})
	t.Run("a search for the key both share shows each row's order number and seller, and links to that row's seller", func(t *testing.T) {
		page := b.get("/console/search?order=" + url.QueryEscape(keyA))
		for _, want := range []string{"SO-ACROSS-A", "SO-ACROSS-B", ">toko-a</td>", ">toko-b</td>",
			`href="/console/event?key=` + url.QueryEscape(keyA) + `&amp;seller=toko-b"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the search page lacks %q:\n%s", want, page.body)
			}
		}
		story := b.get("/console/event?" + url.Values{"key": {keyB}, "seller": {"toko-b"}}.Encode())
		if !strings.Contains(story.body, "SO-ACROSS-B") || !strings.Contains(story.body, `name="seller" value="toko-b"`) {
			t.Errorf("toko-b's story does not show toko-b's event or replay it there:\n%s", story.body)
		}
	})
	t.Run("a search among one seller's events shows that seller's alone, on the page and in the JSON list", func(t *testing.T) {
		page := b.get("/console/search?" + url.Values{"order": {keyA}, "seller": {"toko-b"}}.Encode())
		if !strings.Contains(page.body, ">toko-b</td>") || strings.Contains(page.body, ">toko-a</td>") {
			t.Errorf("the search among toko-b's events:\n%s", page.body)
		}
		req, _ := http.NewRequest(http.MethodGet, siteA.url+"/admin/events?"+url.Values{"order": {keyA}, "seller": {"toko-a"}}.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		a := b.do(req)
		if a.status != http.StatusOK || !strings.Contains(a.body, `"seller":"toko-a"`) || strings.Contains(a.body, `"seller":"toko-b"`) {
			t.Errorf("GET /admin/events?order=&seller=toko-a = %d %s; want toko-a's entries alone", a.status, a.body)
		}
	})
	t.Run("the JSON list without a seller lists every seller's failed events, each naming its seller", func(t *testing.T) {
		// toko-b's event synced above; fail it again.
		if err := siteB.store.Finish(context.Background(), keyB, storeMissing); err != nil {
			t.Fatal(err)
		}
		for token, want := range map[string][]string{adminToken: {`"seller":"toko-a"`, `"seller":"toko-b"`}, "token-of-b": {`"seller":"toko-b"`}} {
			req, _ := http.NewRequest(http.MethodGet, siteA.url+"/admin/events?state=failed", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			a := b.do(req)
			if a.status != http.StatusOK || strings.Count(a.body, `"key":`) != len(want) {
				t.Errorf("GET /admin/events?state=failed = %d %s; want %d entries", a.status, a.body, len(want))
			}
			for _, w := range want {
				if !strings.Contains(a.body, w) {
					t.Errorf("GET /admin/events?state=failed = %s; want an entry with %s", a.body, w)
				}
			}
		}
	})
	t.Run("the JSON list's entries carry their seller", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, siteA.url+"/admin/events?order=SO-ACROSS-B", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		a := b.do(req)
		if a.status != http.StatusOK || !strings.Contains(a.body, `"seller":"toko-b"`) {
			t.Errorf("GET /admin/events?order= = %d %s; want entries naming seller toko-b", a.status, a.body)
		}
	})
}
