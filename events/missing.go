package events

import (
	"context"
	"strconv"
	"time"
)

// What Accurate was found to lack (items, customers), remembered briefly so
// that the refusals of many events naming one missing SKU are explained by
// one look-up, not one each. One hash per namespace: field kind:number,
// value the time the memory of it ends (ms); the hash itself expires with
// the last memory written, and a replay drops it whole, since the seller
// replays after adding what was missing.

// NoteMissing remembers for ttl that Accurate lacks numbers of kind.
func (s *Store) NoteMissing(ctx context.Context, kind string, numbers []string, ttl time.Duration) error {
	if len(numbers) == 0 {
		return nil
	}
	until := strconv.FormatInt(s.now().Add(ttl).UnixMilli(), 10)
	fields := make([]any, 0, 2*len(numbers))
	for _, n := range numbers {
		fields = append(fields, kind+":"+n, until)
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.missingKey(), fields...)
	pipe.PExpire(ctx, s.missingKey(), ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("remember what Accurate lacks", err)
	}
	return nil
}

// RememberedMissing tells which of numbers of kind Accurate was found to
// lack less than their ttl ago (and not forgotten since).
func (s *Store) RememberedMissing(ctx context.Context, kind string, numbers []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(numbers) == 0 {
		return out, nil
	}
	fields := make([]string, len(numbers))
	for i, n := range numbers {
		fields[i] = kind + ":" + n
	}
	vals, err := s.rdb.HMGet(ctx, s.missingKey(), fields...).Result()
	if err != nil {
		return nil, unavailable("read what Accurate lacks", err)
	}
	now := s.now().UnixMilli()
	for i, v := range vals {
		str, _ := v.(string)
		if until, err := strconv.ParseInt(str, 10, 64); err == nil && until > now {
			out[numbers[i]] = true
		}
	}
	return out, nil
}

// ForgetMissing forgets that Accurate lacks numbers of kind (once the
// service created them).
func (s *Store) ForgetMissing(ctx context.Context, kind string, numbers []string) error {
	if len(numbers) == 0 {
		return nil
	}
	fields := make([]string, len(numbers))
	for i, n := range numbers {
		fields[i] = kind + ":" + n
	}
	if err := s.rdb.HDel(ctx, s.missingKey(), fields...).Err(); err != nil {
		return unavailable("forget what Accurate lacks", err)
	}
	return nil
}

// forgetAllMissing drops every memory of what Accurate lacks: an operator
// who replays has usually just added it.
func (s *Store) forgetAllMissing(ctx context.Context) error {
	if err := s.rdb.Del(ctx, s.missingKey()).Err(); err != nil {
		return unavailable("forget what Accurate lacks", err)
	}
	return nil
}
