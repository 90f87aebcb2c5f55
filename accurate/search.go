package accurate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Search reads the rows of a master-data list whose number or name holds
// q (any case), at most limit of them, with Accurate's filter.keywords. A
// server that ignores the filter lists everything, so each row is matched
// here again. More reports that rows beyond limit match too.
func (c *Client) Search(ctx context.Context, kind ListKind, q string, limit int) (rows []Entity, more bool, err error) {
	endpoint := string(kind) + "/list"
	fields, ok := listFields[kind]
	if !ok {
		return nil, false, &Error{Class: ClassValidation, Endpoint: endpoint, Err: fmt.Errorf("unknown list %q", kind)}
	}
	want := strings.ToLower(strings.TrimSpace(q))
	for page := 1; page <= maxListPages; page++ {
		v := url.Values{
			"fields":      {fields},
			"sp.page":     {strconv.Itoa(page)},
			"sp.pageSize": {strconv.Itoa(listPageSize)},
		}
		if want != "" {
			v.Set("filter.keywords.op", "CONTAIN")
			v.Set("filter.keywords.val", q)
		}
		a, err := c.call(ctx, endpoint, http.MethodGet, v, nil)
		if err != nil {
			return nil, false, err
		}
		got, err := decodeEntities(endpoint, a)
		if err != nil {
			return nil, false, fmt.Errorf("page %d: %w", page, err)
		}
		for _, e := range got {
			if want != "" && !strings.Contains(strings.ToLower(e.No), want) && !strings.Contains(strings.ToLower(e.Name), want) {
				continue
			}
			if len(rows) == limit {
				return rows, true, nil
			}
			rows = append(rows, e)
		}
		if !morePages(a, page, len(got), listPageSize) {
			return rows, false, nil
		}
	}
	return rows, true, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
