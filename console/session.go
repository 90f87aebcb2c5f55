package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
)

// A session is a signed cookie, not a server-side record: any replica can
// check it, a restart keeps it, and it holds no token, only who signed in
// and until when. Its key comes from the tokens' secret, so changing
// ADMIN_TOKEN ends every session. The cookie has no Max-Age: it ends with
// the browser session, and at the latest after sessionLife.

const (
	sessionCookie = "fas_console"
	// preCookie carries the sign-in form's CSRF nonce before there is a
	// session (double submit), so that no other site can sign a browser in.
	preCookie   = "fas_console_pre"
	langCookie  = "fas_lang"
	sessionLife = 12 * time.Hour
)

type session struct {
	Seller  string `json:"s,omitempty"` // empty: every seller
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
	// Token is the Fingerprint of the token that opened the session: the
	// session ends when that token no longer opens its scope.
	Token string `json:"t"`
}

func (s session) scope() admin.Scope { return admin.Scope{Seller: s.Seller} }

type sessions struct {
	key         []byte
	now         func() time.Time
	secure      func(r *http.Request) bool
	revocations Revocations
	tokenLive   func(fingerprint string, scope admin.Scope) bool
	log         *zap.Logger
}

// Fingerprint names a token in a session without holding it: an HMAC under
// the session key, so that the cookie, which the browser shows, tells
// nothing about the token.
func Fingerprint(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("token\x00" + token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (ss sessions) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, ss.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (ss sessions) encode(s session) string {
	raw, _ := json.Marshal(s)
	body := base64.RawURLEncoding.EncodeToString(raw)
	return body + "." + base64.RawURLEncoding.EncodeToString(ss.mac("session", body))
}

// read returns the request's session; ok is false without a valid one.
func (ss sessions) read(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	body, sig, found := strings.Cut(c.Value, ".")
	if !found {
		return session{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, ss.mac("session", body)) {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	var s session
	if err != nil || json.Unmarshal(raw, &s) != nil || s.Nonce == "" {
		return session{}, false
	}
	if ss.now().Unix() >= s.Expires || s.Token == "" {
		return session{}, false
	}
	if ss.tokenLive != nil && !ss.tokenLive(s.Token, s.scope()) {
		return session{}, false // its token was rotated or removed
	}
	if ss.revocations != nil {
		revoked, err := ss.revocations.Revoked(r.Context(), s.Nonce)
		if err != nil {
			// Not knowing whether it was signed out, refuse it: the page
			// behind it needs Redis anyway.
			ss.log.Warn("console session not checked: the store of ended sessions does not answer", zap.Error(err))
			return session{}, false
		}
		if revoked {
			return session{}, false
		}
	}
	return s, true
}

func (ss sessions) start(w http.ResponseWriter, r *http.Request, scope admin.Scope, token string) {
	s := session{Seller: scope.Seller, Expires: ss.now().Add(sessionLife).Unix(), Nonce: nonce(), Token: Fingerprint(ss.key, token)}
	ss.set(w, r, sessionCookie, ss.encode(s))
}

// end signs the session out on every replica, then clears the cookie: a
// copy of the cookie, replayed, is refused too.
func (ss sessions) end(w http.ResponseWriter, r *http.Request, s session) error {
	ss.setCookie(w, r, &http.Cookie{Name: sessionCookie, Value: "", MaxAge: -1})
	if ss.revocations == nil {
		return nil
	}
	return ss.revocations.Revoke(r.Context(), s.Nonce, time.Unix(s.Expires, 0))
}

func (ss sessions) set(w http.ResponseWriter, r *http.Request, name, value string) {
	ss.setCookie(w, r, &http.Cookie{Name: name, Value: value})
}

func (ss sessions) setCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) {
	c.Path = "/console"
	c.HttpOnly = true
	c.SameSite = http.SameSiteStrictMode
	c.Secure = ss.secure(r)
	http.SetCookie(w, c)
}

// csrf is the token the session's forms carry.
func (ss sessions) csrf(s session) string {
	return base64.RawURLEncoding.EncodeToString(ss.mac("csrf", s.Nonce))
}

func (ss sessions) checkCSRF(s session, got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf(s))) == 1
}

// preSession gives the sign-in form its nonce, kept in a cookie, and the
// token the form carries.
func (ss sessions) preSession(w http.ResponseWriter, r *http.Request) string {
	n := ""
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 16 {
		n = c.Value
	} else {
		n = nonce()
		ss.set(w, r, preCookie, n)
	}
	return base64.RawURLEncoding.EncodeToString(ss.mac("signin", n))
}

func (ss sessions) checkPre(r *http.Request, got string) bool {
	c, err := r.Cookie(preCookie)
	if err != nil || got == "" {
		return false
	}
	want := base64.RawURLEncoding.EncodeToString(ss.mac("signin", c.Value))
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func nonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// isSecure tells whether the browser reached us over TLS, directly or
// through a proxy that says so.
func isSecure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
