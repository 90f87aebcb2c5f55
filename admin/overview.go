package admin

import (
	"context"
	"time"

	"forstok-accurate-sync/events"
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
}

// Hour is one bar of the chart.
type Hour struct {
	Start  time.Time `json:"start"`
	Synced int64     `json:"synced"`
	Failed int64     `json:"failed"`
}

// Overview gathers the overview. Every figure is a count on an index, so it
// costs the same with a thousand events as with millions.
func (s *Service) Overview(ctx context.Context, scope Scope) (Overview, error) {
	now := s.now().UTC()
	out := Overview{At: now, States: map[string]int64{}}
	counts, err := s.store.Counts(ctx)
	if err != nil {
		return Overview{}, err
	}
	synced, err := s.store.HourCounts(ctx, events.StateSynced, now, ChartHours)
	if err != nil {
		return Overview{}, err
	}
	failed, err := s.store.HourCounts(ctx, events.StateFailed, now, ChartHours)
	if err != nil {
		return Overview{}, err
	}
	// Until events carry their seller, every figure is the default seller's.
	mine := scope.Allows(DefaultSeller)
	for _, sl := range s.sellers() {
		if !scope.Allows(sl.Name) {
			continue
		}
		st := SellerStates{Seller: sl.Name, States: map[string]int64{}}
		for _, state := range events.States {
			if sl.Name == DefaultSeller {
				st.States[state] = counts[state]
			} else {
				st.States[state] = 0
			}
		}
		out.Sellers = append(out.Sellers, st)
	}
	for _, state := range events.States {
		if mine {
			out.States[state] = counts[state]
		} else {
			out.States[state] = 0
		}
	}
	start := now.Truncate(time.Hour).Add(-(ChartHours - 1) * time.Hour)
	for i := range ChartHours {
		h := Hour{Start: start.Add(time.Duration(i) * time.Hour)}
		if mine {
			h.Synced, h.Failed = synced[i], failed[i]
		}
		out.Hours = append(out.Hours, h)
	}
	if !mine {
		return out, nil
	}
	if out.QueueDepth, err = s.store.QueueDepth(ctx); err != nil {
		return Overview{}, err
	}
	for _, state := range []string{events.StateQueued, events.StateRetrying} {
		at, ok, err := s.store.Oldest(ctx, state)
		if err != nil {
			return Overview{}, err
		}
		if ok && (out.OldestWaiting == nil || at.Before(*out.OldestWaiting)) {
			out.OldestWaiting = &at
		}
	}
	return out, nil
}
