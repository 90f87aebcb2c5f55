package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// masterEntry is one row of a master-data list. Warehouses and branches are
// known by name only, as in Accurate.
type masterEntry struct {
	ID          int64  `json:"id"`
	No          string `json:"no,omitempty"`
	CustomerNo  string `json:"customerNo,omitempty"` // customer only: Accurate's name for its number
	Name        string `json:"name"`
	AccountType string `json:"accountType,omitempty"` // glaccount only
	ItemType    string `json:"itemType,omitempty"`    // item only
}

// masterRows is the seed, and what was created since, as one kind's list,
// with the names and types Accurate shows beside the numbers.
func (s *Server) masterRows(kind string) []masterEntry {
	var rows []masterEntry
	add := func(e masterEntry) {
		e.ID = int64(len(rows) + 1)
		rows = append(rows, e)
	}
	named := func(no string) string {
		if n := s.seed.Names[no]; n != "" {
			return n
		}
		return no
	}
	switch kind {
	case "glaccount":
		for _, no := range s.seed.Banks {
			add(masterEntry{No: no, Name: named(no), AccountType: "CASH_BANK"})
		}
		for _, no := range s.seed.Accounts {
			add(masterEntry{No: no, Name: named(no), AccountType: s.accountTypeOf(no)})
		}
	case "customer":
		for _, no := range s.seed.Customers {
			add(masterEntry{No: no, CustomerNo: no, Name: named(no)})
		}
		s.mu.Lock()
		for _, c := range s.createdCustomers {
			add(masterEntry{No: c.CustomerNo, CustomerNo: c.CustomerNo, Name: c.Name})
		}
		s.mu.Unlock()
	case "item":
		for _, no := range s.seed.Items {
			add(masterEntry{No: no, Name: named(no), ItemType: "INVENTORY"})
		}
		s.mu.Lock()
		for _, it := range s.createdItems {
			add(masterEntry{No: it.No, Name: it.Name, ItemType: it.ItemType})
		}
		s.mu.Unlock()
	case "warehouse":
		for _, name := range s.seed.Warehouses {
			add(masterEntry{Name: name})
		}
	case "branch":
		for _, name := range s.seed.Branches {
			add(masterEntry{Name: name})
		}
	}
	return rows
}

// accountTypeOf is the seed's type for an account, or the one Indonesian
// charts of accounts give its first digit.
func (s *Server) accountTypeOf(no string) string {
	if t := s.seed.AccountTypes[no]; t != "" {
		return t
	}
	switch {
	case strings.HasPrefix(no, "4"):
		return "REVENUE"
	case strings.HasPrefix(no, "5"):
		return "COGS"
	case strings.HasPrefix(no, "6"):
		return "EXPENSE"
	case strings.HasPrefix(no, "7"):
		return "OTHER_INCOME"
	case strings.HasPrefix(no, "8"):
		return "OTHER_EXPENSE"
	}
	return "OTHER_ASSET"
}

// masterList serves {kind}/list.do: filter.no (for customers also
// filter.customerNo, the field's own name), filter.name and filter.keywords
// (no or name containing the words), then paging.
func masterList(kind string) func(*Server, *http.Request) reply {
	return func(s *Server, r *http.Request) reply {
		byNo, err := filterOf(r, "filter.no")
		if err != nil {
			return refused(err.Error())
		}
		if kind == "customer" {
			byField, err := filterOf(r, "filter.customerNo")
			if err != nil {
				return refused(err.Error())
			}
			byNoOnly := byNo
			byNo = func(v string) bool { return byField(v) && byNoOnly(v) }
		}
		byName, err := filterOf(r, "filter.name")
		if err != nil {
			return refused(err.Error())
		}
		words := strings.ToLower(firstNonEmpty(formValue(r, "filter.keywords"), formValue(r, "filter.keywords.val")))
		if s.CurrentFaults().IgnoreNumberFilters {
			byNo = func(string) bool { return true }
		}
		var rows []masterEntry
		for _, e := range s.masterRows(kind) {
			if byNo(e.No) && byName(e.Name) &&
				(strings.Contains(strings.ToLower(e.No), words) || strings.Contains(strings.ToLower(e.Name), words)) {
				rows = append(rows, e)
			}
		}
		return paged(r, rows)
	}
}

// filterValues are the values of Accurate's filter on a field: name=v,
// or name.val=v (given once or more, or indexed as name.val[0], ...).
func filterValues(r *http.Request, name string) ([]string, error) {
	if err := r.ParseForm(); err != nil {
		//lint:ignore ST1005 Accurate's own words, capital and all
		return nil, fmt.Errorf("Parameter tidak valid: %w", err)
	}
	vals := slices.Concat(r.Form[name+".val"], r.Form[name])
	// Indexed values, val[0], val[1], ..., as Accurate's own samples send.
	for i := 0; ; i++ {
		v, ok := r.Form[fmt.Sprintf("%s.val[%d]", name, i)]
		if !ok {
			break
		}
		vals = append(vals, v...)
	}
	return vals, nil
}

// filterOf reads Accurate's filter on a field: name=v, or name.val=v (given
// once or more, or as name.val[0], name.val[1], ...: any of them) with name.op EQUAL (the default) or CONTAIN.
// No filter matches everything.
func filterOf(r *http.Request, name string) (func(string) bool, error) {
	vals, err := filterValues(r, name)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return func(string) bool { return true }, nil
	}
	switch op := strings.ToUpper(r.Form.Get(name + ".op")); op {
	case "", "EQUAL":
		return func(v string) bool {
			for _, want := range vals {
				if v == want {
					return true
				}
			}
			return false
		}, nil
	case "CONTAIN":
		return func(v string) bool {
			for _, want := range vals {
				if strings.Contains(strings.ToLower(v), strings.ToLower(want)) {
					return true
				}
			}
			return false
		}, nil
	default:
		//lint:ignore ST1005 Accurate's own words, capital and all
		return nil, fmt.Errorf("Operator %s.op %q tidak didukung", name, op)
	}
}

func formValue(r *http.Request, key string) string {
	_ = r.ParseForm() // a malformed form reads as empty
	return r.Form.Get(key)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// page is list.do's "sp": which page of how many.
type page struct {
	Page      int `json:"page"`
	PageSize  int `json:"pageSize"`
	PageCount int `json:"pageCount"`
	RowCount  int `json:"rowCount"`
}

const (
	defaultPageSize = 20
	maxPageSize     = 1000
)

// paged answers one page of rows, as sp.page and sp.pageSize ask.
func paged[T any](r *http.Request, rows []T) reply {
	size := positive(formValue(r, "sp.pageSize"), defaultPageSize)
	size = min(size, maxPageSize)
	n := positive(formValue(r, "sp.page"), 1)
	sp := &page{Page: n, PageSize: size, RowCount: len(rows), PageCount: (len(rows) + size - 1) / size}
	from := len(rows)
	if n-1 <= len(rows)/size { // also keeps (n-1)*size from overflowing
		from = min((n-1)*size, len(rows))
	}
	to := min(from+size, len(rows))
	d := rows[from:to]
	if d == nil {
		d = []T{} // Accurate lists nothing as [], not null
	}
	return reply{status: http.StatusOK, body: response{S: true, D: d, SP: sp}}
}

// positive parses a positive int, or gives def.
func positive(s string, def int) int {
	if v, err := strconv.Atoi(s); err == nil && v > 0 {
		return v
	}
	return def
}
