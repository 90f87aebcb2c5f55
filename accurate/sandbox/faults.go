package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Faults are the failures the sandbox injects into data calls (not into host
// discovery).
type Faults struct {
	// Latency is added to every data call, inside its concurrency slot.
	Latency time.Duration
	// ErrorRate is the share of data calls answered 500, 502 or 503 before
	// anything is done.
	ErrorRate float64
	// LoseRate is the share of successful saves whose document is stored and
	// whose connection is then closed without an answer.
	LoseRate float64
	// MoveHostTo, when set, answers every data call 308 to the same path and
	// query on this base URL, and host discovery names it.
	MoveHostTo string
	// ReceiptDetailWithoutInvoices answers sales-receipt/detail.do without
	// its detailInvoice, as an answer that does not say which fakturs a
	// penerimaan settles.
	ReceiptDetailWithoutInvoices bool
	// IgnoreNumberFilters answers the master-data list.do as Accurate does
	// a filter it does not know: filter.no and filter.customerNo are
	// ignored, every row comes back, page by page.
	IgnoreNumberFilters bool
}

// Validate reports a rate outside [0, 1], a negative latency or a host that
// is not an http(s) URL.
func (f Faults) Validate() error {
	var errs []error
	if f.Latency < 0 {
		errs = append(errs, fmt.Errorf("latency %s is negative", f.Latency))
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		errs = append(errs, fmt.Errorf("error_rate %v is not between 0 and 1", f.ErrorRate))
	}
	if f.LoseRate < 0 || f.LoseRate > 1 {
		errs = append(errs, fmt.Errorf("lose_rate %v is not between 0 and 1", f.LoseRate))
	}
	if f.MoveHostTo != "" && !strings.HasPrefix(f.MoveHostTo, "http://") && !strings.HasPrefix(f.MoveHostTo, "https://") {
		errs = append(errs, fmt.Errorf("move_host_to %q is not an http(s) URL", f.MoveHostTo))
	}
	return errors.Join(errs...)
}

// faultsJSON is Faults on the wire: the latency as a Go duration string
// ("150ms").
type faultsJSON struct {
	Latency    string  `json:"latency"`
	ErrorRate  float64 `json:"error_rate"`
	LoseRate   float64 `json:"lose_rate"`
	MoveHostTo string  `json:"move_host_to"`
	// Left out when false, so that the faults of before read the same.
	ReceiptDetailWithoutInvoices bool `json:"receipt_detail_without_invoices,omitempty"`
	IgnoreNumberFilters          bool `json:"ignore_number_filters,omitempty"`
}

// MarshalJSON writes {"latency":"150ms","error_rate":0.1,"lose_rate":0,
// "move_host_to":""}.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{f.Latency.String(), f.ErrorRate, f.LoseRate, f.MoveHostTo, f.ReceiptDetailWithoutInvoices, f.IgnoreNumberFilters})
}

// UnmarshalJSON reads what MarshalJSON writes; the keys may also be written
// in camelCase (errorRate, loseRate, moveHostTo). A key left out is zero; an
// unknown key is an error, so that a typo does not silently inject nothing.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	var out Faults
	for k, v := range raw {
		var err error
		switch strings.ToLower(strings.ReplaceAll(k, "_", "")) {
		case "latency":
			err = decodeDuration(v, &out.Latency)
		case "errorrate":
			err = json.Unmarshal(v, &out.ErrorRate)
		case "loserate":
			err = json.Unmarshal(v, &out.LoseRate)
		case "movehostto":
			err = json.Unmarshal(v, &out.MoveHostTo)
		case "receiptdetailwithoutinvoices":
			err = json.Unmarshal(v, &out.ReceiptDetailWithoutInvoices)
		case "ignorenumberfilters":
			err = json.Unmarshal(v, &out.IgnoreNumberFilters)
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return fmt.Errorf("faults: %s: %w", k, err)
		}
	}
	if err := out.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	*f = out
	return nil
}

func decodeDuration(b json.RawMessage, d *time.Duration) error {
	if bytes.Equal(b, []byte("null")) {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration string such as "150ms"`)
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
