package reconcile

import (
	"encoding/csv"
	"fmt"
	"io"

	"forstok-accurate-sync/money"
)

// Rupiah writes an amount as a rupiah string with two decimals
// ("142000.00"), as the report's JSON and CSV carry amounts.
func Rupiah(a money.Amount) string {
	v, sign := int64(a), ""
	if v < 0 {
		v, sign = -v, "-"
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func optRupiah(a *money.Amount) string {
	if a == nil {
		return ""
	}
	return Rupiah(*a)
}

// SideView is a side as the report's JSON shows it.
type SideView struct {
	Invoices     int    `json:"invoices"`
	InvoiceTotal string `json:"invoice_total"`
	Payouts      int    `json:"payouts"`
	Cash         string `json:"cash"`
	Returns      int    `json:"returns"`
	ReturnTotal  string `json:"return_total"`
}

// View is the side's JSON form.
func (s Side) View() SideView {
	return SideView{s.Invoices, Rupiah(s.InvoiceTotal), s.Payouts, Rupiah(s.Cash), s.Returns, Rupiah(s.ReturnTotal)}
}

// DifferenceView is a difference as the report's JSON shows it.
type DifferenceView struct {
	Kind           string `json:"kind"`
	Number         string `json:"number"`
	Store          string `json:"store"`
	Date           string `json:"date"`
	ForstokAmount  string `json:"forstok_amount"`
	AccurateAmount string `json:"accurate_amount"`
	// Difference is Accurate's amount less the service's, where both hold one.
	Difference  string `json:"difference,omitempty"`
	Event       string `json:"event"`
	State       string `json:"state"`
	FailureKind string `json:"failure_kind,omitempty"`
	VoidedBy    string `json:"voided_by,omitempty"`
}

// View is the difference's JSON form.
func (d Difference) View() DifferenceView {
	v := DifferenceView{Kind: d.Kind, Number: d.Number, Store: d.Store, Date: d.Date,
		ForstokAmount: optRupiah(d.Forstok), AccurateAmount: optRupiah(d.Accurate), Event: d.Event, State: d.State,
		FailureKind: d.FailureKind, VoidedBy: d.Voided}
	if d.Forstok != nil && d.Accurate != nil {
		v.Difference = Rupiah(*d.Accurate - *d.Forstok)
	}
	return v
}

// DayView is a day as the report's JSON shows it.
type DayView struct {
	Date           string           `json:"date"`
	Store          string           `json:"store"`
	Clean          bool             `json:"clean"`
	AccurateUnread bool             `json:"accurate_unread,omitempty"`
	Forstok        SideView         `json:"forstok"`
	Accurate       SideView         `json:"accurate"`
	Differences    []DifferenceView `json:"differences"`
}

// ReportView is the report's JSON form.
type ReportView struct {
	Report
	Days []DayView `json:"days"`
}

// View is the report's JSON form: amounts as rupiah strings.
func (r Report) View() ReportView {
	out := ReportView{Report: r, Days: make([]DayView, 0, len(r.Days))}
	for _, d := range r.Days {
		dv := DayView{Date: d.Date, Store: d.Store, Clean: d.Clean(), AccurateUnread: d.Unread,
			Forstok: d.Forstok.View(), Accurate: d.Accurate.View(), Differences: make([]DifferenceView, 0, len(d.Differences))}
		for _, x := range d.Differences {
			dv.Differences = append(dv.Differences, x.View())
		}
		out.Days = append(out.Days, dv)
	}
	return out
}

// CSVHeader is the first row of the report's CSV.
var CSVHeader = []string{"date", "store", "kind", "number", "forstok_amount", "accurate_amount", "event", "state"}

// WriteCSV writes one row per difference, then one row per clean day
// (kind "ok", the day's invoice totals as its amounts); a day Accurate
// could not be read for is a row of kind "accurate_unread".
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{CSVHeader}
	for _, d := range r.Days {
		for _, x := range d.Differences {
			rows = append(rows, []string{x.Date, x.Store, x.Kind, x.Number, optRupiah(x.Forstok), optRupiah(x.Accurate), x.Event, x.State})
		}
	}
	for _, d := range r.Days {
		switch {
		case d.Unread:
			rows = append(rows, []string{d.Date, d.Store, "accurate_unread", "", Rupiah(d.Forstok.InvoiceTotal), "", "", ""})
		case d.Clean():
			rows = append(rows, []string{d.Date, d.Store, "ok", "", Rupiah(d.Forstok.InvoiceTotal), Rupiah(d.Accurate.InvoiceTotal), "", ""})
		}
	}
	for _, row := range rows {
		for i, v := range row {
			row[i] = safeCell(v)
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("writing the reconciliation CSV: %w", err)
	}
	return nil
}

// safeCell keeps a spreadsheet from reading an order number as a formula.
func safeCell(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '@') {
		return "'" + v
	}
	return v
}
