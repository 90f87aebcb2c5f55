// Package reconcile compares, per seller, store and day, what the service
// accepted from Forstok with what Accurate holds now, and names every
// difference. It reads the service's side from the events' day book and
// Accurate's with paged list calls of a few days at a time, so that a
// month of a large seller is tens of requests and never all in memory.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// The kinds of difference.
const (
	NotSynced         = "not_synced"
	MissingInAccurate = "missing_in_accurate"
	AmountDiffers     = "amount_differs"
	VoidedButPresent  = "voided_but_present"
	UnknownInAccurate = "unknown_in_accurate"
)

// Kinds lists the kinds of difference, in the order a report shows them.
var Kinds = []string{NotSynced, MissingInAccurate, AmountDiffers, VoidedButPresent, UnknownInAccurate}

// MaxDays is the longest range one report covers.
const MaxDays = 92

// window is how many days of Accurate's documents one read covers: a week
// of a large seller (300 documents a day) is about three pages of a
// thousand rows per kind, and a week is what is held in memory at once.
const window = 7

// Days is the service's side: one day of a seller's day book.
type Days interface {
	Day(ctx context.Context, day string) ([]events.DayEntry, error)
}

// Documents is Accurate's side: a kind's documents of a date range, a page
// at a time.
type Documents interface {
	EachDocument(ctx context.Context, kind accurate.DocumentKind, from, to accurate.Date, fn func([]accurate.DocumentRow) error) (int, error)
}

// Seller is what a report of one seller reads.
type Seller struct {
	ID       string
	Settings *mapping.Settings
	Days     Days
	Accurate Documents
}

// Query is one report's range (days in the seller's time zone, both
// included) and, optionally, one store.
type Query struct {
	From, To time.Time // midnight of the days; only their dates count
	Store    string
}

// Side is one side's counts and totals of a day.
type Side struct {
	Invoices     int          `json:"invoices"`
	InvoiceTotal money.Amount `json:"-"`
	Payouts      int          `json:"payouts"`
	Cash         money.Amount `json:"-"`
	Returns      int          `json:"returns"`
	ReturnTotal  money.Amount `json:"-"`
}

// Difference is one document the two sides disagree on.
type Difference struct {
	Kind   string `json:"kind"`
	Number string `json:"number"`
	Store  string `json:"store"`
	Date   string `json:"date"`
	// Forstok and Accurate are the amounts each side holds; nil where a
	// side holds none (or the service could not work it out).
	Forstok  *money.Amount `json:"-"`
	Accurate *money.Amount `json:"-"`
	Event    string        `json:"event,omitempty"`
	State    string        `json:"state,omitempty"`
	// FailureKind is the failed event's failure.kind.
	FailureKind string `json:"failure_kind,omitempty"`
	// Voided is the invoice.voided event of a voided_but_present faktur.
	Voided string `json:"voided_by,omitempty"`
}

// Day is one store's day.
type Day struct {
	Date        string       `json:"date"`
	Store       string       `json:"store"`
	Forstok     Side         `json:"-"`
	Accurate    Side         `json:"-"`
	Differences []Difference `json:"differences"`
	// Unread is true when Accurate could not be read for the day: its
	// Accurate side is empty and nothing is called missing.
	Unread bool `json:"accurate_unread,omitempty"`
}

// Clean tells whether the day's two sides agree.
func (d Day) Clean() bool { return len(d.Differences) == 0 && !d.Unread }

// Unreadable says which side a report could not read, why, and when the
// service tries again.
type Unreadable struct {
	Side    string    `json:"side"` // "accurate" or "forstok"
	Error   string    `json:"error"`
	From    string    `json:"from"` // the days it covers
	To      string    `json:"to"`
	RetryAt time.Time `json:"retry_at"`
}

// Report is one seller's reconciliation of a range of days.
type Report struct {
	Seller      string    `json:"seller"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Store       string    `json:"store,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
	Days        []Day     `json:"days"`
	// Unreadable lists the parts of the range a side could not be read
	// for; their days say so rather than show differences.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
	// Requests is how many requests Accurate was asked.
	Requests int `json:"accurate_requests"`
}

// Differences counts the report's differences by kind.
func (r Report) Differences() map[string]int {
	out := map[string]int{}
	for _, d := range r.Days {
		for _, x := range d.Differences {
			out[x.Kind]++
		}
	}
	return out
}

// Config builds a Reconciler.
type Config struct {
	Now func() time.Time
	// RetryAfter is how long after a failed read of Accurate the daily run
	// tries again (and what the report says). Default 15 minutes.
	RetryAfter time.Duration
}

// Reconciler makes reports.
type Reconciler struct {
	now        func() time.Time
	retryAfter time.Duration
}

// New builds a Reconciler.
func New(cfg Config) *Reconciler {
	cfg.Now = defaults.Clock(cfg.Now)
	defaults.Positive(&cfg.RetryAfter, 15*time.Minute)
	return &Reconciler{now: cfg.Now, retryAfter: cfg.RetryAfter}
}

// ErrRange is a query whose range the report refuses.
var ErrRange = errors.New("range")

// Report compares the seller's days q.From..q.To. Accurate is read with
// yielding calls, behind the seller's posting. A side that cannot be read
// is named in Unreadable; the days of it are marked, never reported as
// missing.
func (r *Reconciler) Report(ctx context.Context, s Seller, q Query) (Report, error) {
	from, to := dateOnly(q.From), dateOnly(q.To)
	if to.Before(from) || to.Sub(from) >= MaxDays*24*time.Hour {
		return Report{}, fmt.Errorf("%w: %s..%s", ErrRange, from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	rep := Report{Seller: s.ID, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Store: q.Store,
		GeneratedAt: r.now().UTC(), Days: []Day{}}
	ctx = accurate.Yielding(ctx)
	for start := from; !start.After(to); start = start.AddDate(0, 0, window) {
		end := start.AddDate(0, 0, window-1)
		if end.After(to) {
			end = to
		}
		held, requests, err := readAccurate(ctx, s.Accurate, start, end)
		rep.Requests += requests
		if err != nil {
			if ctx.Err() != nil {
				return Report{}, ctx.Err()
			}
			rep.Unreadable = append(rep.Unreadable, r.unreadable("accurate", err, start, end))
			held = nil
		}
		for day := start; !day.After(end); day = day.AddDate(0, 0, 1) {
			key := day.Format(time.DateOnly)
			entries, err := s.Days.Day(ctx, key)
			if err != nil {
				rep.Unreadable = append(rep.Unreadable, r.unreadable("forstok", err, day, day))
				rep.Days = append(rep.Days, Day{Date: key, Store: q.Store, Unread: true, Differences: []Difference{}})
				continue
			}
			var byNumber map[docKey]accurate.DocumentRow
			if held != nil {
				byNumber = held[key]
			}
			rep.Days = append(rep.Days, compareDay(s.Settings, key, q.Store, entries, byNumber, held == nil)...)
		}
	}
	return rep, nil
}

func (r *Reconciler) unreadable(side string, err error, from, to time.Time) Unreadable {
	return Unreadable{Side: side, Error: err.Error(), From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		RetryAt: r.now().Add(r.retryAfter).UTC()}
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// docKey names a document within its day.
type docKey struct {
	kind   string // events.DocInvoice, DocPayout, DocReturn
	number string
}

var listOf = map[string]accurate.DocumentKind{
	events.DocInvoice: accurate.InvoiceDocuments,
	events.DocPayout:  accurate.ReceiptDocuments,
	events.DocReturn:  accurate.ReturnDocuments,
}

// readAccurate reads the three kinds of documents of from..to, by day.
func readAccurate(ctx context.Context, docs Documents, from, to time.Time) (map[string]map[docKey]accurate.DocumentRow, int, error) {
	held := map[string]map[docKey]accurate.DocumentRow{}
	total := 0
	for _, kind := range []string{events.DocInvoice, events.DocPayout, events.DocReturn} {
		n, err := docs.EachDocument(ctx, listOf[kind], accurate.DateOf(from, time.UTC), accurate.DateOf(to, time.UTC), func(rows []accurate.DocumentRow) error {
			for _, row := range rows {
				day := fmt.Sprintf("%04d-%02d-%02d", row.TransDate.Year, int(row.TransDate.Month), row.TransDate.Day)
				if held[day] == nil {
					held[day] = map[docKey]accurate.DocumentRow{}
				}
				held[day][docKey{kind, row.Number}] = row
			}
			return nil
		})
		total += n
		if err != nil {
			return nil, total, fmt.Errorf("reading %s/list.do: %w", listOf[kind], err)
		}
	}
	return held, total, nil
}

// compareDay is one day of every store (or of store alone): the service's
// lines against Accurate's documents.
func compareDay(m *mapping.Settings, day, store string, entries []events.DayEntry, held map[docKey]accurate.DocumentRow, unread bool) []Day {
	byStore := map[string]*Day{}
	dayOf := func(st string) *Day {
		if byStore[st] == nil {
			byStore[st] = &Day{Date: day, Store: st, Unread: unread, Differences: []Difference{}}
		}
		return byStore[st]
	}
	seen := map[docKey]bool{}
	for _, e := range entries {
		if store != "" && e.Store != store {
			continue
		}
		d := dayOf(e.Store)
		k := docKey{e.Kind, e.Number}
		seen[k] = true
		row, present := held[k]
		var acc *money.Amount
		if present {
			acc = amountPtr(row.Total)
			d.Accurate.add(e.Kind, row.Total)
		}
		diff := Difference{Number: e.Number, Store: e.Store, Date: day, Event: e.Key, State: e.State,
			FailureKind: e.FailureKind, Accurate: acc}
		if e.Known {
			diff.Forstok = amountPtr(money.Amount(e.TotalSen))
		}
		if e.State == events.StateVoided || e.VoidedBy != "" {
			// Voids apart: the faktur is not the service's to hold any more.
			if present && !unread {
				diff.Kind, diff.Voided = VoidedButPresent, e.VoidedBy
				d.Differences = append(d.Differences, diff)
			}
			continue
		}
		d.Forstok.add(e.Kind, money.Amount(e.TotalSen))
		switch {
		case e.State != events.StateSynced && !present:
			diff.Kind = NotSynced
		case unread:
			continue // Accurate's side is unknown: nothing more to say
		case !present:
			diff.Kind = MissingInAccurate
		case e.Known && row.Total != money.Amount(e.TotalSen):
			diff.Kind = AmountDiffers
		default:
			continue
		}
		d.Differences = append(d.Differences, diff)
	}
	if !unread {
		customers := storeCustomers(m)
		for k, row := range held {
			if seen[k] || !ours(k, row, customers) {
				continue
			}
			st := customers[row.CustomerNo]
			if store != "" && st != store {
				continue
			}
			d := dayOf(st)
			d.Accurate.add(k.kind, row.Total)
			d.Differences = append(d.Differences, Difference{Kind: UnknownInAccurate, Number: row.Number, Store: st, Date: day,
				Accurate: amountPtr(row.Total)})
		}
	}
	if len(byStore) == 0 {
		dayOf(store) // a day with nothing on either side is shown, clean
	}
	out := make([]Day, 0, len(byStore))
	for _, d := range byStore {
		sort.Slice(d.Differences, func(i, j int) bool {
			a, b := d.Differences[i], d.Differences[j]
			if a.Kind != b.Kind {
				return slices.Index(Kinds, a.Kind) < slices.Index(Kinds, b.Kind)
			}
			return a.Number < b.Number
		})
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Store < out[j].Store })
	return out
}

// ours tells whether a document Accurate holds looks like one of this
// service's: a penerimaan FP-<id>, a retur RJ-<id>, or a faktur of one of
// the seller's stores' customers (a faktur whose customer the list does
// not name is counted too: better asked about than missed).
func ours(k docKey, row accurate.DocumentRow, customers map[string]string) bool {
	switch k.kind {
	case events.DocPayout:
		return strings.HasPrefix(row.Number, "FP-")
	case events.DocReturn:
		return strings.HasPrefix(row.Number, mapping.ReturPrefix)
	}
	if row.CustomerNo == "" {
		return true
	}
	_, ok := customers[row.CustomerNo]
	return ok
}

// storeCustomers maps each store's Accurate customer to the store id.
func storeCustomers(m *mapping.Settings) map[string]string {
	out := map[string]string{}
	if m == nil {
		return out
	}
	for id, st := range m.Stores {
		if st.CustomerNo != "" {
			out[st.CustomerNo] = id
		}
	}
	return out
}

func (s *Side) add(kind string, a money.Amount) {
	switch kind {
	case events.DocInvoice:
		s.Invoices++
		s.InvoiceTotal += a
	case events.DocPayout:
		s.Payouts++
		s.Cash += a
	case events.DocReturn:
		s.Returns++
		s.ReturnTotal += a
	}
}

func amountPtr(a money.Amount) *money.Amount { return &a }
