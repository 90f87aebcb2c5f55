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
	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
)

// newSellersSite is the console of a deployment with two sellers, toko-a
// and toko-b, each with its own admin token.
func newSellersSite(t *testing.T) (a, b *site) {
	t.Helper()
	r := testredis.New(t)
	store := events.New(r.Client(t), events.Config{Namespace: r.Namespace})
	raw, _ := examples.Files.ReadFile("mapping.yaml")
	settings, err := mapping.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	verifier, _ := forstok.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 5*time.Minute)
	tokens := map[string]string{"token-of-a": "toko-a", "token-of-b": "toko-b"}
	srv := httptest.NewServer(handler.New(handler.Config{Store: store, Verifier: verifier, AdminToken: adminToken,
		SellerToken: func(tok string) (string, bool) { s, ok := tokens[tok]; return s, ok },
		StoreFor:    func(id string) admin.Store { return store.Seller(id) },
		Sellers: func() []admin.Seller {
			return []admin.Seller{admin.SellerFromMapping("toko-a", settings), admin.SellerFromMapping("toko-b", settings)}
		}}))
	t.Cleanup(srv.Close)
	return &site{t: t, url: srv.URL, store: store.Seller("toko-a")}, &site{t: t, url: srv.URL, store: store.Seller("toko-b")}
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
