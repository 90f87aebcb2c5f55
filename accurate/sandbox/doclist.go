package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

// What the document lists (sales-invoice, sales-receipt, sales-return
// list.do) answer beyond a number look-up: a filter.transDate range, the
// fields asked for, and the documents an accountant changes by hand in
// Accurate, so that a reconciliation has something to find.

// documentFilter reads filter.number and filter.transDate together: a row
// is listed when both match.
func documentFilter(r *http.Request) (func(number string, date accurate.Date) bool, error) {
	byNumber, err := numberFilter(r)
	if err != nil {
		return nil, err
	}
	byDate, err := dateFilter(r)
	if err != nil {
		return nil, err
	}
	return func(number string, date accurate.Date) bool { return byNumber(number) && byDate(date) }, nil
}

// dateFilter reads filter.transDate: op EQUAL (the default), BETWEEN (two
// values, both days included), GREATER_EQUAL or LESS_EQUAL, values
// dd/MM/yyyy, indexed (val[0], val[1]) as Accurate's description shows.
func dateFilter(r *http.Request) (func(accurate.Date) bool, error) {
	const name = "filter.transDate"
	raw, err := filterValues(r, name)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return func(accurate.Date) bool { return true }, nil
	}
	days := make([]string, len(raw)) // yyyymmdd, compared as strings
	for i, v := range raw {
		d, err := accurate.ParseDate(v)
		if err != nil {
			//lint:ignore ST1005 Accurate's own words, capital and all
			return nil, fmt.Errorf("Format tanggal %q tidak valid, gunakan dd/MM/yyyy", v)
		}
		days[i] = sortable(d)
	}
	op := strings.ToUpper(r.Form.Get(name + ".op"))
	switch op {
	case "", "EQUAL":
		return func(d accurate.Date) bool { return slices.Contains(days, sortable(d)) }, nil
	case "BETWEEN":
		if len(days) != 2 {
			//lint:ignore ST1005 Accurate's own words, capital and all
			return nil, fmt.Errorf("Operator BETWEEN membutuhkan 2 nilai untuk %s", name)
		}
		lo, hi := min(days[0], days[1]), max(days[0], days[1])
		return func(d accurate.Date) bool { s := sortable(d); return s >= lo && s <= hi }, nil
	case "GREATER_EQUAL":
		return func(d accurate.Date) bool { return sortable(d) >= days[0] }, nil
	case "LESS_EQUAL":
		return func(d accurate.Date) bool { return sortable(d) <= days[0] }, nil
	default:
		//lint:ignore ST1005 Accurate's own words, capital and all
		return nil, fmt.Errorf("Operator %q tidak dikenal untuk %s", op, name)
	}
}

func sortable(d accurate.Date) string {
	return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day)
}

// listed answers one page of rows with only the fields asked for (all of
// them when "fields" is absent), as Accurate does.
func listed[T any](r *http.Request, rows []T) reply {
	rep := paged(r, rows)
	fields := strings.Split(formValue(r, "fields"), ",")
	if len(fields) == 1 && fields[0] == "" {
		return rep
	}
	body := rep.body.(response)
	b, err := json.Marshal(body.D)
	if err != nil {
		return refused(err.Error())
	}
	var all []map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return refused(err.Error())
	}
	out := make([]map[string]json.RawMessage, len(all))
	for i, row := range all {
		out[i] = map[string]json.RawMessage{}
		for _, f := range fields {
			if v, ok := row[strings.TrimSpace(f)]; ok {
				out[i][strings.TrimSpace(f)] = v
			}
		}
	}
	body.D = out
	rep.body = body
	return rep
}

// DocumentKind names a document list: "sales-invoice", "sales-receipt" or
// "sales-return", as in Accurate's paths.
type DocumentKind string

// The kinds of documents an accountant edits or deletes by hand.
const (
	KindInvoice DocumentKind = "sales-invoice"
	KindReceipt DocumentKind = "sales-receipt"
	KindReturn  DocumentKind = "sales-return"
)

// DeleteByHand removes a document as an accountant would in Accurate's own
// screens, with none of the API's refusals; it tells whether the document
// was there.
func (s *Server) DeleteByHand(kind DocumentKind, number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case KindInvoice:
		n := len(s.invoices)
		s.invoices = slices.DeleteFunc(s.invoices, func(d *StoredInvoice) bool { return d.Number == number })
		delete(s.byNumber.invoices, number)
		return len(s.invoices) < n
	case KindReceipt:
		n := len(s.receipts)
		s.receipts = slices.DeleteFunc(s.receipts, func(d *StoredReceipt) bool { return d.Number == number })
		delete(s.byNumber.receipts, number)
		return len(s.receipts) < n
	case KindReturn:
		n := len(s.returns)
		s.returns = slices.DeleteFunc(s.returns, func(d *StoredReturn) bool { return d.Number == number })
		delete(s.byNumber.returns, number)
		return len(s.returns) < n
	}
	return false
}

// EditByHand sets a document's total (a receipt's cash) as an accountant
// editing it in Accurate would; it tells whether the document was there.
func (s *Server) EditByHand(kind DocumentKind, number string, total money.Amount) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case KindInvoice:
		if d := s.byNumber.invoices[number]; d != nil {
			paid := d.TotalAmount - d.PrimeOwing
			d.TotalAmount, d.PrimeOwing = total, total-paid
			return true
		}
	case KindReceipt:
		if d := s.byNumber.receipts[number]; d != nil {
			d.ChequeAmount = total
			return true
		}
	case KindReturn:
		if d := s.byNumber.returns[number]; d != nil {
			d.TotalAmount = total
			return true
		}
	}
	return false
}

// serveByHand is POST /sandbox/documents/<kind>/<number>/delete and
// .../edit {"total":"142000.00"}: the demo's way to make a difference.
func (s *Server) serveByHand(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/sandbox/documents/")
	// An order number may hold "/": the kind is the first part, the action
	// the last, the number all between.
	parts := strings.Split(rest, "/")
	if r.Method != http.MethodPost || len(parts) < 3 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "use POST /sandbox/documents/<kind>/<number>/delete or /edit"})
		return
	}
	kind, number, action := DocumentKind(parts[0]), strings.Join(parts[1:len(parts)-1], "/"), parts[len(parts)-1]
	var found bool
	switch action {
	case "delete":
		found = s.DeleteByHand(kind, number)
	case "edit":
		var body struct {
			Total money.Amount `json:"total"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "total: " + err.Error()})
			return
		}
		found = s.EditByHand(kind, number, body.Total)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "action must be delete or edit"})
		return
	}
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": string(kind) + " " + number + " is not in the sandbox"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": kind, "number": number, action: true})
}
