package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"forstok-accurate-sync/events"
)

// TestConsoleWithASellersTokenInABrowser: two sellers on one service, each
// with a failed sale under the same Forstok id. Signed in with the first
// seller's own token, the console shows that seller only; the other's event,
// even by its address, is "not found", as if it did not exist.
func TestConsoleWithASellersTokenInABrowser(t *testing.T) {
	ctx := newBrowser(t)
	w := newFleetWorld(t)
	w.setenv("SHUTDOWN_TIMEOUT", browserShutdownTimeout)
	key := invoiceKey(31)
	for _, s := range w.startTwo() {
		if got := w.send(s.seller, s.secret, unmappedInvoice(31)); got != http.StatusAccepted {
			t.Fatalf("%s's webhook = %d", s.seller, got)
		}
		w.waitState(s.seller, key, events.StateFailed)
	}

	step(t, "sign in with toko-a's own admin token", func(t *testing.T) {
		browserSignIn(t, ctx, w.url, "admin-of-toko-a-3f9c1e7a52b84d06a1c9")
	})

	step(t, "the failed list holds toko-a's sale and nothing of toko-b", func(t *testing.T) {
		do(t, ctx, "failed", chromedp.Navigate(w.url+"/console/failed"), chromedp.WaitVisible(chromedp.CSS(".failures")))
		main := textOf(t, ctx, "main")
		if !strings.Contains(main, key) || strings.Contains(main, "toko-b") {
			t.Fatalf("the failed page of toko-a's token = %q; want its own event and no word of toko-b", main)
		}
		n := get(t, ctx, "count", chromedp.Evaluate[int](`document.querySelectorAll('.failures > li').length`))
		if n != 1 {
			t.Fatalf("%d failed events listed; want toko-a's one", n)
		}
		links := get(t, ctx, "links", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('.failures a')).map(a => a.href).join(' ')`))
		if strings.Contains(links, "toko-b") || !strings.Contains(links, "toko-a") {
			t.Fatalf("event links = %s; want toko-a's only", links)
		}
	})

	step(t, "toko-b's event by its address is not found", func(t *testing.T) {
		addr := w.url + "/console/event?" + url.Values{"seller": {"toko-b"}, "key": {key}}.Encode()
		do(t, ctx, "open toko-b's event", chromedp.Navigate(addr), chromedp.WaitVisible(chromedp.CSS("main")))
		main := textOf(t, ctx, "main")
		if !strings.Contains(main, "tidak ada") || strings.Contains(main, "store_id") {
			t.Fatalf("toko-b's event seen with toko-a's token: %q; want not found", main)
		}
	})

	step(t, "the sellers' page shows toko-a alone", func(t *testing.T) {
		do(t, ctx, "sellers", chromedp.Navigate(w.url+"/console/sellers"), chromedp.WaitVisible(chromedp.CSS("main")))
		main := textOf(t, ctx, "main")
		if !strings.Contains(main, "toko-a") && !strings.Contains(main, "Toko A") || strings.Contains(main, "toko-b") || strings.Contains(main, "Toko B") {
			t.Fatalf("sellers page of toko-a's token = %q", main)
		}
	})

	if st := w.state("toko-b", key); st != events.StateFailed {
		t.Fatalf("toko-b's event is %q; want untouched", st)
	}
}
