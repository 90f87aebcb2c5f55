package admin

import (
	"context"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/reconcile"
)

// ChartHours is how many hours the overview's chart covers.
const ChartHours = 24

// Overview is the state of the sync at a glance.
type Overview struct {
	At time.Time `json:"at"`
	// States counts events by state.
	States map[string]int64 `json:"states"`
	// Sellers counts each seller's events by state.
	Sellers []SellerStates `json:"sellers"`
	// Hours are the last ChartHours hours, oldest first: of the events
	// accepted in each, how many are now synced and how many failed.
	Hours []Hour `json:"hours"`
	// QueueDepth is the tasks waiting or scheduled to run again.
	QueueDepth int `json:"queue_depth"`
	// OldestWaiting is when the oldest event still queued or retrying was
	// accepted; nil when none waits.
	OldestWaiting *time.Time `json:"oldest_waiting"`
}

// SellerStates is one seller's events by state.
type SellerStates struct {
	Seller string           `json:"seller"`
	States map[string]int64 `json:"states"`
	// Reconciliation is the seller's newest daily reconciliation: its day,
	// when it ran, its differences by kind, and the side it could not read
	// with when it tries again; absent before the first.
	Reconciliation *reconcile.Run `json:"reconciliation,omitempty"`
}

// Hour is one bar of the chart.
type Hour struct {
	Start  time.Time `json:"start"`
	Synced int64     `json:"synced"`
	Failed int64     `json:"failed"`
}

// Overview gathers the overview. Every figure is a count on an index, so it
// costs the same with a thousand events as with millions; with several
// sellers it is the sum of the sellers the scope sees.
func (s *Service) Overview(ctx context.Context, scope Scope) (Overview, error) {
	now := s.now().UTC()
	out := Overview{At: now, States: map[string]int64{}}
	for _, state := range events.States {
		out.States[state] = 0
	}
	start := now.Truncate(time.Hour).Add(-(ChartHours - 1) * time.Hour)
	for i := range ChartHours {
		out.Hours = append(out.Hours, Hour{Start: start.Add(time.Duration(i) * time.Hour)})
	}
	var waiting int64
	for _, id := range s.visibleSellers(scope) {
		store := s.storeFor(id)
		counts, err := store.Counts(ctx)
		if err != nil {
			return Overview{}, err
		}
		synced, err := store.HourCounts(ctx, events.StateSynced, now, ChartHours)
		if err != nil {
			return Overview{}, err
		}
		failed, err := store.HourCounts(ctx, events.StateFailed, now, ChartHours)
		if err != nil {
			return Overview{}, err
		}
		st := SellerStates{Seller: id, States: map[string]int64{}}
		for _, state := range events.States {
			st.States[state] = counts[state]
			out.States[state] += counts[state]
		}
		if s.dailyRuns != nil {
			run, ok, err := s.dailyRuns.Last(ctx, id)
			if err != nil {
				return Overview{}, err
			}
			if ok {
				st.Reconciliation = &run
			}
		}
		waiting += counts[events.StateQueued] + counts[events.StateRetrying]
		out.Sellers = append(out.Sellers, st)
		for i := range ChartHours {
			out.Hours[i].Synced += synced[i]
			out.Hours[i].Failed += failed[i]
		}
		for _, state := range []string{events.StateQueued, events.StateRetrying} {
			at, ok, err := store.Oldest(ctx, state)
			if err != nil {
				return Overview{}, err
			}
			if ok && (out.OldestWaiting == nil || at.Before(*out.OldestWaiting)) {
				out.OldestWaiting = &at
			}
		}
	}
	if scope.Seller == "" && s.queue != nil {
		// The admin token sees the queue itself: every task asynq holds.
		depth, err := s.queue.QueueDepth(ctx)
		if err != nil {
			return Overview{}, err
		}
		out.QueueDepth = depth
	} else {
		out.QueueDepth = int(waiting)
	}
	return out, nil
}
