package handler_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"forstok-accurate-sync/guard"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/testredis"
)

func TestFailedAuthenticationsAreLimited(t *testing.T) {
	r := testredis.New(t)
	rdb := r.Client(t)
	core, logs := observer.New(zapcore.WarnLevel)
	s := startOn(t, rdb, r.Namespace, func(c *handler.Config) {
		c.Guard = guard.New(rdb, r.Namespace)
		c.Logger = zap.New(core)
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	from := func(client, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/admin/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	t.Run("ten wrong tokens from one address are 401, each logged once with the address", func(t *testing.T) {
		for i := range 10 {
			if got := from("198.51.100.7", "wrong-token").StatusCode; got != http.StatusUnauthorized {
				t.Fatalf("attempt %d = %d; want 401", i+1, got)
			}
		}
		lines := logs.FilterMessage("authentication failed").All()
		if len(lines) != 10 {
			t.Fatalf("%d failure lines, want 10", len(lines))
		}
		if c := lines[0].ContextMap()["client"]; c != "198.51.100.7" {
			t.Errorf("logged client %v; want the address X-Forwarded-For gives through a trusted proxy", c)
		}
	})
	t.Run("the eleventh is 429 with Retry-After, even with the right token", func(t *testing.T) {
		resp := from("198.51.100.7", admin)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("answer = %d Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
	t.Run("another address with the right token still gets in", func(t *testing.T) {
		if got := from("198.51.100.8", admin).StatusCode; got != http.StatusOK {
			t.Errorf("= %d; want 200", got)
		}
	})
}

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	s := start(t, func(c *handler.Config) { c.Logger = zap.New(core) }) // no trusted proxies
	req, _ := http.NewRequest(http.MethodGet, s.url+"/admin/events", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	req.Header.Set("X-Forwarded-For", "198.51.100.99")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := logs.FilterMessage("authentication failed").All()
	if len(lines) != 1 || lines[0].ContextMap()["client"] != "127.0.0.1" {
		t.Errorf("logged %v; want the connection's address, not the header's", lines)
	}
}

// console is a browser on one service instance.
type consoleBrowser struct {
	t   *testing.T
	c   *http.Client
	url string
}

func newBrowser(t *testing.T, url string) *consoleBrowser {
	jar, _ := cookiejar.New(nil)
	return &consoleBrowser{t: t, url: url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *consoleBrowser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.url+path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *consoleBrowser) csrf(path string) string {
	b.t.Helper()
	_, page := b.do(http.MethodGet, path, nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no csrf field on %s", path)
	}
	return m[1]
}

func (b *consoleBrowser) signIn(token string) int {
	status, _ := b.do(http.MethodPost, "/console/signin", url.Values{"csrf": {b.csrf("/console/signin")}, "token": {token}, "next": {"/console"}})
	return status
}

// onto copies the browser's cookies to another instance's address: the
// same browser behind a load balancer, or a stolen cookie replayed.
func (b *consoleBrowser) onto(t *testing.T, url2 string) *consoleBrowser {
	other := newBrowser(t, url2)
	from, _ := url.Parse(b.url + "/console/")
	to, _ := url.Parse(url2 + "/console/")
	other.c.Jar.SetCookies(to, b.c.Jar.Cookies(from))
	return other
}

func TestConsoleSessionsEndOnEveryReplica(t *testing.T) {
	r := testredis.New(t)
	rdb := r.Client(t)
	const sellerToken = "toko-a-own-admin-token-6b1e0c9d4a7f2358"
	var mu sync.Mutex
	tokens := map[string]string{sellerToken: "toko-a"}
	replica := func() *service {
		return startOn(t, rdb, r.Namespace, func(c *handler.Config) {
			c.Guard = guard.New(rdb, r.Namespace)
			c.SellerToken = func(tok string) (string, bool) {
				mu.Lock()
				defer mu.Unlock()
				id, ok := tokens[tok]
				return id, ok
			}
			c.SellerTokens = func() map[string]string {
				mu.Lock()
				defer mu.Unlock()
				out := map[string]string{}
				for k, v := range tokens {
					out[k] = v
				}
				return out
			}
		})
	}
	a, b := replica(), replica()
	signedIn := func(br *consoleBrowser) bool {
		status, _ := br.do(http.MethodGet, "/console", nil)
		return status == http.StatusOK
	}

	t.Run("a session opened on one replica works on the other", func(t *testing.T) {
		br := newBrowser(t, a.url)
		if got := br.signIn(admin); got != http.StatusSeeOther {
			t.Fatalf("sign-in = %d", got)
		}
		if !signedIn(br.onto(t, b.url)) {
			t.Error("the cookie is refused on the second replica")
		}
	})
	t.Run("after sign-out on one replica the cookie is refused on both, replayed or not", func(t *testing.T) {
		br := newBrowser(t, a.url)
		br.signIn(admin)
		stolen := br.onto(t, b.url)
		replay := br.onto(t, a.url)
		if status, _ := br.do(http.MethodPost, "/console/signout", url.Values{"csrf": {br.csrf("/console")}}); status != http.StatusSeeOther {
			t.Fatalf("sign-out = %d", status)
		}
		if signedIn(stolen) {
			t.Error("the signed-out cookie still opens pages on the other replica")
		}
		if signedIn(replay) {
			t.Error("the signed-out cookie, replayed, still opens pages on the same replica")
		}
	})
	t.Run("rotating a seller's token ends the sessions it opened, on both replicas", func(t *testing.T) {
		br := newBrowser(t, a.url)
		if got := br.signIn(sellerToken); got != http.StatusSeeOther {
			t.Fatalf("sign-in = %d", got)
		}
		other := br.onto(t, b.url)
		if !signedIn(br) || !signedIn(other) {
			t.Fatal("the seller's session does not open pages")
		}
		mu.Lock()
		tokens = map[string]string{"toko-a-rotated-admin-token-90e7c1b3f5d2a4": "toko-a"}
		mu.Unlock()
		if signedIn(br) || signedIn(other) {
			t.Error("a session opened with the old token still opens pages after the rotation")
		}
	})
	t.Run("removing a seller's token ends its sessions", func(t *testing.T) {
		mu.Lock()
		tokens = map[string]string{sellerToken: "toko-a"}
		mu.Unlock()
		br := newBrowser(t, b.url)
		br.signIn(sellerToken)
		mu.Lock()
		tokens = map[string]string{}
		mu.Unlock()
		if signedIn(br) {
			t.Error("a session outlived the removal of its token")
		}
	})
}

func TestConsoleSignInIsLimited(t *testing.T) {
	r := testredis.New(t)
	rdb := r.Client(t)
	s := startOn(t, rdb, r.Namespace, func(c *handler.Config) { c.Guard = guard.New(rdb, r.Namespace) })
	br := newBrowser(t, s.url)
	for i := range 10 {
		if got := br.signIn("a-wrong-guess"); got != http.StatusUnauthorized {
			t.Fatalf("wrong sign-in %d = %d; want 401", i+1, got)
		}
	}
	status, body := br.do(http.MethodPost, "/console/signin", url.Values{"csrf": {br.csrf("/console/signin")}, "token": {admin}})
	if status != http.StatusTooManyRequests || !strings.Contains(body, "Terlalu banyak") {
		t.Errorf("the eleventh sign-in = %d; want 429 saying to wait", status)
	}
}
