package events

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The order-number index: one Redis set per marketplace order number,
// holding the keys of every event about that order (its invoice, the
// payments that settle it). Written when an event is accepted and expiring
// with the retention, so a search is one SMEMBERS plus the records, however
// many events the store holds.

// NormalizeOrderNumber is an order number as the index keeps it: trimmed
// and upper-cased, so that a search typed in lower case still finds it.
func NormalizeOrderNumber(number string) string {
	return strings.ToUpper(strings.TrimSpace(number))
}

// indexOrders adds key to the set of each of its order numbers.
func (s *Store) indexOrders(ctx context.Context, key string, orders []string) error {
	if len(orders) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, no := range orders {
		if NormalizeOrderNumber(no) == "" {
			continue
		}
		k := s.orderKey(no)
		pipe.SAdd(ctx, k, key)
		pipe.Expire(ctx, k, s.retention)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("index orders of "+key, err)
	}
	return nil
}

// ByOrder returns the events about a marketplace order number, newest
// first, without payloads. Events that expired are left out.
func (s *Store) ByOrder(ctx context.Context, number string) ([]Event, error) {
	if NormalizeOrderNumber(number) == "" {
		return nil, nil
	}
	keys, err := s.rdb.SMembers(ctx, s.orderKey(number)).Result()
	if err != nil {
		return nil, unavailable("search order "+number, err)
	}
	evs, err := s.records(ctx, keys)
	if err != nil {
		return nil, err
	}
	sortNewestFirst(evs)
	return evs, nil
}

func sortNewestFirst(evs []Event) {
	slices.SortFunc(evs, func(a, b Event) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// HourCounts are how many events accepted in each of hours consecutive
// hours ending with the one holding until are now in state: one ZCOUNT per
// hour on the state's index, so its cost does not grow with the store.
func (s *Store) HourCounts(ctx context.Context, state string, until time.Time, hours int) ([]int64, error) {
	end := until.Truncate(time.Hour).Add(time.Hour)
	pipe := s.rdb.Pipeline()
	cmds := make([]interface{ Val() int64 }, hours)
	for i := range hours {
		from := end.Add(time.Duration(i-hours) * time.Hour)
		to := from.Add(time.Hour)
		cmds[i] = pipe.ZCount(ctx, s.indexKey(state),
			fmt.Sprint(from.UnixMilli()), fmt.Sprintf("(%d", to.UnixMilli()))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("hour counts", err)
	}
	out := make([]int64, hours)
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// Oldest is the acceptance time of the oldest event in state; ok is false
// when none is.
func (s *Store) Oldest(ctx context.Context, state string) (at time.Time, ok bool, err error) {
	z, err := s.rdb.ZRangeWithScores(ctx, s.indexKey(state), 0, 0).Result()
	if err != nil {
		return time.Time{}, false, unavailable("oldest "+state, err)
	}
	if len(z) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(z[0].Score)).UTC(), true, nil
}
