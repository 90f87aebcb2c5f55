package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/money"
)

// The operator console driven by a real, headless Chromium against the real
// service, Redis and the Accurate sandbox: what a bookkeeper does after a
// sale fails to sync. With UPDATE_SCREENSHOTS=1 it also writes the
// screenshots docs/console/ shows.

// findChromium is the browser to drive: CHROME_PATH, else one on PATH.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium to drive the console's browser tests: install Debian's chromium package (apt-get install chromium; .ci/run does) or set CHROME_PATH")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile; the context
// ends it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Skipf("Chromium would not start (%v): install Debian's chromium package or set CHROME_PATH", err)
	}
	return ctx
}

// do runs the steps, each group bounded so that a page that never shows
// what a step waits for fails the test instead of hanging it.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot writes docs/console/<name>.png when UPDATE_SCREENSHOTS=1.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join("..", "..", "docs", "console", name+".png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// textOf waits for sel and returns its text.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// waitForText reloads nothing itself: the story page refreshes on its own
// while the event runs. It polls the page's text until want shows.
func waitForText(t *testing.T, ctx context.Context, sel, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		// The page may be reloading: a failed read is read again.
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, _ := chromedp.Run(short, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if strings.Contains(s, want) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// step runs one part of a story; the parts build on each other, so the
// first that fails ends the story.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// browserSignIn signs in to the console at base with token.
func browserSignIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.Navigate(base+"/console/signin"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
}

// browserShutdownTimeout is the service's SHUTDOWN_TIMEOUT beside a browser:
// Chromium opens a spare connection ahead of need, and net/http's Shutdown
// waits up to 5 s for a connection that has sent nothing yet, so the
// harness's 5 s could run out under load.
const browserShutdownTimeout = "20s"

func TestConsoleInABrowser(t *testing.T) {
	ctx := newBrowser(t)
	w := newWorld(t)
	// The Tokopedia store is not mapped yet: its sale fails.
	w.mapping = w.writeMapping(fixtures.MappingWithoutStore(t, "1010"))
	w.extraEnv = map[string]string{"SHUTDOWN_TIMEOUT": browserShutdownTimeout}
	w.start()

	const (
		failing = "invoice.created:70002"
		order   = "INV/20261126/MPL/3819022331"
		markup  = `<img src=x onerror="document.title='owned'">SO-XSS`
	)
	w.send(fixtures.Body(t, "invoice-created-shopee.json"))
	w.send(fixtures.Body(t, "payment-received-shopee.json"))
	w.send(fixtures.Body(t, "invoice-created-tokopedia-bundle.json"))
	xss := fixtures.Replaced(t, "invoice-created-shopee.json", `"local_name": "2411260AB12CD3"`,
		`"local_name": "<img src=x onerror=\"document.title='owned'\">SO-XSS"`)
	xss = bytes.Replace(xss, []byte(`"id": 70001`), []byte(`"id": 70009`), 1)
	if status := w.send(xss); status != http.StatusAccepted {
		t.Fatalf("the invoice with markup in its order number = %d", status)
	}
	states := w.waitFor([]string{"invoice.created:70001", "payment.received:90001", failing, "invoice.created:70009"}, 30*time.Second)
	if states[failing] != events.StateFailed {
		t.Fatalf("states = %v; want %s failed", states, failing)
	}

	step(t, "sign in with the admin token once", func(t *testing.T) {
		do(t, ctx, "open the console", chromedp.Navigate(w.url+"/console"), chromedp.WaitVisible(chromedp.ID("#token")))
		screenshot(t, ctx, "signin")
		do(t, ctx, "sign in",
			chromedp.SendKeys(chromedp.ID("token"), testAdmin),
			chromedp.Submit(chromedp.ID("#token")),
			chromedp.WaitVisible(chromedp.CSS(".tiles")))
		if url := get(t, ctx, "location", chromedp.Location()); strings.Contains(url, testAdmin) {
			t.Fatalf("the token is in the URL: %s", url)
		}
		if got := textOf(t, ctx, ".tiles"); !strings.Contains(got, "gagal") || !strings.Contains(got, "tersinkron") {
			t.Fatalf("overview tiles = %q", got)
		}
	})

	step(t, "find the failed sale by its order number and read what to fix", func(t *testing.T) {
		do(t, ctx, "search",
			chromedp.Navigate(w.url+"/console/search"),
			chromedp.SendKeys(chromedp.ID("order"), strings.ToLower(order)),
			chromedp.Submit(chromedp.ID("#order")),
			chromedp.WaitVisible(chromedp.CSS("table.events")))
		screenshot(t, ctx, "search")
		if got := textOf(t, ctx, "table.events"); !strings.Contains(got, failing) || !strings.Contains(got, "gagal") {
			t.Fatalf("search results = %q", got)
		}
		do(t, ctx, "open its story", chromedp.Click(chromedp.CSS("table.events a")), chromedp.WaitVisible(chromedp.CSS(".problem")))
		fix := textOf(t, ctx, ".problem .fix")
		if !strings.Contains(fix, `stores."1010"`) || !strings.Contains(fix, "Mapping belum lengkap") {
			t.Fatalf("what to fix = %q; want the mapping key stores.\"1010\" in words", fix)
		}
		screenshot(t, ctx, "event-failed")
		do(t, ctx, "the failed list", chromedp.Navigate(w.url+"/console/failed"), chromedp.WaitVisible(chromedp.CSS(".failures")))
		screenshot(t, ctx, "failed")
	})

	step(t, "a forged POST without the CSRF token is refused", func(t *testing.T) {
		do(t, ctx, "story", chromedp.Navigate(w.url+"/console/event?key="+failing), chromedp.WaitVisible(chromedp.CSS(".problem")))
		// Same origin, with the session cookie: only the token is missing.
		do(t, ctx, "strip the token and press replay",
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/console/replay"] input[name=csrf]').remove()`),
			chromedp.Click(chromedp.CSS(`form[action="/console/replay"] button`)),
			chromedp.WaitVisible(chromedp.CSS(".error")))
		if got := textOf(t, ctx, ".error"); !strings.Contains(got, "CSRF") {
			t.Fatalf("forged replay answered %q", got)
		}
		// Another site's form: SameSite=Strict keeps the cookie home too.
		evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(rw, `<!doctype html><title>prize</title><form method="post" action="%s/console/replay-failed"><input name="seller" value="default"><button id="go">win a prize</button></form>`, w.url)
		}))
		defer evil.Close()
		do(t, ctx, "a cross-site form", chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.ID("go")))
		// The click starts a navigation to the console; wait for its answer
		// rather than for the click.
		click, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = chromedp.Do(click, chromedp.Click(chromedp.ID("go")))
		cancel()
		if got := waitForText(t, ctx, "main", "CSRF", 20*time.Second); !strings.Contains(got, "CSRF") {
			t.Fatalf("the cross-site POST answered %q", got)
		}
		if ev := w.event(failing); ev["state"] != events.StateFailed {
			t.Fatalf("after the forged POSTs the event is %v; want still failed", ev["state"])
		}
	})

	step(t, "markup in an order number is shown as text", func(t *testing.T) {
		do(t, ctx, "search the markup",
			chromedp.Navigate(w.url+"/console/search"),
			chromedp.SendKeys(chromedp.ID("order"), markup),
			chromedp.Submit(chromedp.ID("#order")),
			chromedp.WaitVisible(chromedp.CSS("table.events")))
		if got := textOf(t, ctx, "table.events"); !strings.Contains(got, markup) {
			t.Fatalf("results = %q; want the order number's markup as text", got)
		}
		images := get(t, ctx, "count images", chromedp.Evaluate[int](`document.querySelectorAll('main img').length`))
		title := get(t, ctx, "title", chromedp.Title())
		if images != 0 || title == "owned" {
			t.Fatalf("the markup became an element (%d images, title %q)", images, title)
		}
	})

	step(t, "fix the mapping, press replay, see it synced", func(t *testing.T) {
		w.stop()
		w.mapping = w.writeMapping(fixtures.MappingYAML(t))
		w.start() // a new port; the session cookie holds for the host
		do(t, ctx, "story", chromedp.Navigate(w.url+"/console/event?key="+failing), chromedp.WaitVisible(chromedp.CSS(".problem")))
		do(t, ctx, "replay", chromedp.Click(chromedp.CSS(`form[action="/console/replay"] button`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
		got := waitForText(t, ctx, ".facts", "tersinkron", 30*time.Second)
		if !strings.Contains(got, "tersinkron") {
			t.Fatalf("after the replay the story says %q; want synced", got)
		}
		doc := textOf(t, ctx, ".doc")
		if !strings.Contains(doc, order) {
			t.Fatalf("Accurate document = %q; want faktur %s", doc, order)
		}
		screenshot(t, ctx, "event-synced")
	})

	step(t, "the overview, the sellers and English", func(t *testing.T) {
		do(t, ctx, "overview", chromedp.Navigate(w.url+"/console"), chromedp.WaitVisible(chromedp.CSS(".chart svg")))
		screenshot(t, ctx, "overview")
		do(t, ctx, "sellers", chromedp.Navigate(w.url+"/console/sellers"), chromedp.WaitVisible(chromedp.CSS(".problems, .ok")))
		screenshot(t, ctx, "sellers")
		do(t, ctx, "English", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
		if got := textOf(t, ctx, "h1"); got != "Sellers and their configuration" {
			t.Fatalf("English heading = %q", got)
		}
		do(t, ctx, "the language stays", chromedp.Navigate(w.url+"/console"), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
		screenshot(t, ctx, "overview-en")
		do(t, ctx, "back to Indonesian", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="id"]`)))
	})

	step(t, "a faktur deleted and one edited by hand in Accurate show on Rekonsiliasi", func(t *testing.T) {
		// An accountant deletes the Tokopedia faktur (27 November) and
		// edits the Shopee one (26 November) in Accurate's own screens.
		if !w.sandbox.DeleteByHand(sandbox.KindInvoice, order) || !w.sandbox.EditByHand(sandbox.KindInvoice, "2411260AB12CD3", money.Rupiah(100000)) {
			t.Fatal("the sandbox does not hold the fakturs to change by hand")
		}
		do(t, ctx, "open Rekonsiliasi from the menu", chromedp.Navigate(w.url+"/console"),
			chromedp.Click(chromedp.CSS(`nav a[href="/console/reconciliation"]`)), chromedp.WaitVisible(chromedp.CSS("form.range")))
		do(t, ctx, "ask for 26 and 27 November",
			chromedp.SetValue(chromedp.CSS(`form.range input[name=from]`), "2026-11-26"),
			chromedp.SetValue(chromedp.CSS(`form.range input[name=to]`), "2026-11-27"),
			chromedp.Submit(chromedp.CSS(`form.range input[name=from]`)),
			chromedp.WaitVisible(chromedp.CSS("table.recon .differences")))
		got := textOf(t, ctx, "table.recon")
		says(t, "the page", got, "Hilang di Accurate", order, "Jumlah berbeda", "2411260AB12CD3", "Rp\u00a0100.000", "(tersinkron)")
		href := get(t, ctx, "the missing faktur's event link", chromedp.AttributeValue(chromedp.CSS("li.missing_in_accurate a"), "href")).Value
		if !strings.Contains(href, "invoice.created%3A70002") && !strings.Contains(href, "invoice.created:70002") {
			t.Errorf("the missing faktur links to %q; want its event's story", href)
		}
		screenshot(t, ctx, "reconciliation")
	})

	step(t, "on a phone", func(t *testing.T) {
		do(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(w.url+"/console/search?order="+strings.ReplaceAll(order, "/", "%2F")), chromedp.WaitVisible(chromedp.CSS("table.events")))
		if get(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
			t.Errorf("the search page is wider than a phone's screen")
		}
		screenshot(t, ctx, "phone-search")
		do(t, ctx, "desktop again", chromedp.EmulateViewport(1280, 900))
	})

	step(t, "sign out", func(t *testing.T) {
		do(t, ctx, "sign out", chromedp.Navigate(w.url+"/console"), chromedp.Click(chromedp.CSS("button.link")), chromedp.WaitVisible(chromedp.ID("#token")))
		do(t, ctx, "a page after", chromedp.Navigate(w.url+"/console/failed"), chromedp.WaitVisible(chromedp.ID("#token")))
	})
}

// TestAccurateSettingsInABrowser: a seller whose payout failed because its
// service fee is unmapped signs in with its own token, picks the account
// from its Accurate's list, previews the penerimaan, saves, and replays the
// payout, which syncs; a forged save without the CSRF token changes
// nothing. With UPDATE_SCREENSHOTS=1 it writes docs/console/settings.png
// and settings-preview.png.
func TestAccurateSettingsInABrowser(t *testing.T) {
	ctx := newBrowser(t)
	w := newFleetWorld(t)
	w.setenv("SHUTDOWN_TIMEOUT", browserShutdownTimeout)
	w.failedPayout()
	version := func() string {
		cur, err := w.app.mappings.Current(t.Context(), "toko-a")
		if err != nil {
			t.Fatal(err)
		}
		return cur.Version
	}
	first := version()
	const (
		fee  = `select[name="amounts.service_fee"]`
		save = `form.settings button[type=submit]:not([formaction])`
	)

	step(t, "sign in with toko-a's own token and open Pengaturan Accurate from the sellers' page", func(t *testing.T) {
		browserSignIn(t, ctx, w.url, "admin-of-toko-a-3f9c1e7a52b84d06a1c9")
		do(t, ctx, "settings",
			chromedp.Navigate(w.url+"/console/sellers"),
			chromedp.Click(chromedp.CSS(`a[href="/console/sellers/toko-a/settings"]`)),
			chromedp.WaitVisible(chromedp.CSS("form.settings")))
		if got := textOf(t, ctx, "main"); !strings.Contains(got, "amounts.service_fee") || !strings.Contains(got, "1 peristiwa gagal menunggu") {
			t.Fatalf("the page does not name the failing key first: %q", got)
		}
		screenshot(t, ctx, "settings")
	})

	step(t, "pick the service fee's account and preview the payout's penerimaan in rupiah", func(t *testing.T) {
		options := get(t, ctx, "the service fee's choices", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('select[name="amounts.service_fee"] option')).map(o => o.textContent).join('|')`))
		if !strings.Contains(options, "610202 — Biaya Layanan Marketplace (EXPENSE)") {
			t.Fatalf("the select offers %q", options)
		}
		do(t, ctx, "pick and preview",
			chromedp.SetValue(chromedp.CSS(fee), "610202"),
			chromedp.Click(chromedp.CSS(`button[formaction$="/preview"]`)),
			chromedp.WaitVisible(chromedp.CSS("section.preview")))
		got := textOf(t, ctx, "section.preview")
		says(t, "the preview", got, "Penerimaan penjualan FP-900060", "610202 — Biaya Layanan Marketplace", "Rp\u00a084.550", "Rp\u00a0-4.450")
		if v := get(t, ctx, "the picked value", chromedp.Evaluate[string](`document.querySelector('select[name="amounts.service_fee"]').value`)); v != "610202" {
			t.Errorf("after the preview the select holds %q; want the draft kept", v)
		}
		if version() != first {
			t.Fatal("the preview saved a version")
		}
		screenshot(t, ctx, "settings-preview")
	})

	step(t, "a forged save without the CSRF token changes nothing", func(t *testing.T) {
		do(t, ctx, "strip the token and save",
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form.settings input[name=csrf]').remove()`),
			chromedp.Click(chromedp.CSS(save)))
		if got := waitForText(t, ctx, "main", "CSRF", 30*time.Second); !strings.Contains(got, "CSRF") {
			t.Fatalf("forged save answered %q", got)
		}
		if v := version(); v != first {
			t.Fatalf("the mapping is version %s after the forged save; want %s", v, first)
		}
	})

	step(t, "save, replay the failed payout, see it synced", func(t *testing.T) {
		do(t, ctx, "pick and save",
			chromedp.Navigate(w.url+"/console/sellers/toko-a/settings"),
			chromedp.WaitVisible(chromedp.CSS("form.settings")),
			chromedp.SetValue(chromedp.CSS(fee), "610202"),
			chromedp.Click(chromedp.CSS(save)),
			chromedp.WaitVisible(chromedp.CSS(`form[action$="/replay"] button`)))
		if got := textOf(t, ctx, `form[action$="/replay"] button`); got != "Kirim ulang 1 peristiwa gagal" {
			t.Fatalf("the replay button says %q", got)
		}
		if version() == first {
			t.Fatal("the save made no version")
		}
		// The page saved has a notice too: wait for the replay's.
		do(t, ctx, "replay", chromedp.Click(chromedp.CSS(`form[action$="/replay"] button`)))
		if got := waitForText(t, ctx, ".notice", "dikirim ulang", 30*time.Second); !strings.Contains(got, "1 peristiwa gagal dikirim ulang") {
			t.Fatalf("after the replay the page says %q", got)
		}
		w.waitState("toko-a", paymentKey(60), events.StateSynced)
		do(t, ctx, "the payout's story", chromedp.Navigate(w.url+"/console/event?seller=toko-a&key="+paymentKey(60)), chromedp.WaitVisible(chromedp.CSS(".facts")))
		if got := waitForText(t, ctx, ".facts", "tersinkron", 30*time.Second); !strings.Contains(got, "tersinkron") {
			t.Fatalf("the payout's story says %q; want synced", got)
		}
	})
}
