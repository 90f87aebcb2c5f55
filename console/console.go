// Package console is the operator console at /console: server-rendered
// pages over the admin operations (admin.Service, the same calls the JSON
// admin API makes), for the people who look after the sync without curl.
//
// Nothing is downloaded at run time: the templates, the stylesheet and the
// chart (inline SVG, drawn here) are embedded, and the pages use no script.
// Signing in sets a session cookie (HttpOnly, SameSite=Strict, Secure behind
// TLS); every form carries a CSRF token; html/template escapes everything
// shown.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/edge"
	"forstok-accurate-sync/forstok"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config builds the console.
type Config struct {
	Admin *admin.Service
	// SignIn tells what a sign-in's token may see for the request's
	// client: ok is false for a token that is not known, wait above zero
	// when the client failed too often and must wait that long.
	SignIn func(r *http.Request, token string) (scope admin.Scope, wait time.Duration, ok bool)
	// Revocations remembers, for every replica, the sessions signed out
	// before their time; nil remembers none.
	Revocations Revocations
	// TokenLive tells whether the token a session was opened with (known by
	// its Fingerprint) still opens that scope: a session ends when its token
	// is rotated or removed. Nil: always.
	TokenLive func(fingerprint string, scope admin.Scope) bool
	// SessionKey signs session cookies and CSRF tokens. Derive it from the
	// tokens' secret, so that changing the secret ends every session.
	SessionKey []byte
	Decoder    *forstok.Decoder
	Logger     *zap.Logger
	Now        func() time.Time
}

// Revocations is where ended sessions are kept (Redis, so that a cookie
// signed out on one replica is refused by all).
type Revocations interface {
	Revoke(ctx context.Context, id string, until time.Time) error
	Revoked(ctx context.Context, id string) (bool, error)
}

type console struct {
	Config
	sessions sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New builds the console's handler; it serves /console and everything under it.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Decoder == nil {
		cfg.Decoder = forstok.NewDecoder()
	}
	c := &console{Config: cfg, sessions: sessions{key: cfg.SessionKey, now: cfg.Now, secure: isSecure,
		revocations: cfg.Revocations, tokenLive: cfg.TokenLive, log: cfg.Logger}}
	c.pages = parsePages()
	assets, _ := fs.Sub(assetFiles, "assets")
	files := http.StripPrefix("/console/assets/", http.FileServerFS(assets))

	m := http.NewServeMux()
	m.Handle("GET /console/assets/", cacheFor(time.Hour, files))
	m.HandleFunc("GET /console/signin", c.signinPage)
	m.HandleFunc("POST /console/signin", c.signin)
	m.HandleFunc("POST /console/signout", c.signedIn(c.signout))
	m.HandleFunc("GET /console", c.signedIn(c.overview))
	m.HandleFunc("GET /console/{$}", c.signedIn(c.overview))
	m.HandleFunc("GET /console/failed", c.signedIn(c.failed))
	m.HandleFunc("GET /console/search", c.signedIn(c.search))
	m.HandleFunc("GET /console/event", c.signedIn(c.event))
	m.HandleFunc("GET /console/sellers", c.signedIn(c.sellers))
	m.HandleFunc("GET /console/reconciliation", c.signedIn(c.reconciliationHome))
	m.HandleFunc("GET /console/sellers/{seller}/reconciliation", c.signedIn(c.reconciliation))
	m.HandleFunc("GET /console/sellers/{seller}/reconciliation.csv", c.signedIn(c.reconciliationCSV))
	m.HandleFunc("POST /console/replay", c.signedIn(c.replay))
	m.HandleFunc("POST /console/replay-failed", c.signedIn(c.replayFailed))
	m.HandleFunc("GET /console/sellers/{seller}/settings", c.signedIn(c.settings))
	m.HandleFunc("POST /console/sellers/{seller}/settings", c.signedIn(c.saveSettings))
	m.HandleFunc("POST /console/sellers/{seller}/settings/preview", c.signedIn(c.previewSettings))
	m.HandleFunc("POST /console/sellers/{seller}/settings/replay", c.signedIn(c.replaySettings))
	m.HandleFunc("POST /console/sellers/{seller}/settings/restore", c.signedIn(c.restoreSettings))
	c.mux = m
	return c
}

func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script, no frames, no third party: the pages need none of it.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// Same-origin, not no-referrer: under no-referrer a browser sends
	// "Origin: null" with a form, which the check below must refuse.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if r.Method == http.MethodPost && !sameOrigin(r) {
		c.fail(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	if err := admin.CheckQuery(r.URL.RawQuery); err != nil {
		c.failErr(w, r, err)
		return
	}
	// A form Go cannot read whole would be acted on with what is left of
	// it (a replay of every seller's events for a seller field it
	// dropped): refused instead.
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			c.failErr(w, r, &admin.InputError{Field: "form", Msg: "cannot be read (" + err.Error() + "): nothing was done; send it again from the page",
				Problem: admin.ProblemForm})
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

// sameOrigin refuses a POST whose Origin names another site; browsers send
// it on every POST, so a missing one is let through to the CSRF check.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+itoa(int64(d/time.Second)))
		next.ServeHTTP(w, r)
	})
}

// request is what a page handler has once the session is checked.
type request struct {
	session session
	scope   admin.Scope
	lang    lang
}

type pageHandler func(w http.ResponseWriter, r *http.Request, q request)

// signedIn lets a request through with a valid session; POSTs must carry
// the session's CSRF token too. Without a session, pages send the browser
// to the sign-in form.
func (c *console) signedIn(next pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.sessions.read(r)
		if !ok {
			if r.Method != http.MethodGet {
				c.fail(w, r, http.StatusForbidden, "error.csrf")
				return
			}
			target := "/console/signin"
			if p := r.URL.RequestURI(); p != "/console" && p != "/console/" {
				target += "?next=" + url.QueryEscape(p)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !c.sessions.checkCSRF(s, r.PostFormValue("csrf")) {
			c.fail(w, r, http.StatusForbidden, "error.csrf")
			return
		}
		next(w, r, request{session: s, scope: s.scope(), lang: c.lang(w, r, s.scope())})
	}
}

// lang picks the language: ?lang= (remembered in a cookie), the cookie,
// else Indonesian; and the zone of the seller in view.
func (c *console) lang(w http.ResponseWriter, r *http.Request, scope admin.Scope) lang {
	code := langID
	if v := r.URL.Query().Get("lang"); v == langID || v == langEN {
		code = v
		c.sessions.set(w, r, langCookie, v)
	} else if ck, err := r.Cookie(langCookie); err == nil && ck.Value == langEN {
		code = langEN
	}
	return lang{Code: code, loc: c.location(scope)}
}

// location is the time zone of the scope's seller, or of the first seller.
func (c *console) location(scope admin.Scope) *time.Location {
	for _, s := range c.Admin.SellerList() {
		if scope.Allows(s.SellerID()) && s.Location != nil {
			return s.Location
		}
	}
	return time.UTC
}

// page is what every template gets.
type page struct {
	L      lang
	Title  string
	Nav    string
	CSRF   string
	Path   string // this page's path and query without lang, for the toggle
	Now    time.Time
	Notice string
	Error  string
	// Refresh, when set, reloads the page every so many seconds.
	Refresh int
	Data    any
}

func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, q request, p page) {
	p.L = q.lang
	if q.session.Nonce != "" {
		p.CSRF = c.sessions.csrf(q.session)
	}
	p.Now = c.Now()
	p.Path = withoutLang(r.URL)
	t := c.pages[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		c.Logger.Error("render console page", zap.String("page", name), zap.Error(err))
		http.Error(w, "internal error; the service's log has the details", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func withoutLang(u *url.URL) string {
	q := u.Query()
	q.Del("lang")
	q.Del("done")
	if len(q) == 0 {
		return u.Path
	}
	return u.Path + "?" + q.Encode()
}

// fail answers with a page naming what went wrong and what to do.
func (c *console) fail(w http.ResponseWriter, r *http.Request, status int, msgID string) {
	c.failWith(w, r, status, msgID)
}

// failWith renders the error page: the message msgID in the reader's
// language, filled in with args.
func (c *console) failWith(w http.ResponseWriter, r *http.Request, status int, msgID string, args ...any) {
	l := c.errorLang(r)
	q := request{lang: l}
	if s, ok := c.sessions.read(r); ok {
		q.session = s
	}
	c.render(w, r, status, "error", q, page{Title: l.T("error.title"), Error: l.F(msgID, args...)})
}

// errorLang is the language of an error page: ?lang=, the reader's
// cookie, else Indonesian.
func (c *console) errorLang(r *http.Request) lang {
	l := lang{Code: langID, loc: time.UTC}
	if v := r.URL.Query().Get("lang"); v == langID || v == langEN {
		l.Code = v
	} else if ck, err := r.Cookie(langCookie); err == nil && ck.Value == langEN {
		l.Code = langEN
	}
	return l
}

// failErr answers an admin operation's error with a page, at the status
// admin.AnswerOf gives it (the JSON API's too), in the page's language.
func (c *console) failErr(w http.ResponseWriter, r *http.Request, err error) {
	ans := admin.AnswerOf(err)
	l := c.errorLang(r)
	switch ans.Code {
	case admin.CodeRejected, admin.CodeInvalid:
		c.failWith(w, r, ans.Status, "error.input", l.Input(err, ans.Message))
	case admin.CodeNotFound:
		c.failWith(w, r, ans.Status, "error.notfound", l.NotFound(err))
	case admin.CodeConflict:
		c.fail(w, r, ans.Status, "error.busy")
	case admin.CodeVoided:
		c.fail(w, r, ans.Status, "error.voided")
	case admin.CodeUnavailable:
		c.fail(w, r, ans.Status, "error.store")
	case admin.CodeCancelled:
		w.WriteHeader(ans.Status) // nobody reads it
	default:
		c.Logger.Error("console request failed", zap.String("path", edge.Cut(r.URL.Path)), zap.Error(err))
		c.fail(w, r, ans.Status, "error.internal")
	}
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/console"
}
