package main

import (
	"context"
	"fmt"
	"slices"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/reconcile"
)

// reconciliations gives the admin operations each seller's reconciliation:
// its mapping, its day book and its own Accurate client (under its own
// limiter, so one seller's report never takes another's share).
type reconciliations struct {
	fleet      *fleet
	reconciler *reconcile.Reconciler
}

func (r reconciliations) Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error) {
	p, ok := r.fleet.part(seller)
	if !ok {
		return reconcile.Report{}, fmt.Errorf("seller %s has no working configuration: %w", seller, events.ErrNotFound)
	}
	return r.reconciler.Report(ctx, reconcile.Seller{ID: seller, Settings: p.seller.Mapping,
		Days: r.fleet.store.Seller(seller), Accurate: p.client}, q)
}

// zones are the sellers the daily run reconciles: those working now, each
// in its mapping's time zone.
func (f *fleet) zones() []reconcile.Zone {
	ids := f.reg.IDs()
	out := make([]reconcile.Zone, 0, len(ids))
	for _, id := range ids {
		if p, ok := f.part(id); ok && p.seller.Mapping != nil {
			out = append(out, reconcile.Zone{ID: id, Location: p.seller.Mapping.Location()})
		}
	}
	return out
}

func (r reconciliations) Stores(seller string) ([]string, bool) {
	s, ok := r.fleet.reg.Get(seller)
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
