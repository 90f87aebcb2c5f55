package handler

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/console"
	"forstok-accurate-sync/edge"
)

// check authenticates token for the client of r, within the limit of
// failed authentications: wait is above zero while the client (or everyone
// together) has failed too often, and then the token is not even looked
// at. Every failure is counted and logged once with the client's address.
func (a *api) check(r *http.Request, token, what string) (scope admin.Scope, wait time.Duration, ok bool) {
	client := a.clientAddr(r)
	if a.Guard != nil {
		w, err := a.Guard.Blocked(r.Context(), client)
		if err != nil {
			// Redis is away: the admin operations fail on their own; a
			// sign-in's check goes on unlimited rather than lock everyone out.
			a.Logger.Warn("failed authentications not counted: the store does not answer", zap.Error(err))
		}
		if w > 0 {
			a.Logger.Warn("authentication refused: too many failures", zap.String("client", edge.Cut(client)),
				zap.String("what", what), zap.Duration("retry_after", w))
			return admin.Scope{}, w, false
		}
	}
	if scope, ok = a.authenticate(token); ok {
		return scope, 0, true
	}
	a.Logger.Warn("authentication failed", zap.String("client", edge.Cut(client)), zap.String("what", what),
		zap.String("path", edge.Cut(r.URL.Path)), zap.Bool("token_sent", token != ""))
	if a.Guard != nil {
		if err := a.Guard.Failed(r.Context(), client); err != nil {
			a.Logger.Warn("failed authentication not counted: the store does not answer", zap.Error(err))
		}
	}
	return admin.Scope{}, 0, false
}

// signIn is the console's sign-in check.
func (a *api) signIn(r *http.Request, token string) (admin.Scope, time.Duration, bool) {
	return a.check(r, token, "console sign-in")
}

// authenticate tells what a token sees: ADMIN_TOKEN every seller, a
// seller's own admin token that seller only. The console signs in with it
// too, so both apply the same scope.
func (a *api) authenticate(token string) (admin.Scope, bool) {
	if token == "" {
		return admin.Scope{}, false
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.AdminToken)) == 1 {
		return admin.All, true
	}
	if a.SellerToken != nil {
		if seller, ok := a.SellerToken(token); ok {
			return admin.Scope{Seller: seller}, true
		}
	}
	return admin.Scope{}, false
}

// tokenLive tells whether a console session's token (by its fingerprint)
// still opens the session's scope: ADMIN_TOKEN for every seller, or the
// seller's own token as it is now.
func (a *api) tokenLive(fingerprint string, scope admin.Scope) bool {
	key := console.SessionKey(a.AdminToken)
	if scope.Seller == "" {
		return subtle.ConstantTimeCompare([]byte(fingerprint), []byte(console.Fingerprint(key, a.AdminToken))) == 1
	}
	if a.SellerTokens == nil {
		return true
	}
	for token, seller := range a.SellerTokens() {
		if seller == scope.Seller && subtle.ConstantTimeCompare([]byte(fingerprint), []byte(console.Fingerprint(key, token))) == 1 {
			return true
		}
	}
	return false
}

// clientAddr is the address of the request's client: the connection's,
// unless that is a trusted proxy, when it is the nearest address in
// X-Forwarded-For that is not one of the trusted proxies.
func (a *api) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !a.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing before it
		}
		if !a.trusted(hop) {
			return hop.Unmap().String()
		}
	}
	return host
}

func (a *api) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
