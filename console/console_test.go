package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
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

const adminToken = "console-test-admin-8a41c07e2d9b5f36"

type site struct {
	t     *testing.T
	url   string
	store *events.Store
}

func newSite(t *testing.T, token string) *site {
	t.Helper()
	r := testredis.New(t)
	evs := events.New(r.Client(t), events.Config{Namespace: r.Namespace})
	store := evs.Seller(events.DefaultSeller)
	settings := fixtures.Settings(t)
	verifier, _ := forstok.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 5*time.Minute)
	srv := httptest.NewServer(handler.New(handler.Config{Store: store, Queue: evs.Queue(), Verifier: verifier, AdminToken: token,
		Sellers: func() []admin.Seller { return []admin.Seller{admin.SellerFromMapping(admin.DefaultSeller, settings)} }}))
	t.Cleanup(srv.Close)
	return &site{t: t, url: srv.URL, store: store}
}

// browser is a client with cookies that does not follow redirects, so that
// each answer can be looked at.
type browser struct {
	t    *testing.T
	site *site
	c    *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, site: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.site.url+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.site.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", html)
	}
	return m[1]
}

func (b *browser) signIn(token string) answer {
	b.t.Helper()
	page := b.get("/console/signin")
	return b.post("/console/signin", url.Values{"csrf": {csrfOf(b.t, page.body)}, "token": {token}, "next": {"/console"}})
}

// failedInvoice accepts the example Shopee invoice under a new order number
// and fails it as res says.
func (s *site) failedInvoice(id int64, order string, res events.Result) string {
	s.t.Helper()
	ctx := context.Background()
	raw := fixtures.Body(s.t, "invoice-created-shopee.json")
	quoted, _ := json.Marshal(order)
	body := strings.ReplaceAll(string(raw), `"2411260AB12CD3"`, string(quoted))
	body = strings.Replace(body, `"id": 70001`, `"id": `+itoa(id), 1)
	ev, err := forstok.NewDecoder().Decode([]byte(body))
	if err != nil {
		s.t.Fatalf("decode: %v\n%s", err, body)
	}
	in := events.Incoming{Key: ev.Key(), Type: ev.Type, Payload: []byte(body), Orders: ev.OrderNumbers()}
	if _, err := s.store.Accept(ctx, in); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.store.Begin(ctx, in); err != nil {
		s.t.Fatal(err)
	}
	if err := s.store.Finish(ctx, in.Key, res); err != nil {
		s.t.Fatal(err)
	}
	return in.Key
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
