package main

import (
	"context"
	"fmt"
	"net/http"
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
	q := url.Values{}
	for k, v := range first {
		q[k] = v
	}
	keys := map[string]bool{}
	for pages < 1000 {
		var page struct {
			Events     []eventInfo `json:"events"`
			NextCursor *string     `json:"next_cursor"`
		}
		status, err := a.do(ctx, http.MethodGet, "/admin/events?"+q.Encode(), nil, &page)
		if err != nil {
			return 0, pages, err
		}
		if status != http.StatusOK {
			return 0, pages, fmt.Errorf("list events: status %d", status)
		}
		pages++
		for _, ev := range page.Events {
			keys[ev.Key] = true
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return len(keys), pages, nil
		}
		q.Set("cursor", *page.NextCursor)
	}
	return len(keys), pages, fmt.Errorf("more than %d pages", pages)
}
