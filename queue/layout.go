package queue

import (
	"hash/fnv"
	"strconv"
	"strings"

	"forstok-accurate-sync/internal/defaults"
)

// Shards. A namespace's sellers spread over a fixed number of shards; each
// shard is one asynq queue, and its keys and the keys of its sellers share
// the queue's hash tag, so that a seller's intake is one script in one
// Redis Cluster slot while the shards spread over the Cluster's masters.

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

// KeySlot is the Redis Cluster slot of key (its hash tag's, when it has
// one).
func KeySlot(key string) int {
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(tag)) % clusterSlots)
}

// Scope is one seller's place in a namespace: the seller, its shard, the
// shard's asynq queue, and the prefix every key of the seller's starts
// with (its shard's hash tag, so that every script over them stays in one
// Redis Cluster slot). Only a Layout makes one (Layout.Seller), so a
// seller's key is never built under another seller's or the namespace's
// own prefix.
type Scope struct {
	seller string
	shard  int
	queue  string
	prefix string
}

// Seller is the scope of seller id ("" is the default seller).
func (l Layout) Seller(id string) Scope {
	defaults.Empty(&id, DefaultSeller)
	n := l.ShardOf(id)
	return Scope{seller: id, shard: n, queue: l.Queue(n), prefix: l.SellerPrefix(id)}
}

// ID is the scope's seller.
func (c Scope) ID() string { return c.seller }

// Shard is the seller's shard.
func (c Scope) Shard() int { return c.shard }

// Queue is the asynq queue of the seller's shard.
func (c Scope) Queue() string { return c.queue }

// Key is the key name under the seller's prefix: "<prefix>:<name>".
func (c Scope) Key(name string) string { return c.prefix + ":" + name }

// TaskID is the asynq task id of the seller's event key.
func (c Scope) TaskID(key string) string { return TaskID(c.seller, key) }
