package events

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/defaults"
)

// The Redis keys the service writes under one namespace are named here and
// nowhere else, so that the store, the limiter, tests, load scripts and
// tools agree on what a namespace holds (and what deleting it deletes).

// KeyPrefix is the hash tag "{ns}" of namespace ns: every key of a
// deployment with one shard (the layout before shards) starts with it, and
// so do the namespace's own keys (its layout mark, the migration's lock).
func KeyPrefix(ns string) string { return "{" + ns + "}" }

// DefaultSeller is the seller of a single-seller setup. Its keys are its
// shard's own (as before there were sellers), its task ids the bare event
// keys.
const DefaultSeller = "default"

// DefaultShards is how many shards the service gives a namespace on a
// Redis Cluster unless configured: the Cluster spreads them over its
// masters (16 give each of 3 masters 5 or 6, each of 6 two or three). On
// one Redis a namespace keeps one shard: more would only add queues for
// every worker to poll.
const DefaultShards = 16

// Layout is how a namespace spreads its sellers over shards. Each seller
// lives in one shard, chosen by its id; a shard's keys and its asynq queue
// share one hash tag, so that a Redis Cluster keeps them (and every Lua
// script over them) in one slot while the shards spread over its masters.
// The number of shards is fixed for the life of a deployment: changing it
// moves sellers between shards, which only a migration may do.
type Layout struct {
	Namespace string
	// Shards is how many shards; 1 is the layout before shards: every key
	// under "{ns}", one asynq queue named ns.
	Shards int
	queues []string // Queue(n), worked out once by NewLayout
}

// NewLayout is the layout of namespace ns with shards shards (one when
// shards <= 0).
func NewLayout(ns string, shards int) Layout {
	defaults.Positive(&shards, 1)
	l := Layout{Namespace: ns, Shards: shards}
	if shards > 1 {
		l.queues = make([]string, shards)
		for n := range l.queues {
			l.queues[n] = shardQueue(ns, shards, n)
		}
	}
	return l
}

// ShardOf is the shard of a seller: FNV-1a of its id modulo the shards, so
// every replica places it alike without asking Redis.
func (l Layout) ShardOf(seller string) int {
	if l.Shards <= 1 {
		return 0
	}
	defaults.Empty(&seller, DefaultSeller)
	h := fnv.New32a()
	_, _ = h.Write([]byte(seller))
	return int(h.Sum32() % uint32(l.Shards))
}

// Queue is the asynq queue of shard n: ns with one shard, "ns:<n>:<k>"
// otherwise (asynq puts the queue's name in its keys' hash tag,
// "{ns:<n>:<k>}", the same as ShardPrefix's). k is the first number that
// puts the tag's Cluster slot in the n-th of Shards equal ranges of the
// 16,384 slots, so the shards spread as evenly as the Cluster spreads its
// slots (a bare "{ns:<n>}" would leave one of 6 masters without a shard).
func (l Layout) Queue(n int) string {
	if l.Shards <= 1 {
		return l.Namespace
	}
	if l.queues != nil {
		return l.queues[n]
	}
	return shardQueue(l.Namespace, l.Shards, n)
}

func shardQueue(ns string, shards, n int) string {
	base := ns + ":" + strconv.Itoa(n) + ":"
	lo, hi := n*clusterSlots/shards, (n+1)*clusterSlots/shards
	for k := 0; ; k++ {
		q := base + strconv.Itoa(k)
		if slot := int(crc16([]byte(q)) % clusterSlots); slot >= lo && slot < hi {
			return q
		}
	}
}

// clusterSlots is how many hash slots a Redis Cluster has.
const clusterSlots = 16384

// crc16 is Redis Cluster's key hash (CRC-16/XMODEM), for placing a tag in a
// slot range.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Queues are every shard's queue.
func (l Layout) Queues() []string {
	out := make([]string, max(l.Shards, 1))
	for n := range out {
		out[n] = l.Queue(n)
	}
	return out
}

// ShardPrefix starts every key of shard n: "{<its queue>}".
func (l Layout) ShardPrefix(n int) string { return "{" + l.Queue(n) + "}" }

// SellerPrefix starts every key of one seller's part of the store: the
// default seller's are its shard's own, every other seller's sit under
// "<shard prefix>:s:<seller>", in the same hash tag.
func (l Layout) SellerPrefix(seller string) string {
	p := l.ShardPrefix(l.ShardOf(seller))
	if seller == "" || seller == DefaultSeller {
		return p
	}
	return p + ":s:" + seller
}

// SellerQueue is the asynq queue of a seller's events.
func (l Layout) SellerQueue(seller string) string { return l.Queue(l.ShardOf(seller)) }

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

// QueueKeyPrefix starts every key of asynq's queue named q.
func QueueKeyPrefix(q string) string { return "asynq:{" + q + "}" }

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
		// The shards' keys and queues: "{ns:<n>:<k>}".
		"{" + ns + ":[0-9]*}:*",
		"asynq:{" + ns + ":[0-9]*}:*",
		LimiterPrefix(ns) + ":*",
		"rate:" + LimiterPrefix(ns) + ":*",
	}
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
	names, err := rdb.SMembers(ctx, asynqQueues).Result()
	if err != nil {
		return fmt.Errorf("asynq's queues: %w", err)
	}
	var mine []any
	for _, q := range names {
		if q == ns || isShardQueue(ns, q) {
			mine = append(mine, q)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return rdb.SRem(ctx, asynqQueues, mine...).Err()
}

// isShardQueue tells whether q is "ns:<n>:<k>", a shard's queue of ns.
func isShardQueue(ns, q string) bool {
	rest, ok := strings.CutPrefix(q, ns+":")
	n, k, found := strings.Cut(rest, ":")
	if !ok || !found {
		return false
	}
	_, err1 := strconv.Atoi(n)
	_, err2 := strconv.Atoi(k)
	return err1 == nil && err2 == nil
}

// asynq's keys of one task queue, which the scripts move a task between as
// asynq's own code does (asynq v0.26's layout: asynq:{q}:pending and
// :active, lists; :scheduled, :retry and :lease, sorted sets; :t:<id>, the
// task's hash; asynqlayout_test.go holds asynq to it).
func asynqKey(q, name string) string { return QueueKeyPrefix(q) + ":" + name }

// SellerScope is one seller's part of a namespace: the seller, its shard,
// the shard's asynq queue, and the prefix every key of the seller's part
// starts with (its shard's hash tag, so that every script over them stays
// in one Redis Cluster slot). Only a Layout makes one (Layout.Seller), so a
// seller's key is never built under another seller's or the namespace's
// own prefix.
type SellerScope struct {
	seller string
	shard  int
	queue  string
	prefix string
}

// Seller is the scope of seller id ("" is the default seller).
func (l Layout) Seller(id string) SellerScope {
	defaults.Empty(&id, DefaultSeller)
	n := l.ShardOf(id)
	return SellerScope{seller: id, shard: n, queue: l.Queue(n), prefix: l.SellerPrefix(id)}
}

// ID is the scope's seller.
func (c SellerScope) ID() string { return c.seller }

// The keys of the order memory (package orders), each kept for the
// retention.

// VoidKey holds the key of the invoice.voided event that voided an invoice.
func (c SellerScope) VoidKey(invoiceID int64) string {
	return c.prefix + ":void:" + strconv.FormatInt(invoiceID, 10)
}

// PaidByKey is the set of this service's penerimaan that settle a faktur.
func (c SellerScope) PaidByKey(faktur string) string { return c.prefix + ":paidby:" + faktur }

// SettlesKey is the set of fakturs a penerimaan of this service settles.
func (c SellerScope) SettlesKey(receipt string) string { return c.prefix + ":settles:" + receipt }

// PostedByKey holds the invoice.created event that posted a faktur.
func (c SellerScope) PostedByKey(faktur string) string { return c.prefix + ":postedby:" + faktur }

// ReturnedKey is the hash of what each retur of a faktur gave back.
func (c SellerScope) ReturnedKey(faktur string) string { return c.prefix + ":returned:" + faktur }

// LockKey is a short lock across the replicas.
func (c SellerScope) LockKey(name string) string { return c.prefix + ":lock:" + name }

// DoneKey marks a one-time action done.
func (c SellerScope) DoneKey(name string) string { return c.prefix + ":done:" + name }

// ClaimKey holds which event owns an Accurate document number of one kind
// ("faktur", "penerimaan"), so that two Forstok events can never end on one
// document.
func (c SellerScope) ClaimKey(kind, number string) string {
	return c.prefix + ":claim:" + kind + ":" + number
}

// FakturKey holds the total of a faktur this service synced, by its
// Accurate number, so that paying it needs no detail.do call.
func (c SellerScope) FakturKey(number string) string { return c.prefix + ":faktur:" + number }

// The keys of the store's own part of a seller.

// recordKey is an event's record; historyKey the history list of a record
// from before the history moved into it.
func (s *Store) recordKey(key string) string  { return s.scope.prefix + ":event:" + key }
func (s *Store) historyKey(key string) string { return s.scope.prefix + ":history:" + key }

// indexKey is the index of the events in state ("" every event), by
// acceptance time; indexPrefix is what the scripts add a state to.
func (s *Store) indexKey(state string) string {
	if state == "" {
		return s.indexPrefix() + "all"
	}
	return s.indexPrefix() + state
}
func (s *Store) indexPrefix() string { return s.scope.prefix + ":index:" }

// orderKey is the set of the events about a marketplace order number.
func (s *Store) orderKey(number string) string {
	return s.scope.prefix + ":order:" + NormalizeOrderNumber(number)
}

// dayKey is the day book of one day.
func (s *Store) dayKey(day string) string { return s.scope.prefix + ":day:" + day }

// missingKey is what Accurate was found to lack.
func (s *Store) missingKey() string { return s.scope.prefix + ":missing" }

// callsKey counts the seller's requests to Accurate in one slot of time.
func (s *Store) callsKey(slot int64) string {
	return s.scope.prefix + ":accurate-calls:" + strconv.FormatInt(slot, 10)
}

// holderKey holds the token of the worker on an event.
func (s *Store) holderKey(key string) string { return s.scope.prefix + ":holder:" + key }

// waitersKey is the set of events waiting for a faktur.
func (s *Store) waitersKey(faktur string) string { return s.scope.prefix + ":waiters:faktur:" + faktur }

// downKey marks this seller's Accurate as not answering: a worker sets it
// when a call meets a 5xx, a timeout or a broken connection, and the
// recovery probe looks at Accurate while it is there.
func (s *Store) downKey() string { return s.scope.prefix + ":accurate:down" }

// releasedKey and heldKey are the seller's events released to the workers
// and held for their turn (fair.go).
func (s *Store) releasedKey() string { return s.scope.prefix + ":fair:released" }
func (s *Store) heldKey() string     { return s.scope.prefix + ":fair:held" }

// readyKey is the set of sellers with held events of this seller's shard.
func (s *Store) readyKey() string { return readyKey(s.layout, s.scope.shard) }

// readyKey is the set of sellers with held events of shard n.
func readyKey(l Layout, n int) string { return l.ShardPrefix(n) + ":fair:ready" }

// asynqKey is a key of asynq's queue of this seller's shard.
func (s *Store) asynqKey(name string) string { return asynqKey(s.scope.queue, name) }

// The keys of the namespace itself: its layout mark and the migration's
// lock.
func layoutKey(ns string) string      { return KeyPrefix(ns) + ":layout" }
func migrateLockKey(ns string) string { return KeyPrefix(ns) + ":migrate:lock" }
