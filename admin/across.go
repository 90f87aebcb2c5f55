package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"

	"forstok-accurate-sync/events"
)

// doneCursor marks, in a cursor across sellers, a seller whose events have
// all been shown.
const doneCursor = "-"

// ListEvery lists the events of every seller the scope sees, newest first
// (q.Seller is ignored), a page at a time. Its cursor holds each seller's
// own position, so that a page of one seller's events never hides
// another's.
func (s *Service) ListEvery(ctx context.Context, scope Scope, q ListQuery) ([]events.Event, string, error) {
	if err := q.check(); err != nil {
		return nil, "", err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	at, err := parseAcross(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	type page struct {
		seller, from, next string
		evs                []events.Event
	}
	var pages []*page
	var all []events.Event
	for _, id := range s.visibleSellers(scope) {
		from := at[id]
		if from == doneCursor {
			continue
		}
		evs, next, err := s.storeFor(id).List(ctx, events.Filter{State: q.State, Type: q.Type, Limit: q.Limit, Cursor: from})
		if err != nil {
			return nil, "", err
		}
		evs = visible(scope, evs)
		for i := range evs {
			evs[i].Seller = id
		}
		pages = append(pages, &page{seller: id, from: from, next: next, evs: evs})
		all = append(all, evs...)
	}
	slices.SortStableFunc(all, func(a, b events.Event) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(all) > q.Limit {
		all = all[:q.Limit]
	}
	shown := map[string]int{}
	for _, ev := range all {
		shown[ev.Seller]++
	}
	more := false
	for _, p := range pages {
		n := shown[p.seller]
		switch {
		case n == len(p.evs) && p.next == "":
			at[p.seller] = doneCursor
		case n == len(p.evs):
			at[p.seller], more = p.next, true
		default:
			at[p.seller], more = events.CursorAfter(p.evs[:n], p.from), true
		}
	}
	if !more {
		return all, "", nil
	}
	raw, _ := json.Marshal(at) // strings only: cannot fail
	return all, base64.RawURLEncoding.EncodeToString(raw), nil
}

// parseAcross reads a cursor ListEvery made: each seller's own cursor.
func parseAcross(c string) (map[string]string, error) {
	at := map[string]string{}
	if c == "" {
		return at, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(raw, &at) != nil {
		return nil, events.ErrBadCursor
	}
	return at, nil
}
