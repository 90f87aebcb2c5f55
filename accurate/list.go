package accurate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// ListKind is a master-data list a mapping refers to.
type ListKind string

const (
	ListGLAccounts ListKind = "glaccount"
	ListCustomers  ListKind = "customer"
	ListItems      ListKind = "item"
	ListWarehouses ListKind = "warehouse"
	ListBranches   ListKind = "branch"
)

// listFields are what each list.do is asked for: customers carry their
// number as customerNo, warehouses and branches are known by name only.
var listFields = map[ListKind]string{
	ListGLAccounts: "id,no,name,accountType",
	ListCustomers:  "id,customerNo,name",
	ListItems:      "id,no,name,itemType",
	ListWarehouses: "id,name",
	ListBranches:   "id,name",
}

const (
	listPageSize = 100
	maxListPages = 1000 // 100,000 rows: far beyond any real database, stops a server that never ends
)

// Entity is one row of a master-data list. No is empty for warehouses and
// branches.
type Entity struct {
	ID   int64  `json:"id"`
	No   string `json:"no"`
	Name string `json:"name"`
	// Type is an account's accountType or an item's itemType.
	Type string `json:"type,omitempty"`
}

// List reads every row of a master-data list ({kind}/list.do), page by
// page, for checking a mapping against the database.
func (c *Client) List(ctx context.Context, kind ListKind) ([]Entity, error) {
	endpoint := string(kind) + "/list"
	fields, ok := listFields[kind]
	if !ok {
		return nil, &Error{Class: ClassValidation, Endpoint: endpoint, Err: fmt.Errorf("unknown list %q", kind)}
	}
	var out []Entity
	for page := 1; page <= maxListPages; page++ {
		q := url.Values{
			"fields":      {fields},
			"sp.page":     {strconv.Itoa(page)},
			"sp.pageSize": {strconv.Itoa(listPageSize)},
		}
		a, err := c.call(ctx, endpoint, http.MethodGet, q, nil)
		if err != nil {
			return nil, err
		}
		rows, err := decodeEntities(endpoint, a)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		out = append(out, rows...)
		if !morePages(a, page, len(rows), listPageSize) {
			return out, nil
		}
	}
	return nil, &Error{Class: ClassTransient, Endpoint: endpoint, Err: fmt.Errorf("more than %d pages", maxListPages)}
}

// decodeEntities reads the rows of a list.do answer; a customer's number
// comes as customerNo.
func decodeEntities(endpoint string, a *answer) ([]Entity, error) {
	var rows []struct {
		Entity
		CustomerNo  string `json:"customerNo"`
		AccountType string `json:"accountType"`
		ItemType    string `json:"itemType"`
	}
	if len(a.D) > 0 && string(a.D) != "null" {
		if err := json.Unmarshal(a.D, &rows); err != nil {
			return nil, &Error{Class: ClassTransient, Endpoint: endpoint, Status: http.StatusOK, Err: fmt.Errorf("reading the list: %w", err)}
		}
	}
	out := make([]Entity, 0, len(rows))
	for _, r := range rows {
		e := r.Entity
		if e.No == "" {
			e.No = r.CustomerNo
		}
		e.Type = firstOf(r.AccountType, r.ItemType)
		out = append(out, e)
	}
	return out, nil
}

// numberFilters is the list.do filter on each master-data list's number:
// Accurate filters by the field's own name, and customers carry theirs as
// customerNo.
var numberFilters = map[ListKind]string{
	ListGLAccounts: "filter.no",
	ListCustomers:  "filter.customerNo",
	ListItems:      "filter.no",
}

// KnownNumbers reports which of numbers a master-data list (items,
// customers, GL accounts) holds, asking list.do for up to listPageSize of
// them at a time (one call for a faktur's items), rather than reading the
// whole list as List does. Accurate ignores a filter it does not know
// instead of refusing it, so each returned row's number is matched exactly
// against what was asked, and the following pages are read while the answer
// says there are more and a number asked is still not found.
func (c *Client) KnownNumbers(ctx context.Context, kind ListKind, numbers []string) (map[string]bool, error) {
	endpoint := string(kind) + "/list"
	filter, ok := numberFilters[kind]
	if !ok {
		return nil, &Error{Class: ClassValidation, Endpoint: endpoint, Err: fmt.Errorf("%q is not a numbered list", kind)}
	}
	found := make(map[string]bool, len(numbers))
	for chunk := range slices.Chunk(numbers, listPageSize) {
		q := url.Values{
			"fields":       {listFields[kind]},
			"sp.pageSize":  {strconv.Itoa(listPageSize)},
			filter + ".op": {"EQUAL"},
		}
		for i, n := range chunk {
			q.Set(fmt.Sprintf("%s.val[%d]", filter, i), n)
		}
		if err := c.readKnown(ctx, endpoint, q, chunk, found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// readKnown reads the pages of one filtered list.do into found, until every
// number of chunk is found or the pages end.
func (c *Client) readKnown(ctx context.Context, endpoint string, q url.Values, chunk []string, found map[string]bool) error {
	for page := 1; page <= maxListPages; page++ {
		q.Set("sp.page", strconv.Itoa(page))
		a, err := c.call(ctx, endpoint, http.MethodGet, q, nil)
		if err != nil {
			return err
		}
		rows, err := decodeEntities(endpoint, a)
		if err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		for _, e := range rows {
			if slices.Contains(chunk, e.No) {
				found[e.No] = true
			}
		}
		if !slices.ContainsFunc(chunk, func(n string) bool { return !found[n] }) || !morePages(a, page, len(rows), listPageSize) {
			return nil
		}
	}
	return &Error{Class: ClassTransient, Endpoint: endpoint, Err: fmt.Errorf("more than %d pages", maxListPages)}
}

// morePages tells whether a list.do page is followed by another: "sp"
// says so, and without it a full page is the only hint.
func morePages(a *answer, page, rows, size int) bool {
	if rows == 0 {
		return false
	}
	if a.SP != nil {
		return page < a.SP.PageCount
	}
	return rows == size
}
