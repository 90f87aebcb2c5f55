package accurate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// MaxBulk is the most records one bulk-save.do takes, and the most numbers
// Existing asks about in one list.do.
const MaxBulk = 100

// Kind is a kind of document, named as its API path names it.
type Kind string

const (
	KindSalesInvoice Kind = "sales-invoice" // faktur penjualan
	KindSalesReceipt Kind = "sales-receipt" // penerimaan penjualan
	KindSalesReturn  Kind = "sales-return"  // retur penjualan
)

// Record is one document for BulkSave: its number, known before it is sent,
// and the document as save.do takes it.
type Record struct {
	Number string
	Doc    any
}

// Outcome is how one record of a bulk-save.do ended.
type Outcome string

const (
	// OutcomeSaved: Accurate saved it; Doc is what it answered.
	OutcomeSaved Outcome = "saved"
	// OutcomeExists: the number was taken already ("Sudah ada data lain
	// dengan No ..."): the document is there, by an earlier attempt.
	OutcomeExists Outcome = "exists"
	// OutcomeRefused: Accurate refused the data; Err carries its messages
	// and the class (ClassNotFound or ClassValidation).
	OutcomeRefused Outcome = "refused"
	// OutcomeTransient: the record was turned away for a passing reason
	// (the rate limit); try it again.
	OutcomeTransient Outcome = "transient"
)

// BulkResult is one record's answer, in the order the records were sent.
type BulkResult struct {
	Number  string
	Outcome Outcome
	Doc     SavedDocument // OutcomeSaved: Accurate's "r"; otherwise only Number
	Err     *Error        // every outcome but OutcomeSaved
}

// Synced reports whether the document is in Accurate: saved now or before.
func (r BulkResult) Synced() bool { return r.Outcome == OutcomeSaved || r.Outcome == OutcomeExists }

// bulkEntry is one record's answer as bulk-save.do writes it.
type bulkEntry struct {
	S *bool           `json:"s"`
	D json.RawMessage `json:"d"`
	R json.RawMessage `json:"r"`
}

// BulkSave creates up to MaxBulk documents of one kind in one request
// ({kind}/bulk-save.do) and returns each record's outcome, in order.
//
// An error means no record has an answer: the request failed as a whole
// (rate limit, 5xx, timeout, lost answer, a refusal of the request itself).
// When IsAmbiguous(err), some records may have been saved: look their
// numbers up (Existing) before sending them again.
func (c *Client) BulkSave(ctx context.Context, kind Kind, records []Record) ([]BulkResult, error) {
	endpoint := string(kind) + "/bulk-save"
	switch {
	case len(records) == 0:
		return nil, nil
	case len(records) > MaxBulk:
		return nil, &Error{Class: ClassValidation, Endpoint: endpoint, Err: fmt.Errorf("%d records: at most %d per request", len(records), MaxBulk)}
	}
	docs := make([]any, len(records))
	for i, r := range records {
		if r.Doc == nil {
			return nil, &Error{Class: ClassValidation, Endpoint: endpoint, Err: fmt.Errorf("record %d (%s) has no document", i, r.Number)}
		}
		docs[i] = r.Doc
	}
	target, payload, err := c.prepare(ctx, endpoint, nil, map[string]any{"data": docs})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := c.follow(ctx, endpoint, http.MethodPost, target, payload, true)
	var out []BulkResult
	if err == nil {
		out, err = c.readBulk(endpoint, res, records)
	}
	c.report(endpoint, time.Since(start)-res.waited, err)
	return out, err
}

// readBulk reads a bulk-save.do answer: one entry per record. An answer
// that does not list every record is whole-call: a refusal of the request
// ("s": false with messages) or, when "s" was true, an unreadable answer
// after which some records may be saved.
func (c *Client) readBulk(endpoint string, res response, records []Record) ([]BulkResult, error) {
	var a answer
	var entries []bulkEntry
	perRecord := res.status == http.StatusOK &&
		json.Unmarshal(res.body, &a) == nil && a.S != nil &&
		json.Unmarshal(a.D, &entries) == nil && len(entries) == len(records)
	if perRecord {
		for _, e := range entries {
			perRecord = perRecord && e.S != nil
		}
	}
	if !perRecord {
		if _, err := c.interpret(endpoint, res); err != nil {
			return nil, err
		}
		return nil, &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Ambiguous: true,
			Err: fmt.Errorf("the answer does not list one result for each of the %d records", len(records))}
	}
	out := make([]BulkResult, len(records))
	for i, e := range entries {
		number := records[i].Number
		out[i] = c.bulkResult(endpoint, res.status, number, e)
	}
	return out, nil
}

func (c *Client) bulkResult(endpoint string, status int, number string, e bulkEntry) BulkResult {
	r := BulkResult{Number: number, Doc: SavedDocument{Number: number}}
	if *e.S {
		if len(e.R) > 0 && string(e.R) != "null" {
			var saved SavedDocument
			if err := json.Unmarshal(e.R, &saved); err != nil {
				// Saved, by "s", but unreadable: look the number up.
				r.Outcome = OutcomeTransient
				r.Err = &Error{Class: ClassTransient, Endpoint: endpoint, Status: status, Ambiguous: true,
					Err: fmt.Errorf("reading the saved record %s: %w", number, err)}
				return r
			}
			r.Doc = withNumber(saved, number)
		}
		r.Outcome = OutcomeSaved
		return r
	}
	msgs := c.messages(nil, e.D)
	r.Err = &Error{Class: classifyMessages(msgs), Endpoint: endpoint, Status: status, Messages: msgs,
		Err: fmt.Errorf(`the answer was "s": false for %s`, number)}
	switch r.Err.Class {
	case ClassDuplicate:
		r.Outcome = OutcomeExists
	case ClassRateLimited:
		r.Outcome = OutcomeTransient
	default:
		r.Outcome = OutcomeRefused
	}
	return r
}

// Existing tells which of numbers are documents of kind in Accurate, by
// one list.do per MaxBulk numbers (filter.number.val[0..n]), paged when the
// answer says there is more.
func (c *Client) Existing(ctx context.Context, kind Kind, numbers []string) (map[string]SavedDocument, error) {
	endpoint := string(kind) + "/list"
	found := make(map[string]SavedDocument, len(numbers))
	for from := 0; from < len(numbers); from += MaxBulk {
		chunk := numbers[from:min(from+MaxBulk, len(numbers))]
		want := make(map[string]bool, len(chunk))
		q := url.Values{
			"fields":           {"id,number,totalAmount"},
			"filter.number.op": {"EQUAL"},
			"sp.pageSize":      {strconv.Itoa(MaxBulk)},
		}
		for i, n := range chunk {
			if n == "" {
				return nil, &Error{Class: ClassValidation, Endpoint: endpoint, Err: errors.New("an empty number")}
			}
			q.Set(fmt.Sprintf("filter.number.val[%d]", i), n)
			want[n] = true
		}
		for page := 1; ; page++ {
			q.Set("sp.page", strconv.Itoa(page))
			a, err := c.call(ctx, endpoint, http.MethodGet, q, nil)
			if err != nil {
				return nil, err
			}
			var docs []SavedDocument
			if len(a.D) > 0 && string(a.D) != "null" {
				if err := json.Unmarshal(a.D, &docs); err != nil {
					return nil, &Error{Class: ClassTransient, Endpoint: endpoint, Status: http.StatusOK, Err: fmt.Errorf("reading the list: %w", err)}
				}
			}
			// Only the numbers asked about: a server ignoring the filter must
			// not pass off other documents as these.
			for _, d := range docs {
				if want[d.Number] {
					found[d.Number] = d
				}
			}
			if a.SP == nil || page >= a.SP.PageCount || len(docs) == 0 || page >= maxListPages {
				break
			}
		}
	}
	return found, nil
}

func withNumber(doc SavedDocument, number string) SavedDocument {
	if doc.Number == "" {
		doc.Number = number
	}
	return doc
}
