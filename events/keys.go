package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/queue"
)

// The Redis keys the service writes under one namespace are named here and
// nowhere else (asynq's, in package queue), so that the store, the
// limiter, tests, load scripts and tools agree on what a namespace holds
// (and what deleting it deletes).

// LimiterPrefix is the prefix the shared Accurate limiter is given.
func LimiterPrefix(ns string) string { return ns + ":accurate" }

// KeyPatterns are SCAN patterns matching every key namespace ns holds: the
// store's, asynq's queue and the limiter's (redis_rate puts "rate:" before
// its key). ns is a plain name; glob characters in it widen the patterns.
func KeyPatterns(ns string) []string {
	return append([]string{
		queue.KeyPrefix(ns) + ":*",
		// The shards' keys: "{ns:<n>:<k>}".
		"{" + ns + ":[0-9]*}:*",
		LimiterPrefix(ns) + ":*",
		"rate:" + LimiterPrefix(ns) + ":*",
	}, queue.AsynqPatterns(ns)...)
}

// EachKey calls fn with the keys of namespace ns, a batch at a time (SCAN:
// never KEYS, which stalls a Redis shared with production).
func EachKey(ctx context.Context, rdb redis.UniversalClient, ns string, fn func(keys []string) error) error {
	for _, pattern := range KeyPatterns(ns) {
		if err := eachKeyMatching(ctx, rdb, pattern, fn); err != nil {
			return fmt.Errorf("keys of namespace %s: %w", ns, err)
		}
	}
	return nil
}

// eachKeyMatching calls fn with the keys matching pattern, a batch at a
// time, on every master of a Cluster.
func eachKeyMatching(ctx context.Context, rdb redis.UniversalClient, pattern string, fn func(keys []string) error) error {
	// A Cluster's masters are scanned at once: fn is called by one at a time.
	var mu sync.Mutex
	call := func(keys []string) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(keys)
	}
	scanNode := func(ctx context.Context, c *redis.Client) error {
		// A large COUNT: fewer round trips on a big shared keyspace.
		iter := c.Scan(ctx, 0, pattern, 5000).Iterator()
		batch := make([]string, 0, 1000)
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
				if err := call(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("scan %s: %w", pattern, err)
		}
		if len(batch) > 0 {
			return call(batch)
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, scanNode)
	case *redis.Client:
		return scanNode(ctx, c)
	default:
		return fmt.Errorf("cannot scan a %T", rdb)
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
	err = errors.Join(err, forgetQueues(ctx, rdb, ns))
	if err != nil {
		return deleted, fmt.Errorf("drop namespace %s: %w", ns, err)
	}
	return deleted, nil
}

// forgetQueues takes namespace ns's queues (ns, and ns:<n> of its shards)
// off asynq's list of queues.
func forgetQueues(ctx context.Context, rdb redis.UniversalClient, ns string) error {
	names, err := rdb.SMembers(ctx, queue.AsynqQueues).Result()
	if err != nil {
		return fmt.Errorf("asynq's queues: %w", err)
	}
	var mine []any
	for _, q := range names {
		if q == ns || queue.IsShardQueue(ns, q) {
			mine = append(mine, q)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return rdb.SRem(ctx, queue.AsynqQueues, mine...).Err()
}

// SellerScope is one seller's part of a namespace (its queue.Scope: the
// seller, its shard and queue, the prefix of its keys), with the keys of
// the order memory and the store built under it. Only a Namespace makes
// one, from its Layout, so a seller's key is never built under another
// seller's or the namespace's own prefix.
type SellerScope struct{ queue.Scope }

// DefaultSeller is the seller of a single-seller setup (queue's).
const DefaultSeller = queue.DefaultSeller

// The keys of the order memory (package orders), each kept for the
// retention.

// VoidKey holds the key of the invoice.voided event that voided an invoice.
func (c SellerScope) VoidKey(invoiceID int64) string {
	return c.Key("void:" + strconv.FormatInt(invoiceID, 10))
}

// PaidByKey is the set of this service's penerimaan that settle a faktur.
func (c SellerScope) PaidByKey(faktur string) string { return c.Key("paidby:" + faktur) }

// SettlesKey is the set of fakturs a penerimaan of this service settles.
func (c SellerScope) SettlesKey(receipt string) string { return c.Key("settles:" + receipt) }

// PostedByKey holds the invoice.created event that posted a faktur.
func (c SellerScope) PostedByKey(faktur string) string { return c.Key("postedby:" + faktur) }

// ReturnedKey is the hash of what each retur of a faktur gave back.
func (c SellerScope) ReturnedKey(faktur string) string { return c.Key("returned:" + faktur) }

// LockKey is a short lock across the replicas.
func (c SellerScope) LockKey(name string) string { return c.Key("lock:" + name) }

// DoneKey marks a one-time action done.
func (c SellerScope) DoneKey(name string) string { return c.Key("done:" + name) }

// ClaimKey holds which event owns an Accurate document number of one kind
// ("faktur", "penerimaan"), so that two Forstok events can never end on one
// document.
func (c SellerScope) ClaimKey(kind, number string) string {
	return c.Key("claim:" + kind + ":" + number)
}

// FakturKey holds the total of a faktur this service synced, by its
// Accurate number, so that paying it needs no detail.do call.
func (c SellerScope) FakturKey(number string) string { return c.Key("faktur:" + number) }

// The keys of the store's own part of a seller.

// recordKey is an event's record; historyKey the history list of a record
// from before the history moved into it.
func (s *Store) recordKey(key string) string  { return s.scope.Key("event:" + key) }
func (s *Store) historyKey(key string) string { return s.scope.Key("history:" + key) }

// indexKey is the index of the events in state, by acceptance time;
// indexPrefix is what the scripts add a state to.
func (s *Store) indexKey(state string) string { return s.indexPrefix() + state }

// legacyAllIndexKey is the index of every state that versions before
// 2026-12-05 kept beside the per-state ones; only Prune still reads it.
func (s *Store) legacyAllIndexKey() string { return s.indexPrefix() + "all" }
func (s *Store) indexPrefix() string       { return s.scope.Key("index:") }

// orderKey is the set of the events about a marketplace order number.
func (s *Store) orderKey(number string) string {
	return s.scope.Key("order:" + NormalizeOrderNumber(number))
}

// dayKey is the day book of one day.
func (s *Store) dayKey(day string) string { return s.scope.Key("day:" + day) }

// missingKey is what Accurate was found to lack.
func (s *Store) missingKey() string { return s.scope.Key("missing") }

// callsKey counts the seller's requests to Accurate in one slot of time.
func (s *Store) callsKey(slot int64) string {
	return s.scope.Key("accurate-calls:" + strconv.FormatInt(slot, 10))
}

// The queue's keys of a seller (its holds, its share, its wake-ups) are
// the queue's own, built under the same scope (package queue).

// The keys of the namespace itself: its layout mark and the migration's
// lock.
func layoutKey(ns string) string      { return queue.KeyPrefix(ns) + ":layout" }
func migrateLockKey(ns string) string { return queue.KeyPrefix(ns) + ":migrate:lock" }
