package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimKey holds which event owns an Accurate document number of one kind
// ("faktur", "penerimaan"), so that two Forstok events can never end on one
// document.
func (s *Store) claimKey(kind, number string) string {
	return s.keyPrefix + ":claim:" + kind + ":" + number
}

// claimScript gives KEYS[1] to ARGV[1] unless another event holds it, and
// answers the owner. The owner's own claim is kept alive for the retention.
// ARGV: event key, retention (s).
var claimScript = redis.NewScript(`
local owner = redis.call("GET", KEYS[1])
if owner and owner ~= ARGV[1] then return owner end
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
return ARGV[1]
`)

// ClaimNumber makes the event key the owner of an Accurate document number,
// atomically, before anything is posted under it, and returns the owner: key
// itself when the number is free or already its own (a retry, a replay, a
// worker that died after posting), another event's key when that event
// claimed the number first. A claim lasts as long as the events are kept.
func (s *Store) ClaimNumber(ctx context.Context, kind, number, key string) (owner string, err error) {
	owner, err = claimScript.Run(ctx, s.rdb, []string{s.claimKey(kind, number)},
		key, int64(s.retention/time.Second)).Text()
	if err != nil {
		return "", unavailable(fmt.Sprintf("claim %s %s for %s", kind, number, key), err)
	}
	return owner, nil
}

// NumberOwner is the event that claimed an Accurate number; ok is false when
// no event of this service has.
func (s *Store) NumberOwner(ctx context.Context, kind, number string) (key string, ok bool, err error) {
	key, err = s.rdb.Get(ctx, s.claimKey(kind, number)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, unavailable(fmt.Sprintf("owner of %s %s", kind, number), err)
	}
	return key, true, nil
}
