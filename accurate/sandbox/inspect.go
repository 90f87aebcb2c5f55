package sandbox

import (
	"encoding/json"
	"forstok-accurate-sync/accurate"
	"io"
	"net/http"
	"strings"
)

// State is what GET /sandbox/state answers: everything saved, the call
// counts and the faults in force.
type State struct {
	Invoices  []StoredInvoice     `json:"invoices"`
	Receipts  []StoredReceipt     `json:"receipts"`
	Returns   []StoredReturn      `json:"returns"`
	Items     []accurate.Item     `json:"created_items"`
	Customers []accurate.Customer `json:"created_customers"`
	Calls     map[string]int      `json:"calls"`
	Faults    Faults              `json:"faults"`
	// PeakInFlight is the most data calls admitted at once since the start
	// or the last reset (never above the concurrency limit: the sandbox
	// refuses the next one, and counts it as rate_limited_concurrency).
	PeakInFlight int `json:"peak_in_flight"`
}

// State returns the sandbox's state at once.
func (s *Server) State() State {
	return State{Invoices: s.Invoices(), Receipts: s.Receipts(), Returns: s.Returns(),
		Items: s.CreatedItems(), Customers: s.CreatedCustomers(), Calls: s.Calls(), Faults: s.CurrentFaults(), PeakInFlight: s.limiter.peakHeld()}
}

// serveInspection answers the sandbox's own routes, which need no
// signature: they are for tests and operators, not part of Accurate's API.
//
//	GET  /sandbox/state   State
//	GET  /sandbox/faults  the faults in force
//	POST /sandbox/faults  replace them (a Faults JSON body)
//	POST /sandbox/reset   Reset
func (s *Server) serveInspection(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/sandbox/documents/") {
		s.serveByHand(w, r)
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /sandbox/state":
		writeJSON(w, http.StatusOK, s.State())
	case "GET /sandbox/faults":
		writeJSON(w, http.StatusOK, s.CurrentFaults())
	case "POST /sandbox/faults":
		var f Faults
		if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, f)
	case "POST /sandbox/reset":
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown sandbox route"})
	}
}
