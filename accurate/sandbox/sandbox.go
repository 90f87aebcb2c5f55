// Package sandbox is a stand-in for Accurate Online: the API-token signature,
// host discovery, the calls the sync path makes (save, bulk-save, list,
// detail and delete of sales invoices and sales receipts; save, list and
// detail of sales returns; item and customer save), the master-data lists a mapping check
// reads, Accurate's validation messages, its 8 requests per second and 8 in
// flight, and injectable faults (latency, 5xx, lost responses, a moved host,
// a penerimaan detail that leaves out its fakturs).
// Documents live in memory. Tests, the demo and load tests run the service
// against it instead of the real thing.
//
// Choices where Accurate's documents leave room:
//   - X-Api-Timestamp in the dd/MM/yyyy HH:mm:ss form is read as WIB (UTC+7);
//     Unix milliseconds are unambiguous.
//   - The rate window is one second less 50 ms of slack for network jitter
//     (see rateSlack); only admitted requests count; limits are checked
//     before the signature, and host discovery counts against them.
//   - Refusals of the data are HTTP 200 with "s": false and every problem
//     found listed in "d", Indonesian text as Accurate's; detail.do of an
//     unknown document is the same, "... tidak ditemukan atau sudah dihapus".
//   - A receipt's paymentAmount (cash and discounts together) reduces the
//     faktur's primeOwing; at zero its status is "LUNAS".
//   - bulk-save.do reads JSON ({"data": [...]}, up to 100 records), not the
//     form encoding Accurate also takes; each record is validated and saved
//     as save.do would, and faults hit the request as a whole: a 5xx saves
//     none, a lost answer drops the answer of every record saved.
//   - list.do's filters take several values, as name.val=a&name.val=b or
//     name.val[0]=a&name.val[1]=b; pages hold up to 1000 rows.
//   - Routes under /sandbox/ (state, faults, reset) need no signature.
package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/internal/wait"
)

// Config sets up a Server. APIToken and SignatureSecret must be set: with
// either empty no request authenticates.
type Config struct {
	APIToken        string
	SignatureSecret string
	// DatabaseID is the id host discovery names; 0 is 1.
	DatabaseID int64
	Seed       Seed
	// RateLimit is the most requests admitted in any one second, across all
	// callers; 0 means unlimited. Accurate allows 8.
	RateLimit int
	// MaxConcurrency is the most requests in flight; 0 means unlimited.
	// Accurate allows 8.
	MaxConcurrency int
	// Faults are injected from the start; SetFaults changes them later and
	// Reset restores these.
	Faults Faults
	// Now is the clock for the signature's skew and the rate window; nil is
	// time.Now.
	Now func() time.Time
	// Rand decides which calls a fault hits; nil is a randomly seeded source.
	// Give a seeded one for reproducible fault injection.
	Rand *rand.Rand
}

// Server is the sandbox Accurate. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	token, secret string
	databaseID    int64
	seed          Seed
	known         known
	now           func() time.Time
	initialFaults Faults
	limiter       *limiter
	routes        map[string]endpoint

	mu       sync.Mutex
	faults   Faults
	rnd      *rand.Rand
	calls    map[string]int
	invoices []*StoredInvoice
	receipts []*StoredReceipt
	returns  []*StoredReturn
	byNumber struct {
		invoices map[string]*StoredInvoice
		receipts map[string]*StoredReceipt
		returns  map[string]*StoredReturn
	}
	lastID           struct{ invoice, receipt, ret int64 }
	createdItems     []accurate.Item
	createdCustomers []accurate.Customer
	closedThrough    accurate.Date
}

// known holds the seed as sets, for the validation of saves.
type known struct {
	customers, items, warehouses, accounts, banks, branches map[string]bool
}

func setOf(lists ...[]string) map[string]bool {
	m := make(map[string]bool)
	for _, l := range lists {
		for _, v := range l {
			m[v] = true
		}
	}
	return m
}

// New returns a sandbox holding cfg.Seed and no documents.
func New(cfg Config) *Server {
	now := cfg.Now
	now = defaults.Clock(now)
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	s := &Server{
		token:         cfg.APIToken,
		databaseID:    max(cfg.DatabaseID, 1),
		secret:        cfg.SignatureSecret,
		seed:          cfg.Seed.clone(),
		now:           now,
		initialFaults: cfg.Faults,
		limiter:       newLimiter(cfg.RateLimit, cfg.MaxConcurrency),
		routes:        endpoints(),
		rnd:           rnd,
	}
	s.resetLocked()
	return s
}

// Reset forgets every document, every item and customer created, the call
// counts and the rate window, and restores the faults given in Config. The
// seed stays.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.limiter.reset()
}

func (s *Server) resetLocked() {
	s.known = known{
		customers:  setOf(s.seed.Customers),
		items:      setOf(s.seed.Items),
		warehouses: setOf(s.seed.Warehouses),
		// A cash & bank account is a GL account too: a fee may be booked
		// to it and a mapping check finds it in glaccount/list.
		accounts: setOf(s.seed.Accounts, s.seed.Banks),
		banks:    setOf(s.seed.Banks),
		branches: setOf(s.seed.Branches),
	}
	s.faults = s.initialFaults
	s.calls = make(map[string]int)
	s.invoices = nil
	s.receipts = nil
	s.byNumber.invoices = make(map[string]*StoredInvoice)
	s.byNumber.receipts = make(map[string]*StoredReceipt)
	s.returns = nil
	s.byNumber.returns = make(map[string]*StoredReturn)
	s.lastID.invoice, s.lastID.receipt, s.lastID.ret = 0, 0, 0
	s.createdItems, s.createdCustomers = nil, nil
	s.closedThrough = accurate.Date{}
}

// SetFaults replaces the faults injected from the next request on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// CurrentFaults returns the faults being injected.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Calls counts the requests served, by endpoint ("api-token",
// "sales-invoice/save", "sales-receipt/list", "customer/list", ...), and the
// requests turned away, by outcome: "rate_limited" (any 429, split further
// into "rate_limited_window" and "rate_limited_concurrency"),
// "unauthorized", "fault_5xx", "moved", "not_found", "method_not_allowed";
// "lost" counts saves carried out whose answer was dropped.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// Invoices returns the fakturs saved, in save order.
func (s *Server) Invoices() []StoredInvoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clones(s.invoices)
}

// Receipts returns the penerimaan saved, in save order.
func (s *Server) Receipts() []StoredReceipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clones(s.receipts)
}

// clones copies stored documents, so that what a test holds never changes
// under it.
func clones[T any, P interface{ clone() T }](docs []P) []T {
	out := make([]T, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.clone())
	}
	return out
}

func (s *Server) count(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.calls[k]++
	}
}

// roll reports whether a call falls in a share p of all calls.
func (s *Server) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rnd.Float64() < p
}

// endpoint is one Accurate call the sandbox answers.
type endpoint struct {
	key     string   // what Calls counts it as
	data    bool     // a data call (faults apply), not host discovery
	methods []string // the methods it accepts
	serve   func(*Server, *http.Request) reply
}

// reply is an endpoint's answer, written by ServeHTTP unless a fault drops it.
type reply struct {
	status int
	body   any
	saved  bool // a document was saved: a lost-response fault may apply
}

// endpoints is the routing table, by path.
func endpoints() map[string]endpoint {
	getOrPost := []string{http.MethodGet, http.MethodPost}
	postOnly := []string{http.MethodPost}
	deleteOnly := []string{http.MethodDelete}
	eps := map[string]endpoint{
		"/api/api-token.do":                     {key: "api-token", methods: getOrPost, serve: (*Server).apiToken},
		"/accurate/api/sales-invoice/save.do":   {key: "sales-invoice/save", methods: postOnly, serve: (*Server).saveInvoice},
		"/accurate/api/sales-invoice/list.do":   {key: "sales-invoice/list", methods: getOrPost, serve: (*Server).listInvoices},
		"/accurate/api/sales-invoice/detail.do": {key: "sales-invoice/detail", methods: getOrPost, serve: (*Server).invoiceDetail},
		"/accurate/api/sales-receipt/save.do":   {key: "sales-receipt/save", methods: postOnly, serve: (*Server).saveReceipt},
		"/accurate/api/sales-receipt/list.do":   {key: "sales-receipt/list", methods: getOrPost, serve: (*Server).listReceipts},
		"/accurate/api/sales-receipt/detail.do": {key: "sales-receipt/detail", methods: getOrPost, serve: (*Server).receiptDetail},
		"/accurate/api/sales-invoice/delete.do": {key: "sales-invoice/delete", methods: deleteOnly, serve: (*Server).deleteInvoice},
		"/accurate/api/sales-receipt/delete.do": {key: "sales-receipt/delete", methods: deleteOnly, serve: (*Server).deleteReceipt},
		"/accurate/api/sales-return/save.do":    {key: "sales-return/save", methods: postOnly, serve: (*Server).saveReturn},
		"/accurate/api/sales-return/list.do":    {key: "sales-return/list", methods: getOrPost, serve: (*Server).listReturns},
		"/accurate/api/sales-return/detail.do":  {key: "sales-return/detail", methods: getOrPost, serve: (*Server).returnDetail},
		"/accurate/api/item/save.do":            {key: "item/save", methods: postOnly, serve: (*Server).saveItem},
		"/accurate/api/customer/save.do":        {key: "customer/save", methods: postOnly, serve: (*Server).saveCustomer},
	}
	// bulk-save.do takes up to MaxBulkRecords of what save.do takes, each
	// answered on its own; the whole request counts once against the limits.
	for kind, st := range map[string]store{
		"sales-invoice": (*Server).storeInvoice,
		"sales-receipt": (*Server).storeReceipt,
		"sales-return":  (*Server).storeReturn,
	} {
		eps["/accurate/api/"+kind+"/bulk-save.do"] = endpoint{key: kind + "/bulk-save", methods: postOnly, serve: bulkSave(st)}
	}
	// The master-data lists a mapping check may read.
	for _, kind := range []string{"glaccount", "customer", "item", "warehouse", "branch"} {
		eps["/accurate/api/"+kind+"/list.do"] = endpoint{key: kind + "/list", methods: getOrPost, serve: masterList(kind)}
	}
	for p, ep := range eps {
		ep.data = p != "/api/api-token.do"
		eps[p] = ep
	}
	return eps
}

// ServeHTTP answers like Accurate: limits first, then the API-token
// signature, then the injected faults, then the call itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/sandbox/") {
		s.serveInspection(w, r)
		return
	}
	ep, ok := s.routes[r.URL.Path]
	if !ok {
		s.count("not_found")
		writeJSON(w, http.StatusNotFound, failure(fmt.Sprintf("Alamat %q tidak dikenal", r.URL.Path)))
		return
	}

	release, why := s.limiter.admit(s.now())
	if why != "" {
		s.count("rate_limited", "rate_limited_"+why)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, failure(s.limiter.message(why)))
		return
	}
	defer release()

	if err := s.authenticate(r.Header); err != nil {
		s.count("unauthorized")
		writeJSON(w, http.StatusUnauthorized, response{
			D: []string{err.description}, Error: err.code, ErrorDescription: err.description,
		})
		return
	}
	if !slices.Contains(ep.methods, r.Method) {
		s.count("method_not_allowed")
		w.Header().Set("Allow", strings.Join(ep.methods, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, failure("Metode "+r.Method+" tidak didukung"))
		return
	}

	f := s.CurrentFaults()
	if ep.data {
		if !sleep(r, f.Latency) {
			return // the caller gave up; nobody is listening
		}
		if f.MoveHostTo != "" {
			s.count("moved")
			w.Header().Set("Location", strings.TrimRight(f.MoveHostTo, "/")+r.URL.RequestURI())
			writeJSON(w, http.StatusPermanentRedirect, failure("Database dipindahkan ke "+f.MoveHostTo))
			return
		}
		if s.roll(f.ErrorRate) {
			s.count("fault_5xx")
			status := s.pick5xx()
			writeJSON(w, status, failure(http.StatusText(status)))
			return
		}
	}

	s.count(ep.key)
	rep := ep.serve(s, r)
	if rep.saved && s.roll(f.LoseRate) {
		s.count("lost")
		dropConnection(w)
		return
	}
	writeJSON(w, rep.status, rep.body)
}

func (s *Server) pick5xx() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[s.rnd.IntN(3)]
}

// sleep waits d unless the request is cancelled first; it reports whether
// the wait ran its course.
func sleep(r *http.Request, d time.Duration) bool {
	return d <= 0 || wait.Sleep(r.Context(), d) == nil
}

// dropConnection closes the connection without a word, as a network failure
// after the request was processed would. The caller cannot tell whether the
// save happened.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot be hijacked; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// apiToken is host discovery: the database's host is this server, or the
// host it moved to.
func (s *Server) apiToken(r *http.Request) reply {
	host := strings.TrimRight(s.CurrentFaults().MoveHostTo, "/")
	if host == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		host = scheme + "://" + r.Host
	}
	db := map[string]any{"id": s.databaseID, "alias": "Accurate Sandbox", "host": host}
	return ok(map[string]any{"database": db, "data usaha": db})
}

// response is Accurate's envelope.
type response struct {
	S  bool  `json:"s"`
	D  any   `json:"d"`
	R  any   `json:"r,omitempty"`
	SP *page `json:"sp,omitempty"`
	// Error and ErrorDescription are set on 401, as Accurate's OAuth layer
	// answers.
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
}

func failure(msgs ...string) response { return response{D: msgs} }

func ok(d any) reply { return reply{status: http.StatusOK, body: response{S: true, D: d}} }

// refused is a validation failure: HTTP 200 with "s": false, as Accurate.
func refused(msgs ...string) reply { return reply{status: http.StatusOK, body: failure(msgs...)} }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status is written; an encoding error can only be a broken
	// connection, which no one is left to hear about.
	_ = json.NewEncoder(w).Encode(body)
}
