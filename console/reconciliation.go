package console

import (
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/reconcile"
)

// reconView is what the reconciliation page shows.
type reconView struct {
	Seller   string
	Sellers  []string
	From, To string
	Store    string
	Report   *reconcile.ReportView
	CSV      string // the download link of the same report
}

// reconciliationQuery is the page's query, a day by default: yesterday in
// the seller's time zone.
func (c *console) reconciliationQuery(r *http.Request, q request, seller string) admin.ReconciliationQuery {
	v := r.URL.Query()
	yesterday := c.Now().In(q.lang.loc).AddDate(0, 0, -1).Format(time.DateOnly)
	rq := admin.ReconciliationQuery{Seller: seller, From: v.Get("from"), To: v.Get("to"), Store: v.Get("store")}
	if rq.From == "" && rq.To == "" {
		rq.From, rq.To = yesterday, yesterday
	}
	return rq
}

// reconciliationHome sends the nav's link to the first seller the scope
// sees.
func (c *console) reconciliationHome(w http.ResponseWriter, r *http.Request, q request) {
	for _, s := range c.Admin.SellerList() {
		if q.scope.Allows(s.SellerID()) {
			http.Redirect(w, r, reconciliationURL(s.SellerID(), nil), http.StatusSeeOther)
			return
		}
	}
	c.failWith(w, r, http.StatusNotFound, "error.notfound", q.lang.T("notfound.sellers"))
}

func reconciliationURL(seller string, v url.Values) string {
	u := "/console/sellers/" + url.PathEscape(seller) + "/reconciliation"
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// reconciliation is the page "Rekonsiliasi": the same admin operation as
// GET /admin/sellers/<id>/reconciliation.
func (c *console) reconciliation(w http.ResponseWriter, r *http.Request, q request) {
	seller := r.PathValue("seller")
	rq := c.reconciliationQuery(r, q, seller)
	view := reconView{Seller: seller, From: rq.From, To: rq.To, Store: rq.Store}
	for _, s := range c.Admin.SellerList() {
		if q.scope.Allows(s.SellerID()) {
			view.Sellers = append(view.Sellers, s.SellerID())
		}
	}
	rep, err := c.Admin.Reconciliation(r.Context(), q.scope, rq)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	rv := rep.View()
	view.Report = &rv
	csv := url.Values{"from": {rq.From}, "to": {rq.To}}
	if rq.Store != "" {
		csv.Set("store", rq.Store)
	}
	view.CSV = "/console/sellers/" + url.PathEscape(seller) + "/reconciliation.csv?" + csv.Encode()
	c.render(w, r, http.StatusOK, "reconciliation", q, page{Title: q.lang.F("recon.title", seller), Nav: "reconciliation", Data: view})
}

// reconciliationCSV is the page's download: the report as CSV.
func (c *console) reconciliationCSV(w http.ResponseWriter, r *http.Request, q request) {
	seller := r.PathValue("seller")
	rep, err := c.Admin.Reconciliation(r.Context(), q.scope, c.reconciliationQuery(r, q, seller))
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="reconciliation-`+rep.Seller+"-"+rep.From+"-"+rep.To+`.csv"`)
	h.Set("Cache-Control", "no-store")
	if err := rep.WriteCSV(w); err != nil {
		c.Logger.Warn("reconciliation CSV cut short", zap.String("seller", seller), zap.Error(err))
	}
}
