package handler

import (
	"net/http"
	"strings"
)

// Public serves, of h, what may face the internet when operators have a
// port of their own (ADMIN_LISTEN_ADDR): the webhooks and the probes. Every
// other path is 404, so /admin, /console and /metrics are not there at all.
func Public(h http.Handler) http.Handler {
	return only(h, func(p string) bool {
		return p == "/webhooks/forstok" || strings.HasPrefix(p, "/webhooks/forstok/") || p == "/healthz" || p == "/readyz"
	})
}

// Private serves, of h, the operators' routes (/admin, /console, /metrics)
// and the probes: the port for operators and Prometheus, never for Forstok.
func Private(h http.Handler) http.Handler {
	return only(h, func(p string) bool {
		return p == "/admin" || strings.HasPrefix(p, "/admin/") || p == "/console" || strings.HasPrefix(p, "/console/") ||
			p == "/metrics" || p == "/healthz" || p == "/readyz"
	})
}

// only answers 404 unless allowed says yes to the path, decoded and as
// sent: an escaped path must not reach a route its plain form may not.
func only(h http.Handler, allowed func(path string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed(r.URL.Path) || (r.URL.RawPath != "" && !allowed(r.URL.RawPath)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"Not Found","status":"error"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
