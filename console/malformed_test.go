package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestMalformedRequestsAreRefusedSayingWhatWasWrong: every malformed query
// string or path of /console and /admin is answered with a 4xx that names
// what was wrong, through the one map from errors to statuses, never a 5xx.
func TestMalformedRequestsAreRefusedSayingWhatWasWrong(t *testing.T) {
	s := newSite(t, adminToken)
	key := s.failedInvoice(73001, "SO-7301", storeMissing)
	b := s.browser()
	b.signIn(adminToken)
	csrf := csrfOf(t, b.get("/console/failed").body)

	pages := []struct {
		name   string
		path   string
		form   url.Values // a POST when set
		status int
		says   string
	}{
		{"a forged cursor on the failed page", "/console/failed?cursor=AAAA", nil, http.StatusBadRequest, "cursor"},
		{"a cursor that is not base64", "/console/failed?cursor=!!", nil, http.StatusBadRequest, "cursor"},
		{"a query string with a broken escape", "/console/failed?cursor=%zz", nil, http.StatusBadRequest, "query string"},
		{"a broken escape on the search page", "/console/search?order=SO%2", nil, http.StatusBadRequest, "query string"},
		{"an order number of 201 characters", "/console/search?order=" + strings.Repeat("A", 201), nil, http.StatusBadRequest, "order"},
		{"an event without a key", "/console/event", nil, http.StatusBadRequest, "key"},
		{"an unknown event", "/console/event?key=invoice.created%3A1", nil, http.StatusNotFound, "tidak ada"},
		{"an event of an unknown seller", "/console/event?seller=nope&key=" + url.QueryEscape(key), nil, http.StatusNotFound, "tidak ada"},
		{"the failed page of an unknown seller", "/console/failed?seller=nope", nil, http.StatusNotFound, "tidak ada"},
		{"a replay without a key", "/console/replay", url.Values{"csrf": {csrf}}, http.StatusBadRequest, "key"},
		{"a replay of an unknown seller's events", "/console/replay-failed", url.Values{"csrf": {csrf}, "seller": {"nope"}}, http.StatusBadRequest, "nope"},
	}
	for _, tc := range pages {
		t.Run(tc.name+" is a "+http.StatusText(tc.status)+" page", func(t *testing.T) {
			var a answer
			if tc.form != nil {
				a = b.post(tc.path, tc.form)
			} else {
				a = b.get(tc.path)
			}
			if a.status != tc.status || !strings.Contains(a.body, tc.says) {
				t.Errorf("%s = %d; want %d saying %q:\n%s", tc.path, a.status, tc.status, tc.says, a.body)
			}
		})
	}

	api := []struct {
		name, method, path string
		status             int
		says               string
	}{
		{"a forged cursor", http.MethodGet, "/admin/events?state=failed&cursor=AAAA", http.StatusBadRequest, "cursor"},
		{"a query string with a broken escape", http.MethodGet, "/admin/events?state=fail%zz", http.StatusBadRequest, "query string"},
		{"a limit that is no number", http.MethodGet, "/admin/events?limit=ten", http.StatusBadRequest, "limit"},
		{"an empty order number", http.MethodGet, "/admin/events?order=", http.StatusBadRequest, "order"},
		{"a key with a broken escape (refused by net/http itself)", http.MethodGet, "/admin/events/invoice.created%zz1", http.StatusBadRequest, "Bad Request"},
		{"an unknown seller's event", http.MethodGet, "/admin/sellers/nope/events/" + key, http.StatusNotFound, "not found"},
		{"an event without a key", http.MethodGet, "/admin/sellers/default/events/", http.StatusNotFound, "not_found"},
		{"a replay of an unknown seller's failed events", http.MethodPost, "/admin/replay-failed?seller=nope", http.StatusBadRequest, "nope"},
		{"a replay-failed with a broken escape", http.MethodPost, "/admin/replay-failed?seller=%", http.StatusBadRequest, "query string"},
	}
	for _, tc := range api {
		t.Run("the API answers "+tc.name+" with "+http.StatusText(tc.status), func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.url+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			// As sent, even where Go's own URL parser would refuse it.
			path, query, _ := strings.Cut(tc.path, "?")
			req.URL.Opaque, req.URL.RawQuery = path, query
			req.Header.Set("Authorization", "Bearer "+adminToken)
			a := b.do(req)
			if a.status != tc.status || !strings.Contains(a.body, tc.says) {
				t.Errorf("%s %s = %d %s; want %d saying %q", tc.method, tc.path, a.status, a.body, tc.status, tc.says)
			}
		})
	}
}
