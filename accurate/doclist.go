package accurate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"forstok-accurate-sync/money"
)

// DocumentKind is a document list a reconciliation reads: its path in
// Accurate's API.
type DocumentKind string

// The document lists.
const (
	InvoiceDocuments DocumentKind = "sales-invoice"
	ReceiptDocuments DocumentKind = "sales-receipt"
	ReturnDocuments  DocumentKind = "sales-return"
)

// DocumentPageSize is the rows asked for in one list.do page: the most
// Accurate has been seen to give, so that a month of a large seller is tens
// of requests.
const DocumentPageSize = 1000

// documentFields are the columns asked for; a receipt's amount is its
// cash (chequeAmount), which some answers carry as totalAmount. The
// customer tells which store a document the service does not know is of;
// a server that does not give it leaves it empty.
var documentFields = map[DocumentKind]string{
	InvoiceDocuments: "id,number,transDate,totalAmount,customerNo",
	ReceiptDocuments: "id,number,transDate,totalAmount,chequeAmount,customerNo",
	ReturnDocuments:  "id,number,transDate,totalAmount,customerNo",
}

// DocumentRow is one document as a list.do page lists it.
type DocumentRow struct {
	ID        int64
	Number    string
	TransDate Date
	Total     money.Amount
	// CustomerNo is the document's customer, when the list names it.
	CustomerNo string
}

// EachDocument reads the documents of a kind dated from..to (both
// included), a page of up to DocumentPageSize rows at a time, and gives fn
// each page; fn's error stops the reading. It returns how many requests it
// made. Callers that must not hold up posting pass a context from
// Yielding.
func (c *Client) EachDocument(ctx context.Context, kind DocumentKind, from, to Date, fn func([]DocumentRow) error) (requests int, err error) {
	fields, ok := documentFields[kind]
	if !ok {
		return 0, &Error{Class: ClassValidation, Endpoint: string(kind) + "/list", Err: fmt.Errorf("unknown document list %q", kind)}
	}
	endpoint := string(kind) + "/list"
	for page := 1; page <= maxListPages; page++ {
		q := url.Values{
			"fields":                  {fields},
			"filter.transDate.op":     {"BETWEEN"},
			"filter.transDate.val[0]": {from.String()},
			"filter.transDate.val[1]": {to.String()},
			"sp.page":                 {strconv.Itoa(page)},
			"sp.pageSize":             {strconv.Itoa(DocumentPageSize)},
		}
		a, err := c.call(ctx, endpoint, http.MethodGet, q, nil)
		requests++
		if err != nil {
			return requests, err
		}
		rows, err := decodeDocuments(endpoint, a)
		if err != nil {
			return requests, fmt.Errorf("page %d: %w", page, err)
		}
		if err := fn(rows); err != nil {
			return requests, err
		}
		if !morePages(a, page, len(rows), DocumentPageSize) {
			return requests, nil
		}
	}
	return requests, &Error{Class: ClassTransient, Endpoint: endpoint, Err: fmt.Errorf("more than %d pages", maxListPages)}
}

func decodeDocuments(endpoint string, a *answer) ([]DocumentRow, error) {
	var rows []struct {
		ID           int64         `json:"id"`
		Number       string        `json:"number"`
		TransDate    Date          `json:"transDate"`
		TotalAmount  money.Amount  `json:"totalAmount"`
		ChequeAmount *money.Amount `json:"chequeAmount"`
		CustomerNo   string        `json:"customerNo"`
	}
	if len(a.D) > 0 && string(a.D) != "null" {
		if err := json.Unmarshal(a.D, &rows); err != nil {
			return nil, &Error{Class: ClassTransient, Endpoint: endpoint, Status: http.StatusOK, Err: fmt.Errorf("reading the list: %w", err)}
		}
	}
	out := make([]DocumentRow, len(rows))
	for i, r := range rows {
		out[i] = DocumentRow{ID: r.ID, Number: r.Number, TransDate: r.TransDate, Total: r.TotalAmount, CustomerNo: r.CustomerNo}
		if r.ChequeAmount != nil {
			out[i].Total = *r.ChequeAmount
		}
	}
	return out, nil
}

// yieldingKey marks a context whose calls give way to posting.
type yieldingKey struct{}

// Yielding marks ctx's calls as background reading (a reconciliation):
// before each request they wait while calls of this client that post
// wait for the limiter, up to MaxYield a request, so that documents
// waiting to post go first and the reading still advances.
func Yielding(ctx context.Context) context.Context {
	return context.WithValue(ctx, yieldingKey{}, true)
}

// MaxYield bounds how long one yielding request gives way.
const MaxYield = 5 * time.Second

// priority counts the calls of a client that do not yield and wait for
// the limiter right now.
type priority struct{ waiting atomic.Int64 }

// before is called ahead of the limiter: a yielding call waits for the
// others; a posting call is counted until it has its turn.
func (p *priority) before(ctx context.Context) (after func()) {
	if y, _ := ctx.Value(yieldingKey{}).(bool); y {
		deadline := time.Now().Add(MaxYield)
		for p.waiting.Load() > 0 && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return func() {}
			case <-time.After(20 * time.Millisecond):
			}
		}
		return func() {}
	}
	p.waiting.Add(1)
	return func() { p.waiting.Add(-1) }
}
