package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
)

var (
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	versionField = regexp.MustCompile(`name="version" value="([^"]+)"`)
)

// consoleUser is a browser without script: a cookie jar and forms.
type consoleUser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (u *consoleUser) do(method, path string, form url.Values) (int, string, *url.URL) {
	u.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.base)
	}
	resp, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL
}

func signIn(t *testing.T, base, token string) *consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &consoleUser{t: t, base: base, c: &http.Client{Jar: jar}}
	_, page, _ := u.do(http.MethodGet, "/console/signin", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page: %s", page)
	}
	if status, page, _ := u.do(http.MethodPost, "/console/signin", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/console"}}); status != http.StatusOK {
		t.Fatalf("sign-in = %d %s", status, page)
	}
	return u
}

// failedPayout starts toko-a, whose file leaves the service fee unmapped,
// and toko-b; toko-a's invoice 60 syncs and its payout 60 fails.
func (w *fleetWorld) failedPayout() {
	w.t.Helper()
	w.writeExampleMapping("a.mapping.yaml", `service_fee: "610202"`, `# service_fee: "610202"`)
	w.write("toko-a", strings.Replace(w.sellerFile("A"), "shared.mapping.yaml", "a.mapping.yaml", 1))
	w.write("toko-b", w.sellerFile("B"))
	w.start()
	if w.send("toko-a", testWebhookSecret, generatedInvoice(60)) != http.StatusAccepted || w.send("toko-a", testWebhookSecret, generatedPayment(60)) != http.StatusAccepted {
		w.t.Fatal("webhooks refused")
	}
	w.waitState("toko-a", invoiceKey(60), events.StateSynced)
	w.waitState("toko-a", paymentKey(60), events.StateFailed)
}

func TestAccurateSettingsInTheConsole(t *testing.T) {
	w := newFleetWorld(t)
	w.failedPayout()
	u := signIn(t, w.url, "admin-of-toko-a-3f9c1e7a52b84d06a1c9")
	const settings = "/console/sellers/toko-a/settings"
	status, page, _ := u.do(http.MethodGet, settings, nil)
	if status != http.StatusOK {
		t.Fatalf("settings page = %d %s", status, page)
	}
	t.Run("the page names the failing key first, with how many wait on it, and offers the seller's accounts by number and name", func(t *testing.T) {
		says(t, "the page", page, "Pengaturan Accurate", `<code>amounts.service_fee</code></a> — 1 peristiwa gagal`,
			`name="amounts.service_fee"`, `<option value="610202">610202 — Biaya Layanan Marketplace (EXPENSE)</option>`,
			`name="stores.1009.customer_no"`, `<option value="C-SHOPEE" selected>C-SHOPEE — Pelanggan Shopee</option>`)
		if strings.Index(page, "peristiwa gagal menunggu") > strings.Index(page, `<form method="post" action="/console/sellers/toko-a/settings" class="settings">`) {
			t.Error("the failing keys are not first")
		}
	})
	csrf := csrfField.FindStringSubmatch(page)[1]
	version := versionField.FindStringSubmatch(page)[1]
	t.Run("a forged POST without the CSRF token changes nothing", func(t *testing.T) {
		status, _, _ := u.do(http.MethodPost, settings, url.Values{"version": {version}, "amounts.service_fee": {"610202"}})
		if status != http.StatusForbidden {
			t.Fatalf("forged POST = %d; want 403", status)
		}
		s, _ := w.app.sellers.Get("toko-a")
		if cur, _ := w.app.mappings.Current(t.Context(), "toko-a"); cur.Version != version || s.Mapping.Amounts.ServiceFee != "" {
			t.Fatalf("the mapping changed: %s, service fee %q", cur.Version, s.Mapping.Amounts.ServiceFee)
		}
	})
	t.Run("an account Accurate lacks is refused beside its field", func(t *testing.T) {
		status, page, _ := u.do(http.MethodPost, settings, url.Values{"csrf": {csrf}, "version": {version}, "amounts.service_fee": {"699999"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(page, `<span class="error" role="alert">GL account &#34;699999&#34; is not in Accurate`) {
			t.Fatalf("POST = %d %s", status, page)
		}
	})
	t.Run("saving the picked account offers to replay the failed payout, which then syncs", func(t *testing.T) {
		status, page, at := u.do(http.MethodPost, settings, url.Values{"csrf": {csrf}, "version": {version}, "amounts.service_fee": {"610202"}})
		if status != http.StatusOK || !strings.Contains(page, "Kirim ulang 1 peristiwa gagal") {
			t.Fatalf("save = %d at %s: %s", status, at, page)
		}
		if _, page, _ := u.do(http.MethodPost, settings+"/replay", url.Values{"csrf": {csrf}, "key": {"amounts.service_fee"}}); !strings.Contains(page, "1 peristiwa gagal dikirim ulang") {
			t.Fatalf("replay answered %s", page)
		}
		w.waitState("toko-a", paymentKey(60), events.StateSynced)
	})
	t.Run("the history lists both versions with a restore for the older", func(t *testing.T) {
		_, page, _ := u.do(http.MethodGet, settings+"?lang=en", nil)
		if !strings.Contains(page, "Accurate settings") || !strings.Contains(page, `value="`+version+`">Restore</button>`) {
			t.Fatalf("history: %s", page)
		}
	})
	t.Run("another seller's settings are not there for this seller's token", func(t *testing.T) {
		if status, _, _ := u.do(http.MethodGet, "/console/sellers/toko-b/settings", nil); status != http.StatusNotFound {
			t.Fatalf("toko-b's page = %d; want 404", status)
		}
	})
}

func TestPreviewInTheConsole(t *testing.T) {
	w := newFleetWorld(t)
	// toko-a's Accurate names its service fee account with markup.
	seed := sandbox.DefaultSeed()
	seed.Names["610202"] = "<script>alert(1)</script>"
	w.serveSandbox(seed)
	w.failedPayout()
	u := signIn(t, w.url, "admin-of-toko-a-3f9c1e7a52b84d06a1c9")
	const settings = "/console/sellers/toko-a/settings"
	_, page, _ := u.do(http.MethodGet, settings, nil)
	csrf := csrfField.FindStringSubmatch(page)[1]
	version := versionField.FindStringSubmatch(page)[1]
	draft := url.Values{"csrf": {csrf}, "version": {version}, "amounts.service_fee": {"610202"}}

	t.Run("the preview shows the payout's penerimaan under the form's values in rupiah, saving nothing", func(t *testing.T) {
		status, page, _ := u.do(http.MethodPost, settings+"/preview", draft)
		if status != http.StatusOK {
			t.Fatalf("preview = %d %s", status, page)
		}
		says(t, "the preview", page, "Pratinjau "+paymentKey(60), "Penerimaan penjualan FP-900060", "Pelunasan faktur GEN-000060",
			"Rp\u00a089.000", "Rp\u00a0-4.450", "Diterima di kas &amp; bank", "Rp\u00a084.550", "tidak ada yang dikirim ke Accurate",
			`<option value="610202" selected>`)
		if cur, _ := w.app.mappings.Current(t.Context(), "toko-a"); cur.Version != version {
			t.Fatalf("the preview saved version %s", cur.Version)
		}
		if w.state("toko-a", paymentKey(60)) != events.StateFailed {
			t.Fatal("the preview touched the failed payout")
		}
	})
	t.Run("markup in names from Accurate is shown as text", func(t *testing.T) {
		_, page, _ := u.do(http.MethodPost, settings+"/preview", draft)
		if strings.Contains(page, "<script>alert(1)</script>") {
			t.Fatal("the page carries the account's name as markup")
		}
		says(t, "the page", page, "610202 — &lt;script&gt;alert(1)&lt;/script&gt; (EXPENSE)</option>", "<td>610202 — &lt;script&gt;alert(1)&lt;/script&gt;</td>")
	})
	t.Run("in English, the preview of the faktur chosen by key, and an unknown key said above the form", func(t *testing.T) {
		form := url.Values{"csrf": {csrf}, "version": {version}, "event": {invoiceKey(60)}}
		status, page, _ := u.do(http.MethodPost, settings+"/preview?lang=en", form)
		for _, want := range []string{"Preview of " + invoiceKey(60), "Sales invoice GEN-000060", "KAOS-HTM-L — Kaos Hitam L", "Rp\u00a089.000", "Invoice total (before VAT)"} {
			if status != http.StatusOK || !strings.Contains(page, want) {
				t.Errorf("preview = %d, lacking %q", status, want)
			}
		}
		form.Set("event", "payment.received:1")
		status, page, _ = u.do(http.MethodPost, settings+"/preview?lang=en", form)
		if status != http.StatusNotFound || !strings.Contains(page, "No preview: event payment.received:1") || !strings.Contains(page, `class="settings"`) {
			t.Fatalf("unknown event = %d %s", status, page)
		}
	})
	t.Run("a preview without the CSRF token is refused", func(t *testing.T) {
		if status, _, _ := u.do(http.MethodPost, settings+"/preview", url.Values{"amounts.service_fee": {"610202"}}); status != http.StatusForbidden {
			t.Fatalf("preview = %d; want 403", status)
		}
	})
}
