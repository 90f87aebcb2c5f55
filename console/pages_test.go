package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"forstok-accurate-sync/events"
)

// storeMissing is what the worker records for an invoice of a store the
// mapping lacks: last_error in words, failure as data.
var storeMissing = events.Result{State: events.StateFailed,
	Error:   `store 1011 (Toko Baru) is not in stores: add stores."1011".customer_no and bank_no. Correct the mapping as it says, then replay this event`,
	Failure: &events.Failure{Kind: events.FailMapping, Key: `stores."1011".customer_no`, Hint: "Correct the mapping as it says, then replay this event"}}

func TestConsoleIsOffWithoutAnAdminToken(t *testing.T) {
	s := newSite(t, "")
	b := s.browser()
	for _, path := range []string{"/console", "/console/signin", "/console/assets/style.css"} {
		if a := b.get(path); a.status != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404 while the admin API is off", path, a.status)
		}
	}
}

func TestSignIn(t *testing.T) {
	s := newSite(t, adminToken)

	t.Run("a page asks for sign-in first, in Indonesian", func(t *testing.T) {
		b := s.browser()
		a := b.get("/console/failed")
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/signin?next=%2Fconsole%2Ffailed" {
			t.Fatalf("GET /console/failed signed out = %d %s", a.status, a.header.Get("Location"))
		}
		page := b.get("/console/signin")
		if page.status != 200 || !strings.Contains(page.body, `<html lang="id">`) || !strings.Contains(page.body, "Masukkan token admin") {
			t.Fatalf("sign-in page = %d\n%s", page.status, page.body)
		}
	})
	t.Run("a wrong token is refused and says what the token is", func(t *testing.T) {
		a := s.browser().signIn("wrong")
		if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "ADMIN_TOKEN") {
			t.Fatalf("wrong token = %d\n%s", a.status, a.body)
		}
	})
	t.Run("a sign-in without the form's token is refused", func(t *testing.T) {
		b := s.browser()
		a := b.post("/console/signin", url.Values{"token": {adminToken}})
		if a.status != http.StatusForbidden || a.header.Get("Set-Cookie") != "" && strings.Contains(a.header.Get("Set-Cookie"), "fas_console=") {
			t.Fatalf("sign-in without csrf = %d %v", a.status, a.header)
		}
	})
	t.Run("the right token starts a session in an HttpOnly, SameSite=Strict cookie, never in a URL", func(t *testing.T) {
		b := s.browser()
		a := b.signIn(adminToken)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console" {
			t.Fatalf("sign-in = %d %s", a.status, a.header.Get("Location"))
		}
		cookie := sessionCookie(a.header)
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") || strings.Contains(cookie, "Max-Age") || strings.Contains(cookie, "Expires") {
			t.Errorf("session cookie %q: want a browser-session cookie, not Secure over plain HTTP", cookie)
		}
		if strings.Contains(cookie, adminToken) || strings.Contains(a.header.Get("Location"), adminToken) {
			t.Errorf("the token leaked into the cookie or the URL")
		}
		if page := b.get("/console"); page.status != 200 || !strings.Contains(page.body, "Ringkasan") {
			t.Fatalf("overview after sign-in = %d", page.status)
		}
	})
	t.Run("behind TLS the cookie is Secure", func(t *testing.T) {
		b := s.browser()
		page := b.get("/console/signin")
		req, _ := http.NewRequest(http.MethodPost, s.url+"/console/signin",
			strings.NewReader(url.Values{"csrf": {csrfOf(t, page.body)}, "token": {adminToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		if cookie := sessionCookie(b.do(req).header); !strings.Contains(cookie, "Secure") {
			t.Fatalf("cookie behind TLS = %q; want Secure", cookie)
		}
	})
	t.Run("sign-out ends the session", func(t *testing.T) {
		b := s.browser()
		b.signIn(adminToken)
		page := b.get("/console")
		a := b.post("/console/signout", url.Values{"csrf": {csrfOf(t, page.body)}})
		if a.status != http.StatusSeeOther || !strings.Contains(sessionCookie(a.header), "Max-Age=0") {
			t.Fatalf("sign-out = %d %v", a.status, a.header)
		}
		if a := b.get("/console"); a.status != http.StatusSeeOther {
			t.Fatalf("GET /console after sign-out = %d; want a redirect to sign in", a.status)
		}
	})
	t.Run("a forged session cookie is not a session", func(t *testing.T) {
		b := s.browser()
		u, _ := url.Parse(s.url + "/console")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "fas_console", Value: "eyJlIjo5OTk5OTk5OTk5LCJuIjoieCJ9.AAAA", Path: "/console"}})
		if a := b.get("/console"); a.status != http.StatusSeeOther {
			t.Fatalf("forged cookie = %d; want a redirect to sign in", a.status)
		}
	})
}

func sessionCookie(h http.Header) string {
	for _, c := range h.Values("Set-Cookie") {
		if strings.HasPrefix(c, "fas_console=") {
			return c
		}
	}
	return ""
}

func TestReplayNeedsTheCSRFToken(t *testing.T) {
	s := newSite(t, adminToken)
	key := s.failedInvoice(71001, "SO-CSRF-1", storeMissing)
	b := s.browser()
	b.signIn(adminToken)
	ctx := context.Background()

	t.Run("a POST without the token is refused and changes nothing", func(t *testing.T) {
		a := b.post("/console/replay", url.Values{"key": {key}})
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "CSRF") {
			t.Fatalf("forged replay = %d\n%s", a.status, a.body)
		}
		if ev, _ := s.store.Get(ctx, key); ev.State != events.StateFailed {
			t.Fatalf("state after a forged replay = %s; want failed", ev.State)
		}
	})
	t.Run("a POST with a wrong token or from another site is refused", func(t *testing.T) {
		if a := b.post("/console/replay-failed", url.Values{"csrf": {"bm90LWl0"}, "seller": {"default"}}); a.status != http.StatusForbidden {
			t.Fatalf("wrong csrf = %d", a.status)
		}
		page := b.get("/console/failed")
		req, _ := http.NewRequest(http.MethodPost, s.url+"/console/replay",
			strings.NewReader(url.Values{"csrf": {csrfOf(t, page.body)}, "key": {key}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if a := b.do(req); a.status != http.StatusForbidden {
			t.Fatalf("cross-site POST = %d", a.status)
		}
		if ev, _ := s.store.Get(ctx, key); ev.State != events.StateFailed {
			t.Fatalf("state = %s; want failed", ev.State)
		}
	})
	t.Run("the replay button's form queues the event again", func(t *testing.T) {
		page := b.get("/console/failed")
		a := b.post("/console/replay", url.Values{"csrf": {csrfOf(t, page.body)}, "key": {key}})
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/event?") {
			t.Fatalf("replay = %d %s", a.status, a.header.Get("Location"))
		}
		if ev, _ := s.store.Get(ctx, key); ev.State != events.StateQueued {
			t.Fatalf("state after replay = %s; want queued", ev.State)
		}
		story := b.get(a.header.Get("Location"))
		if !strings.Contains(story.body, "dikirim ulang") || !strings.Contains(story.body, `http-equiv="refresh"`) {
			t.Fatalf("the story after a replay does not say so or refresh:\n%s", story.body)
		}
	})
	t.Run("once the replayed event is done, its story says how it ended and stops refreshing", func(t *testing.T) {
		ev, err := s.store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		in := events.Incoming{Key: key, Type: ev.Type, Payload: ev.Payload}
		if _, err := s.store.Begin(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := s.store.Finish(ctx, key, events.Result{State: events.StateSynced}); err != nil {
			t.Fatal(err)
		}
		story := b.get("/console/event?" + url.Values{"key": {key}, "done": {"queued"}}.Encode())
		if strings.Contains(story.body, "dikirim ulang ke antrean") || strings.Contains(story.body, `http-equiv="refresh"`) {
			t.Fatalf("a synced event still says it is queued, or refreshes:\n%s", story.body)
		}
		if !strings.Contains(story.body, "Pengiriman ulang selesai: tersinkron.") {
			t.Fatalf("the story does not say the replay ended synced:\n%s", story.body)
		}
	})
}

func TestPages(t *testing.T) {
	s := newSite(t, adminToken)
	key := s.failedInvoice(72001, "SO-7201", storeMissing)
	markup := `<b id="x">SO-9</b><script>alert(1)</script>`
	s.failedInvoice(72002, markup, storeMissing)
	b := s.browser()
	b.signIn(adminToken)

	t.Run("the failed list says what to fix, in words, with the mapping key", func(t *testing.T) {
		page := b.get("/console/failed")
		for _, want := range []string{"Mapping belum lengkap", `stores.&#34;1011&#34;.customer_no`, "SO-7201", "Kirim ulang semua yang gagal (default)"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the failed page lacks %q", want)
			}
		}
	})
	t.Run("what to fix is read from the recorded failure: Accurate's record and words, or, for an event failed before failures were recorded, the original reason", func(t *testing.T) {
		refused := s.failedInvoice(72003, "SO-7203", events.Result{State: events.StateFailed, Error: "Accurate refused faktur SO-7203: ...",
			Failure: &events.Failure{Kind: events.FailAccurate, Record: "item GHOST-1", AccurateMessage: `Barang "GHOST-1" tidak ditemukan atau sudah dihapus`}})
		legacy := s.failedInvoice(72004, "SO-7204", events.Result{State: events.StateFailed, Error: "faktur SO-7204: something the old worker wrote"})
		for key, want := range map[string][]string{
			refused: {"Accurate menolak dokumen: barang GHOST-1", "Kata Accurate: Barang &#34;GHOST-1&#34; tidak ditemukan"},
			legacy:  {"Baca pesan asli di bawah", "something the old worker wrote"},
		} {
			page := b.get("/console/event?key=" + url.QueryEscape(key))
			for _, w := range want {
				if !strings.Contains(page.body, w) {
					t.Errorf("the story of %s lacks %q", key, w)
				}
			}
		}
	})
	t.Run("an order number with markup is shown as text", func(t *testing.T) {
		for _, path := range []string{"/console/failed", "/console/search?order=" + url.QueryEscape(markup)} {
			page := b.get(path)
			if strings.Contains(page.body, "<script>alert(1)</script>") || strings.Contains(page.body, `<b id="x">`) {
				t.Fatalf("%s renders the markup", path)
			}
			if !strings.Contains(page.body, "&lt;b id=&#34;x&#34;&gt;SO-9&lt;/b&gt;&lt;script&gt;") {
				t.Fatalf("%s does not show the markup as text:\n%s", path, page.body)
			}
		}
	})
	t.Run("a search finds the event by order number in any case", func(t *testing.T) {
		page := b.get("/console/search?order=so-7201")
		if !strings.Contains(page.body, key) {
			t.Fatalf("search page lacks %s:\n%s", key, page.body)
		}
		if none := b.get("/console/search?order=NOPE"); !strings.Contains(none.body, "Tidak ada peristiwa untuk nomor pesanan") {
			t.Fatalf("an empty search does not say so:\n%s", none.body)
		}
	})
	t.Run("the story shows rupiah with Indonesian separators and dates in WIB", func(t *testing.T) {
		page := b.get("/console/event?key=" + url.QueryEscape(key))
		for _, want := range []string{"Rp\u00a0", "WIB", "26 Nov 2026", "Toko Maju Shopee", "Isi webhook", "gagal", `<span class="note">diterima</span>`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the story lacks %q", want)
			}
		}
		if !strings.Contains(page.body, "Rp\u00a0233.000") && !strings.Contains(page.body, ".000") {
			t.Errorf("no amount with a dot thousands separator in the story")
		}
	})
	t.Run("English is a toggle away and is remembered", func(t *testing.T) {
		page := b.get("/console/failed?lang=en")
		if !strings.Contains(page.body, `<html lang="en">`) || !strings.Contains(page.body, "What to fix") {
			t.Fatalf("?lang=en did not switch")
		}
		if again := b.get("/console/sellers"); !strings.Contains(again.body, "Sellers and their configuration") {
			t.Fatalf("the language was not remembered")
		}
		b.get("/console?lang=id")
	})
	t.Run("the overview, the sellers and the story each answer", func(t *testing.T) {
		for path, want := range map[string]string{
			"/console":         "<svg",
			"/console/sellers": "stores.&#34;1011&#34;.customer_no",
			"/console/event?key=" + url.QueryEscape(key): "Setiap langkah",
			"/console/event?key=nope":                    "tidak ada",
		} {
			page := b.get(path)
			if !strings.Contains(page.body, want) {
				t.Errorf("GET %s (%d) lacks %q", path, page.status, want)
			}
		}
	})
	t.Run("no page weighs more than 100 kB with its assets", func(t *testing.T) {
		css := b.get("/console/assets/style.css")
		if css.status != 200 {
			t.Fatalf("stylesheet = %d", css.status)
		}
		for _, path := range []string{"/console", "/console/failed", "/console/search?order=SO-7201", "/console/event?key=" + url.QueryEscape(key), "/console/sellers"} {
			page := b.get(path)
			if n := len(page.body) + len(css.body); n > 100_000 {
				t.Errorf("%s weighs %d bytes with its stylesheet", path, n)
			}
			if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("%s has CSP %q", path, csp)
			}
		}
	})
}
