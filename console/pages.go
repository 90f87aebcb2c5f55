package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

func (c *console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.showSignin(w, r, http.StatusOK, "")
}

func (c *console) showSignin(w http.ResponseWriter, r *http.Request, status int, errID string) {
	l := c.lang(w, r, admin.All)
	p := page{Title: l.T("signin.title"), CSRF: c.sessions.preSession(w, r),
		Data: map[string]string{"Next": safeNext(r.FormValue("next"))}}
	if errID != "" {
		p.Error = l.T(errID)
	}
	q := request{lang: l}
	c.render(w, r, status, "signin", q, p)
}

func (c *console) signin(w http.ResponseWriter, r *http.Request) {
	if !c.sessions.checkPre(r, r.PostFormValue("csrf")) {
		c.showSignin(w, r, http.StatusForbidden, "signin.expired")
		return
	}
	token := r.PostFormValue("token")
	scope, wait, ok := c.SignIn(r, token)
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		c.showSignin(w, r, http.StatusTooManyRequests, "signin.limited")
		return
	}
	if !ok {
		c.showSignin(w, r, http.StatusUnauthorized, "signin.wrong")
		return
	}
	c.sessions.start(w, r, scope, token)
	c.Logger.Info("console sign-in", zap.String("seller", scope.Seller))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *console) signout(w http.ResponseWriter, r *http.Request, q request) {
	if err := c.sessions.end(w, r, q.session); err != nil {
		c.Logger.Error("console sign-out not recorded: the session may still open pages until it expires", zap.Error(err))
		c.fail(w, r, http.StatusServiceUnavailable, "error.store")
		return
	}
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

type overviewData struct {
	O     admin.Overview
	Chart chart
	Order []string // states in lifecycle order
}

func (c *console) overview(w http.ResponseWriter, r *http.Request, q request) {
	o, err := c.Admin.Overview(r.Context(), q.scope)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "overview", q, page{Title: q.lang.T("overview.title"), Nav: "overview",
		Data: overviewData{O: o, Chart: drawChart(o.Hours, q.lang), Order: events.States}})
}

// row is an event as the lists show it: the record, its order numbers and,
// when it failed, what to fix.
type row struct {
	events.Event
	Orders []string
	Fix    string
	Seller string
}

func (c *console) row(q request, ev events.Event) row {
	rw := row{Event: ev, Seller: admin.SellerOf(ev)}
	if len(ev.Payload) > 0 {
		if dec, err := c.Decoder.Decode(ev.Payload); err == nil {
			rw.Orders = dec.OrderNumbers()
		}
	}
	if f := admin.FailureOf(ev); f != nil {
		rw.Fix = fixWords(q.lang, *f)
	}
	return rw
}

// fixWords says, in the page's language, what to do about a failure, from
// the fields the worker recorded.
func fixWords(l lang, f events.Failure) string {
	var words string
	switch f.Kind {
	case events.FailMapping:
		words = l.F("fix.mapping", f.Key)
	case events.FailAccurate, events.FailInvoice, events.FailVoid:
		words = l.F("fix."+f.Kind, l.Record(f.Record))
	case events.FailForstok, events.FailCredentials, events.FailWait:
		words = l.T("fix." + f.Kind)
	default:
		words = l.T("fix.other")
	}
	if f.AccurateMessage != "" {
		words += " " + l.F("fix.accurate_said", f.AccurateMessage)
	}
	return words
}

type failedData struct {
	Seller  string
	Rows    []row
	Next    string
	Sellers []string
	Count   int64
}

func (c *console) failed(w http.ResponseWriter, r *http.Request, q request) {
	ctx := r.Context()
	d := failedData{Seller: r.URL.Query().Get("seller")}
	for _, s := range c.Admin.SellerList() {
		if q.scope.Allows(s.SellerID()) {
			d.Sellers = append(d.Sellers, s.SellerID())
		}
	}
	// Without a filter, every seller the token sees: one seller's page
	// must never hide another's failures.
	lq := admin.ListQuery{Seller: d.Seller, State: events.StateFailed, Limit: 50, Cursor: r.URL.Query().Get("cursor")}
	list := c.Admin.List
	if d.Seller == "" {
		list = c.Admin.ListEvery
	}
	evs, next, err := list(ctx, q.scope, lq)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	d.Next = next
	for _, ev := range evs {
		// The list has no payloads; the order number is in the payload.
		full, err := c.Admin.GetOf(ctx, q.scope, ev.Seller, ev.Key)
		if err != nil {
			full = ev
		}
		d.Rows = append(d.Rows, c.row(q, full))
	}
	if o, err := c.Admin.Overview(ctx, q.scope); err == nil {
		d.Count = o.States[events.StateFailed]
	}
	c.render(w, r, http.StatusOK, "failed", q, page{Title: q.lang.T("failed.title"), Nav: "failed",
		Notice: c.notice(r, q.lang), Data: d})
}

// notice words what the last action did, from the redirect's query.
func (c *console) notice(r *http.Request, l lang) string {
	v := r.URL.Query()
	switch v.Get("done") {
	case "queued":
		return l.T("done.queued")
	case "all":
		n, _ := strconv.ParseInt(v.Get("n"), 10, 64)
		if n == 0 {
			return l.T("done.allnone")
		}
		msg := l.F("done.all", l.Num(n))
		if b, _ := strconv.ParseInt(v.Get("busy"), 10, 64); b > 0 {
			msg += " " + l.F("done.busy", l.Num(b))
		}
		if v.Get("more") == "1" {
			msg += " " + l.T("done.more")
		}
		return msg
	}
	return ""
}

type searchData struct {
	Order    string
	Searched bool
	Rows     []row
}

func (c *console) search(w http.ResponseWriter, r *http.Request, q request) {
	d := searchData{Order: r.URL.Query().Get("order")}
	if _, asked := r.URL.Query()["order"]; asked && d.Order != "" {
		d.Searched = true
		evs, err := c.Admin.SearchOf(r.Context(), q.scope, r.URL.Query().Get("seller"), d.Order)
		if err != nil {
			c.failErr(w, r, err)
			return
		}
		for _, ev := range evs {
			// The row's own seller: two sellers may both have an
			// invoice.created:5001.
			full, err := c.Admin.GetOf(r.Context(), q.scope, admin.SellerOf(ev), ev.Key)
			if err != nil {
				full = ev
			}
			d.Rows = append(d.Rows, c.row(q, full))
		}
	}
	c.render(w, r, http.StatusOK, "search", q, page{Title: q.lang.T("search.title"), Nav: "search", Data: d})
}

type eventData struct {
	row
	Invoice *forstok.Invoice
	Payment *forstok.Payment
	Pretty  string
	Final   bool
}

func (c *console) event(w http.ResponseWriter, r *http.Request, q request) {
	ev, err := c.Admin.GetOf(r.Context(), q.scope, r.URL.Query().Get("seller"), r.URL.Query().Get("key"))
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	d := eventData{row: c.row(q, ev), Final: ev.State == events.StateSynced || ev.State == events.StateFailed || ev.State == events.StateVoided}
	if dec, err := c.Decoder.Decode(ev.Payload); err == nil {
		d.Invoice, d.Payment = dec.Invoice, dec.Payment
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, ev.Payload, "", "  ") == nil {
		d.Pretty = pretty.String()
	} else {
		d.Pretty = string(ev.Payload)
	}
	p := page{Title: q.lang.T("event.title") + " " + ev.Key, Nav: "event", Data: d, Notice: c.notice(r, q.lang)}
	if !d.Final {
		p.Refresh = 2
	} else if r.URL.Query().Get("done") == "queued" {
		// The page refreshed itself until the replay ended: say how, not
		// that it is still queued.
		p.Notice = q.lang.F("done.finished", q.lang.T("state."+ev.State))
	}
	c.render(w, r, http.StatusOK, "event", q, p)
}

func (c *console) sellers(w http.ResponseWriter, r *http.Request, q request) {
	s, err := c.Admin.Sellers(r.Context(), q.scope)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "sellers", q, page{Title: q.lang.T("sellers.title"), Nav: "sellers", Data: s})
}

func (c *console) replay(w http.ResponseWriter, r *http.Request, q request) {
	key, seller := r.PostFormValue("key"), r.PostFormValue("seller")
	if err := c.Admin.ReplayOf(r.Context(), q.scope, seller, key); err != nil {
		c.failErr(w, r, err)
		return
	}
	c.Logger.Info("event replayed from the console", zap.String("seller", seller), zap.String("event_key", key))
	http.Redirect(w, r, eventURL(seller, key)+"&done=queued", http.StatusSeeOther)
}

func (c *console) replayFailed(w http.ResponseWriter, r *http.Request, q request) {
	seller := r.PostFormValue("seller")
	done, err := c.Admin.ReplayFailed(r.Context(), q.scope, seller)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.Logger.Info("failed events replayed from the console", zap.String("seller", seller),
		zap.Int("queued", len(done.Queued)), zap.Int("busy", len(done.Busy)))
	v := url.Values{"done": {"all"}, "n": {strconv.Itoa(len(done.Queued))}, "busy": {strconv.Itoa(len(done.Busy))}}
	if done.More {
		v.Set("more", "1")
	}
	http.Redirect(w, r, "/console/failed?"+v.Encode(), http.StatusSeeOther)
}

// AdminToken is the Authenticate of a service with one admin token, which
// sees every seller; compared in constant time.
func AdminToken(token string) func(string) (admin.Scope, bool) {
	return func(got string) (admin.Scope, bool) {
		return admin.All, token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
	}
}

// SessionKey derives the sessions' signing key from a secret (the admin
// token): a new secret ends every session.
func SessionKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("forstok-accurate-sync console session"))
	return m.Sum(nil)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
