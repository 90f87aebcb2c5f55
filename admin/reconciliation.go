package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"forstok-accurate-sync/reconcile"
)

// Reconciler makes a seller's reconciliation report; the service's wiring
// has one per deployment.
type Reconciler interface {
	Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error)
	// Stores are the seller's Forstok store ids; ok is false when the
	// seller cannot be reconciled now (no working configuration).
	Stores(seller string) (stores []string, ok bool)
}

// DailyRuns reads the kept daily reconciliations (reconcile.Daily).
type DailyRuns interface {
	// Last is the seller's newest run, without its report.
	Last(ctx context.Context, seller string) (reconcile.Run, bool, error)
}

// ReconciliationQuery is what a caller asks: days as yyyy-mm-dd.
type ReconciliationQuery struct {
	Seller   string
	From, To string
	Store    string
}

// Reconciliation is a seller's report of the days From..To (at most
// reconcile.MaxDays), the one operation behind the JSON API, its CSV and
// the console page.
func (s *Service) Reconciliation(ctx context.Context, scope Scope, q ReconciliationQuery) (reconcile.Report, error) {
	_, seller, err := s.storeOf(scope, q.Seller)
	if err != nil {
		return reconcile.Report{}, err
	}
	from, err := parseDay("from", q.From)
	if err != nil {
		return reconcile.Report{}, err
	}
	to, err := parseDay("to", q.To)
	if err != nil {
		return reconcile.Report{}, err
	}
	if to.Before(from) {
		return reconcile.Report{}, &InputError{Field: "to", Msg: "is before from: give from the first day and to the last", Problem: ProblemBefore}
	}
	if days := int(to.Sub(from)/(24*time.Hour)) + 1; days > reconcile.MaxDays {
		return reconcile.Report{}, &InputError{Field: "to", Msg: fmt.Sprintf("makes a range of %d days; a report covers at most %d: split it", days, reconcile.MaxDays), Problem: ProblemSpan}
	}
	if s.reconciler == nil {
		return reconcile.Report{}, &NotFoundError{What: NotFoundReconciliation, More: "this service keeps none"}
	}
	stores, ok := s.reconciler.Stores(seller)
	if !ok {
		return reconcile.Report{}, &NotFoundError{What: NotFoundSeller, Name: seller, More: "no working configuration"}
	}
	if q.Store != "" && !slices.Contains(stores, q.Store) {
		return reconcile.Report{}, &NotFoundError{What: NotFoundStore, Name: q.Store, More: fmt.Sprintf("of seller %s, whose stores are %s", seller, strings.Join(stores, ", "))}
	}
	rep, err := s.reconciler.Reconcile(ctx, seller, reconcile.Query{From: from, To: to, Store: q.Store})
	if errors.Is(err, reconcile.ErrRange) {
		return reconcile.Report{}, &InputError{Field: "to", Msg: err.Error(), Problem: ProblemSpan}
	}
	return rep, err
}

func parseDay(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, &InputError{Field: field, Msg: "is required: a day as yyyy-mm-dd", Problem: ProblemMissing}
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, &InputError{Field: field, Msg: fmt.Sprintf("%q is not a day as yyyy-mm-dd", v), Problem: ProblemDay, Value: v}
	}
	return t, nil
}
