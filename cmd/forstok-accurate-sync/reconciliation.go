package main

import (
	"context"
	"fmt"
	"slices"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/fleet"
	"forstok-accurate-sync/reconcile"
	"forstok-accurate-sync/sellers"
)

// reconciliations gives the admin operations each seller's reconciliation:
// its mapping, its day book and its own Accurate client (under its own
// limiter, so one seller's report never takes another's share).
type reconciliations struct {
	fleet      *fleet.Fleet
	events     *events.Namespace
	reg        *sellers.Registry
	reconciler *reconcile.Reconciler
}

func (r reconciliations) Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error) {
	p, ok := r.fleet.Part(seller)
	if !ok {
		return reconcile.Report{}, fmt.Errorf("seller %s has no working configuration: %w", seller, events.ErrNotFound)
	}
	return r.reconciler.Report(ctx, reconcile.Seller{ID: seller, Settings: p.Seller.Mapping,
		Days: r.events.Seller(seller), Accurate: p.Client}, q)
}

func (r reconciliations) Stores(seller string) ([]string, bool) {
	s, ok := r.reg.Get(seller)
	if !ok || s.Mapping == nil {
		return nil, false
	}
	ids := make([]string, 0, len(s.Mapping.Stores))
	for id := range s.Mapping.Stores {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, true
}
