package main

import (
	"context"
	"net/url"
	"time"
)

// runAdminList pages through GET /admin/events the way an operator's script
// would, following next_cursor until it is null, and checks that every
// event appears once, whatever the page size.
func runAdminList(ctx context.Context, l *lab, res *result) error {
	n := 120
	r, in, all, err := l.startDelivered(ctx, res, "admin-list", stageOptions{}, 8, invoicesOf(n))
	if err != nil {
		return err
	}
	defer r.close(ctx)
	if _, _, err := r.finish(ctx, res, acknowledgedOf(in, all), time.Minute); err != nil {
		return err
	}
	for _, q := range []url.Values{
		{},
		{"limit": {"50"}, "state": {"synced"}},
		{"limit": {"100"}},
		{"limit": {"500"}},
		{"limit": {"70"}},
	} {
		query := q.Encode()
		seen, pages, err := r.admin.pages(ctx, q)
		if err != nil {
			return err
		}
		res.notef("GET /admin/events?%s, following next_cursor: %d events in %d pages, want %d", query, seen, pages, n)
		res.expect(seen == n, "GET /admin/events?%s listed %d of %d events (bug B1, fixed in 47f0f4e, is back)", query, seen, n)
	}
	return nil
}

// pages follows next_cursor from the first page to the last and counts the
// distinct events listed.
func (a *admin) pages(ctx context.Context, first url.Values) (seen, pages int, err error) {
	keys := map[string]bool{}
	pages, err = a.eachPage(ctx, first, 1000, func(evs []eventInfo) {
		for _, ev := range evs {
			keys[ev.Key] = true
		}
	})
	if err != nil {
		return 0, pages, err
	}
	return len(keys), pages, nil
}
