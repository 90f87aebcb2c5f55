package sandbox

import (
	"crypto/subtle"
	"net/http"
	"sort"
	"strings"
)

// Multi is several Accurate databases behind one address, as Accurate's own
// hosts serve many: each request goes to the database whose API token it
// carries, and each database has its own documents, limits and faults. Host
// discovery answers this address for every token. Tests and the demo run two
// sellers side by side on it.
//
// The sandbox's own routes of one database are under
// /sandbox/db/<name>/ (state, faults, reset); GET /sandbox/databases lists
// the names.
type Multi struct {
	names []string
	dbs   map[string]*Server
}

// NewMulti builds one database per entry of dbs, by name. Each Config must
// have its own APIToken: the token is how a request finds its database.
// Discovery names each by its DatabaseID, by default 1, 2, ... in the
// order of the names.
func NewMulti(dbs map[string]Config) *Multi {
	m := &Multi{dbs: make(map[string]*Server, len(dbs))}
	for name := range dbs {
		m.names = append(m.names, name)
	}
	sort.Strings(m.names)
	for i, name := range m.names {
		cfg := dbs[name]
		if cfg.DatabaseID == 0 {
			cfg.DatabaseID = int64(i + 1) // each its own, unless told otherwise
		}
		m.dbs[name] = New(cfg)
	}
	return m
}

// Database is the database called name; nil when there is none.
func (m *Multi) Database(name string) *Server { return m.dbs[name] }

// Names lists the databases, in order.
func (m *Multi) Names() []string { return append([]string(nil), m.names...) }

// byToken finds the database whose token the request carries, comparing
// every token in constant time.
func (m *Multi) byToken(r *http.Request) *Server {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil
	}
	var found *Server
	for _, name := range m.names {
		s := m.dbs[name]
		if s.token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) == 1 {
			found = s
		}
	}
	return found
}

// ServeHTTP routes a request to its database.
func (m *Multi) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/sandbox/"); ok {
		m.serveInspection(w, r, rest)
		return
	}
	s := m.byToken(r)
	if s == nil {
		const msg = "API Token tidak valid atau sudah dicabut"
		writeJSON(w, http.StatusUnauthorized, response{D: []string{msg}, Error: "invalid_token", ErrorDescription: msg})
		return
	}
	s.ServeHTTP(w, r)
}

func (m *Multi) serveInspection(w http.ResponseWriter, r *http.Request, rest string) {
	if rest == "databases" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string][]string{"databases": m.names})
		return
	}
	name, route, ok := strings.Cut(strings.TrimPrefix(rest, "db/"), "/")
	s := m.dbs[name]
	if !strings.HasPrefix(rest, "db/") || !ok || s == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown sandbox route: with several databases, use /sandbox/db/<name>/state, /faults or /reset (GET /sandbox/databases lists the names)"})
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/sandbox/" + route
	s.serveInspection(w, r2)
}
