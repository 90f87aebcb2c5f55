package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The Redis keys the service writes under one namespace are named here and
// nowhere else, so that the store, the limiter, tests, load scripts and
// tools agree on what a namespace holds (and what deleting it deletes).

// KeyPrefix starts every key of the event store: "{ns}", one hash tag, so
// that a Redis Cluster keeps an event's keys (and the Lua scripts over them)
// in one slot.
func KeyPrefix(ns string) string { return "{" + ns + "}" }

// DefaultSeller is the seller of a single-seller setup. Its keys are the
// namespace's own (as before there were sellers), its task ids the bare
// event keys.
const DefaultSeller = "default"

// SellerKeyPrefix starts every key of one seller's part of the event store:
// the default seller's are KeyPrefix(ns)'s own, every other seller's sit
// under "{ns}:s:<seller>", in the same hash tag.
func SellerKeyPrefix(ns, seller string) string {
	if seller == "" || seller == DefaultSeller {
		return KeyPrefix(ns)
	}
	return KeyPrefix(ns) + ":s:" + seller
}

// TaskID is the asynq task id of a seller's event: the event key for the
// default seller, "<seller>/<key>" for the others (an event key never holds
// a "/"), so that the same Forstok id under two sellers is two tasks.
func TaskID(seller, key string) string {
	if seller == "" || seller == DefaultSeller {
		return key
	}
	return seller + "/" + key
}

// SplitTaskID is TaskID undone: the seller and the event key.
func SplitTaskID(id string) (seller, key string) {
	if s, k, ok := strings.Cut(id, "/"); ok {
		return s, k
	}
	return DefaultSeller, id
}

// QueueKeyPrefix starts every key of asynq's queue named ns.
func QueueKeyPrefix(ns string) string { return "asynq:{" + ns + "}" }

// LimiterPrefix is the prefix the shared Accurate limiter is given.
func LimiterPrefix(ns string) string { return ns + ":accurate" }

// asynqQueues is asynq's own set of every queue name it has seen.
const asynqQueues = "asynq:queues"

// KeyPatterns are SCAN patterns matching every key namespace ns holds: the
// store's, asynq's queue and the limiter's (redis_rate puts "rate:" before
// its key). ns is a plain name; glob characters in it widen the patterns.
func KeyPatterns(ns string) []string {
	return []string{
		KeyPrefix(ns) + ":*",
		QueueKeyPrefix(ns) + ":*",
		LimiterPrefix(ns) + ":*",
		"rate:" + LimiterPrefix(ns) + ":*",
	}
}

// EachKey calls fn with the keys of namespace ns, a batch at a time (SCAN:
// never KEYS, which stalls a Redis shared with production).
func EachKey(ctx context.Context, rdb redis.UniversalClient, ns string, fn func(keys []string) error) error {
	scanNode := func(ctx context.Context, c *redis.Client) error {
		for _, pattern := range KeyPatterns(ns) {
			// A large COUNT: fewer round trips on a big shared keyspace.
			iter := c.Scan(ctx, 0, pattern, 5000).Iterator()
			batch := make([]string, 0, 1000)
			for iter.Next(ctx) {
				if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
					if err := fn(batch); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			if err := iter.Err(); err != nil {
				return fmt.Errorf("scan %s: %w", pattern, err)
			}
			if len(batch) > 0 {
				if err := fn(batch); err != nil {
					return err
				}
			}
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, scanNode)
	case *redis.Client:
		return scanNode(ctx, c)
	default:
		return fmt.Errorf("keys of namespace %s: cannot scan a %T", ns, rdb)
	}
}

// DropNamespace deletes every key of namespace ns, key by key (never a
// flush: the Redis may be shared), and takes its queue off asynq's list. It
// returns how many keys it deleted.
func DropNamespace(ctx context.Context, rdb redis.UniversalClient, ns string) (int, error) {
	deleted := 0
	err := EachKey(ctx, rdb, ns, func(keys []string) error {
		// One UNLINK per key in a pipeline: the limiter's keys and the
		// store's sit in different Cluster slots.
		pipe := rdb.Pipeline()
		for _, k := range keys {
			pipe.Unlink(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("unlink: %w", err)
		}
		deleted += len(keys)
		return nil
	})
	err = errors.Join(err, rdb.SRem(ctx, asynqQueues, ns).Err())
	if err != nil {
		return deleted, fmt.Errorf("drop namespace %s: %w", ns, err)
	}
	return deleted, nil
}

// asynq's keys of one task queue, which releaseScript moves a task between
// as asynq's own requeue does (asynq v0.26's layout: asynq:{ns}:active, a
// list; :lease, a sorted set; :pending, a list; :t:<id>, the task's hash).
func asynqKey(ns, name string) string { return QueueKeyPrefix(ns) + ":" + name }
