package handler_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	adminops "forstok-accurate-sync/admin"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
	"forstok-accurate-sync/reconcile"
)

// sandboxReconciler reconciles every seller against one sandbox, with the
// example mapping (stores 1009 and 1010).
type sandboxReconciler struct {
	s        *service
	client   *accurate.Client
	settings *mapping.Settings
}

func (r *sandboxReconciler) Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error) {
	return reconcile.New(reconcile.Config{}).Report(ctx, reconcile.Seller{ID: seller, Settings: r.settings,
		Days: r.s.evs.Seller(seller), Accurate: r.client}, q)
}

func (r *sandboxReconciler) Stores(string) ([]string, bool) { return []string{"1009", "1010"}, true }

func TestReconciliationRoute(t *testing.T) {
	_, acc := testaccurate.Serve(t, sandbox.Config{})
	client := testaccurate.Client(t, accurate.Config{Host: acc.URL})
	settings := fixtures.Settings(t)
	byHand := accurate.SalesInvoice{Number: "ORD-BY-HAND", TransDate: accurate.Date{Year: 2026, Month: 12, Day: 2}, CustomerNo: "C-SHOPEE",
		DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(142000), WarehouseName: "Utama"}}}
	if _, err := client.SaveSalesInvoice(context.Background(), &byHand); err != nil {
		t.Fatal(err)
	}
	rec := &sandboxReconciler{client: client, settings: settings}
	s2 := start(t, func(c *handler.Config) {
		c.Sellers = func() []adminops.Seller {
			return []adminops.Seller{{ID: "toko-a", Name: "toko-a", Location: time.UTC}, {ID: "toko-b", Name: "toko-b", Location: time.UTC}}
		}
		c.SellerToken = func(tok string) (string, bool) { return "toko-b", tok == "token-of-b" }
		c.Reconciler = rec
	})
	rec.s = s2

	cases := []struct {
		name, path, token string
		status            int
		names             string // a word the error must hold
	}{
		{"a report of a few days is 200", "/admin/sellers/toko-a/reconciliation?from=2026-12-01&to=2026-12-03", admin, 200, ""},
		{"a malformed from is a 400 naming from", "/admin/sellers/toko-a/reconciliation?from=1/12/2026&to=2026-12-03", admin, 400, "from"},
		{"a missing to is a 400 naming to", "/admin/sellers/toko-a/reconciliation?from=2026-12-01", admin, 400, "to"},
		{"a reversed range is a 400 naming to", "/admin/sellers/toko-a/reconciliation?from=2026-12-03&to=2026-12-01", admin, 400, "to"},
		{"93 days is a 400 naming to", "/admin/sellers/toko-a/reconciliation?from=2026-01-01&to=2026-04-03", admin, 400, "92"},
		{"92 days is allowed", "/admin/sellers/toko-a/reconciliation?from=2026-01-01&to=2026-04-02", admin, 200, ""},
		{"an unknown format is a 400 naming format", "/admin/sellers/toko-a/reconciliation?from=2026-12-01&to=2026-12-01&format=xml", admin, 400, "format"},
		{"a store the seller does not have is a 404", "/admin/sellers/toko-a/reconciliation?from=2026-12-01&to=2026-12-01&store=4040", admin, 404, "4040"},
		{"a seller's token on another seller is a 404", "/admin/sellers/toko-a/reconciliation?from=2026-12-01&to=2026-12-01", "token-of-b", 404, ""},
		{"a seller's token on its own seller is a 200", "/admin/sellers/toko-b/reconciliation?from=2026-12-01&to=2026-12-01", "token-of-b", 200, ""},
		{"an unknown seller is a 404", "/admin/sellers/nobody/reconciliation?from=2026-12-01&to=2026-12-01", admin, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := s2.admin(t, http.MethodGet, tc.path, tc.token, nil)
			if status != tc.status {
				t.Fatalf("%d %v, want %d", status, body, tc.status)
			}
			if tc.names != "" {
				if msg, _ := body["error"].(string); !strings.Contains(msg+" "+stringOf(body["message"]), tc.names) {
					t.Errorf("answer %v does not name %q", body, tc.names)
				}
			}
		})
	}
	t.Run("the JSON carries both sides and the difference with rupiah strings", func(t *testing.T) {
		_, body := s2.admin(t, http.MethodGet, "/admin/sellers/toko-a/reconciliation?from=2026-12-02&to=2026-12-02&store=1009", admin, nil)
		days, _ := body["days"].([]any)
		if len(days) != 1 {
			t.Fatalf("days %v", body["days"])
		}
		day := days[0].(map[string]any)
		diffs := day["differences"].([]any)
		if len(diffs) != 1 {
			t.Fatalf("differences %v", diffs)
		}
		d := diffs[0].(map[string]any)
		if d["kind"] != "unknown_in_accurate" || d["number"] != "ORD-BY-HAND" || d["accurate_amount"] != "142000.00" || d["store"] != "1009" {
			t.Errorf("difference %v", d)
		}
		if acc := day["accurate"].(map[string]any); acc["invoice_total"] != "142000.00" || acc["invoices"] != 1.0 {
			t.Errorf("accurate side %v", acc)
		}
	})
	for _, how := range []struct{ name, query, accept string }{
		{"format=csv", "&format=csv", ""},
		{"Accept: text/csv", "", "text/csv"},
	} {
		t.Run("CSV with "+how.name+" has a row per difference, then a row per clean day", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s2.url+"/admin/sellers/toko-a/reconciliation?from=2026-12-01&to=2026-12-02&store=1009"+how.query, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			if how.accept != "" {
				req.Header.Set("Accept", how.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/csv") {
				t.Fatalf("%d %s", resp.StatusCode, ct)
			}
			rows, err := csv.NewReader(resp.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := [][]string{
				{"date", "store", "kind", "number", "forstok_amount", "accurate_amount", "event", "state"},
				{"2026-12-02", "1009", "unknown_in_accurate", "ORD-BY-HAND", "", "142000.00", "", ""},
				{"2026-12-01", "1009", "ok", "", "0.00", "0.00", "", ""},
			}
			if len(rows) != len(want) {
				t.Fatalf("rows %v, want %v", rows, want)
			}
			for i := range want {
				if strings.Join(rows[i], ",") != strings.Join(want[i], ",") {
					t.Errorf("row %d %v, want %v", i, rows[i], want[i])
				}
			}
		})
	}
}

func stringOf(v any) string { x, _ := v.(string); return x }
