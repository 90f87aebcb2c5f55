package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
	"forstok-accurate-sync/reconcile"
)

// siteReconciler reconciles the default seller against a sandbox.
type siteReconciler struct {
	store    *events.Store
	client   *accurate.Client
	settings *mapping.Settings
}

func (r siteReconciler) Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error) {
	return reconcile.New(reconcile.Config{}).Report(ctx, reconcile.Seller{ID: seller, Settings: r.settings, Days: r.store, Accurate: r.client}, q)
}

func (r siteReconciler) Stores(string) ([]string, bool) { return []string{"1009", "1010"}, true }

func TestReconciliationPage(t *testing.T) {
	r := testredis.New(t)
	evs := events.New(r.Client(t), events.Config{Namespace: r.Namespace})
	store := evs.Seller(events.DefaultSeller)
	settings := fixtures.Settings(t)
	sb, acc := testaccurate.Serve(t, sandbox.Config{})
	client := testaccurate.Client(t, accurate.Config{Host: acc.URL})
	verifier, _ := forstok.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 5*time.Minute)
	recs := siteReconciler{store: store, client: client, settings: settings}
	// The daily run of 26 November, at 07:00 in Jakarta on the 27th.
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	daily := reconcile.NewDaily(reconcile.DailyConfig{Redis: r.Client(t), Namespace: r.Namespace, At: reconcile.DefaultAt,
		Sellers: func() []reconcile.Zone {
			return []reconcile.Zone{{ID: admin.DefaultSeller, Location: settings.Location()}}
		},
		Reconciles: recs, Now: func() time.Time { return now }})
	srv := httptest.NewServer(handler.New(handler.Config{Store: store, Queue: evs.Queue(), Verifier: verifier, AdminToken: adminToken,
		Sellers:    func() []admin.Seller { return []admin.Seller{admin.SellerFromMapping(admin.DefaultSeller, settings)} },
		Reconciler: recs, DailyRuns: daily}))
	t.Cleanup(srv.Close)
	s := &site{t: t, url: srv.URL, store: store}

	// 26 November 2026 (the example's day): one failed invoice, and a
	// faktur of the store's customer the service never posted.
	key := s.failedInvoice(73001, "SO-7301", storeMissing)
	if err := store.FileDay(context.Background(), "2026-11-26", events.DayLine{Key: key, Kind: events.DocInvoice, Number: "SO-7301",
		Store: "1009", TotalSen: int64(money.Rupiah(233000)), Known: true, Invoice: 73001}); err != nil {
		t.Fatal(err)
	}
	byHand := accurate.SalesInvoice{Number: "SO-BY-HAND", TransDate: accurate.Date{Year: 2026, Month: 11, Day: 26}, CustomerNo: "C-SHOPEE",
		DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(50000), WarehouseName: "Utama"}}}
	if _, err := client.SaveSalesInvoice(context.Background(), &byHand); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.signIn(adminToken)
	path := "/console/sellers/default/reconciliation?from=2026-11-25&to=2026-11-26"

	t.Run("the page lists the days with both sides in rupiah and the differences under their day, linking to the event's story in the page's language", func(t *testing.T) {
		page := b.get(path)
		if page.status != http.StatusOK {
			t.Fatalf("%d\n%s", page.status, page.body)
		}
		for _, want := range []string{"Rekonsiliasi default", "Belum tersinkron", "SO-7301", "Tidak dikenal di Accurate", "SO-BY-HAND",
			`href="/console/event?key=` + url.QueryEscape(key) + `"`, "2026-11-25", "Cocok", "Unduh CSV", `name="from" value="2026-11-25"`,
			"Forstok Rp\u00a0233.000", "1 faktur Rp\u00a0233.000", "(gagal"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
	})
	t.Run("in English too", func(t *testing.T) {
		page := b.get(path + "&lang=en")
		for _, want := range []string{"Reconciliation of default", "Not synced", "Unknown in Accurate", "Download CSV", "Matches", "(failed"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the English page lacks %q", want)
			}
		}
	})
	t.Run("the CSV download is the same report", func(t *testing.T) {
		csv := b.get("/console/sellers/default/reconciliation.csv?from=2026-11-25&to=2026-11-26")
		if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%d %s", csv.status, csv.header.Get("Content-Type"))
		}
		for _, want := range []string{"date,store,kind,number", "2026-11-26,1009,not_synced,SO-7301,233000.00,," + key + ",failed",
			"2026-11-26,1009,unknown_in_accurate,SO-BY-HAND,,50000.00,,", "2026-11-25,,ok"} {
			if !strings.Contains(csv.body, want) {
				t.Errorf("the CSV lacks %q:\n%s", want, csv.body)
			}
		}
	})
	t.Run("a reversed range is refused naming the field, and an unknown store is not found, in the page's language", func(t *testing.T) {
		if page := b.get("/console/sellers/default/reconciliation?from=2026-11-26&to=2026-11-25&lang=id"); page.status != http.StatusBadRequest ||
			!strings.Contains(page.body, "tanggal akhir lebih awal dari tanggal awal") || strings.Contains(page.body, "is before from") {
			t.Errorf("reversed: %d\n%s", page.status, page.body)
		}
		if page := b.get("/console/sellers/default/reconciliation?from=2026-11-26&to=2026-11-26&store=999&lang=id"); page.status != http.StatusNotFound ||
			!strings.Contains(page.body, "Toko 999 tidak ada pada penjual ini") {
			t.Errorf("unknown store: %d\n%s", page.status, page.body)
		}
	})
	t.Run("the overview shows the seller's last daily run with its differences and a link to its day", func(t *testing.T) {
		if page := b.get("/console?lang=id"); !strings.Contains(page.body, "belum berjalan") {
			t.Errorf("before the first run the overview lacks %q", "belum berjalan")
		}
		daily.Tick(context.Background())
		page := b.get("/console?lang=id")
		for _, want := range []string{`href="/console/sellers/default/reconciliation?from=2026-11-26&amp;to=2026-11-26"`, "2 selisih", "Rekonsiliasi harian"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the overview lacks %q", want)
			}
		}
	})
	t.Run("a run that could not read Accurate says so on the overview, with when it tries again", func(t *testing.T) {
		sb.SetFaults(sandbox.Faults{ErrorRate: 1})
		defer sb.SetFaults(sandbox.Faults{})
		now = now.Add(24 * time.Hour) // the 27th is due
		daily.Tick(context.Background())
		page := b.get("/console?lang=id")
		if !strings.Contains(page.body, "2026-11-27") || !strings.Contains(page.body, "Accurate tidak dapat dibaca; dicoba lagi") {
			t.Errorf("the overview does not say Accurate could not be read:\n%s", page.body)
		}
	})
	t.Run("the nav's link leads to the first seller's page", func(t *testing.T) {
		if page := b.get("/console/reconciliation"); page.status != http.StatusSeeOther || page.header.Get("Location") != "/console/sellers/default/reconciliation" {
			t.Errorf("%d %s", page.status, page.header.Get("Location"))
		}
	})
}
