package queue_test

import (
	"fmt"
	"strings"
	"testing"

	"forstok-accurate-sync/queue"
)

func TestLayoutPlacesSellers(t *testing.T) {
	t.Run("a seller lands in the same shard in every Layout of the same namespace and shards", func(t *testing.T) {
		a, b := queue.NewLayout("ns", 16), queue.NewLayout("ns", 16)
		bare := queue.Layout{Namespace: "ns", Shards: 16} // not built by NewLayout: its queues are worked out on demand
		for i := range 100 {
			seller := fmt.Sprintf("toko-%d", i)
			if a.ShardOf(seller) != b.ShardOf(seller) || a.ShardOf(seller) != bare.ShardOf(seller) {
				t.Fatalf("seller %s: shard %d, %d and %d in three equal layouts", seller, a.ShardOf(seller), b.ShardOf(seller), bare.ShardOf(seller))
			}
			if a.SellerQueue(seller) != bare.SellerQueue(seller) || a.Seller(seller).Queue() != b.Seller(seller).Queue() {
				t.Fatalf("seller %s: queues %q and %q in equal layouts", seller, a.SellerQueue(seller), bare.SellerQueue(seller))
			}
		}
	})

	t.Run("many sellers use every one of the shards", func(t *testing.T) {
		l := queue.NewLayout("ns", 16)
		used := map[int]int{}
		for i := range 200 {
			n := l.ShardOf(fmt.Sprintf("toko-%d", i))
			if n < 0 || n >= 16 {
				t.Fatalf("shard %d out of 0..15", n)
			}
			used[n]++
		}
		if len(used) != 16 {
			t.Errorf("200 sellers use %d of 16 shards: %v", len(used), used)
		}
	})

	t.Run("the empty seller is the default seller", func(t *testing.T) {
		l := queue.NewLayout("ns", 16)
		if l.ShardOf("") != l.ShardOf(queue.DefaultSeller) || l.Seller("").ID() != queue.DefaultSeller {
			t.Errorf("seller \"\" is in shard %d as %q; the default seller in shard %d", l.ShardOf(""), l.Seller("").ID(), l.ShardOf(queue.DefaultSeller))
		}
	})

	t.Run("one shard keeps the layout before shards: one queue named after the namespace and keys under its tag", func(t *testing.T) {
		for _, shards := range []int{1, 0, -3} {
			l := queue.NewLayout("ns", shards)
			if l.Shards != 1 || len(l.Queues()) != 1 || l.Queue(0) != "ns" || l.ShardOf("toko-a") != 0 {
				t.Errorf("NewLayout(ns, %d): %d shards, queues %v, toko-a in shard %d", shards, l.Shards, l.Queues(), l.ShardOf("toko-a"))
			}
			if got := l.Seller("").Key("x"); got != queue.KeyPrefix("ns")+":x" {
				t.Errorf("the default seller's key x is %q; want %q", got, queue.KeyPrefix("ns")+":x")
			}
			if got := l.Seller("toko-a").Key("x"); got != queue.KeyPrefix("ns")+":s:toko-a:x" {
				t.Errorf("toko-a's key x is %q; want %q", got, queue.KeyPrefix("ns")+":s:toko-a:x")
			}
		}
	})

	t.Run("each shard's queue is a shard queue of the namespace whose tag sits in its own sixteenth of the slots", func(t *testing.T) {
		l := queue.NewLayout("ns", 16)
		seen := map[string]bool{}
		for n, q := range l.Queues() {
			if !queue.IsShardQueue("ns", q) || seen[q] {
				t.Errorf("shard %d's queue %q is not a fresh shard queue of ns", n, q)
			}
			seen[q] = true
			slot := queue.KeySlot(l.ShardPrefix(n) + ":x")
			if lo, hi := n*16384/16, (n+1)*16384/16; slot < lo || slot >= hi {
				t.Errorf("shard %d's keys are in slot %d; want %d..%d", n, slot, lo, hi-1)
			}
		}
	})
}

func TestKeySlotIsRedisClusters(t *testing.T) {
	// Slots as Redis Cluster's documentation of CLUSTER KEYSLOT gives them.
	for _, c := range []struct {
		key  string
		slot int
	}{{"somekey", 11058}, {"foo{hash_tag}", 2515}, {"hash_tag", 2515}} {
		if got := queue.KeySlot(c.key); got != c.slot {
			t.Errorf("KeySlot(%q) = %d; want %d", c.key, got, c.slot)
		}
	}
	t.Run("an empty tag is no tag: the whole key is hashed", func(t *testing.T) {
		if queue.KeySlot("{}a") == queue.KeySlot("{}b") && queue.KeySlot("{}c") == queue.KeySlot("{}a") {
			t.Errorf("keys {}a, {}b, {}c all hash to slot %d: the empty tag was taken as the tag", queue.KeySlot("{}a"))
		}
	})
}

func TestEveryKeyOfASellerSharesItsShardsHashTag(t *testing.T) {
	l := queue.NewLayout("ns", 16)
	q := queue.New(nil, queue.Config{Layout: l}) // keys only: no Redis is asked
	for _, seller := range []string{"", queue.DefaultSeller, "toko-a", "toko-b", "toko-z"} {
		sc := l.Seller(seller)
		st := q.Seller(seller)
		tag := "{" + sc.Queue() + "}"
		keys := []string{sc.Key("fair:held"), st.HolderKey("ev:1"), queue.AsynqKey(sc.Queue(), "pending"), queue.TaskKey(sc.Queue(), sc.TaskID("ev:1"))}
		keys = append(keys, st.AdmitKeys()...)
		keys = append(keys, st.TakeBackKeys("ev:1")...)
		slot := queue.KeySlot(tag)
		for _, k := range keys {
			if i := strings.IndexByte(k, '{'); i < 0 || !strings.HasPrefix(k[i:], tag) {
				t.Errorf("seller %q: key %q does not carry the tag %s", seller, k, tag)
			}
			if got := queue.KeySlot(k); got != slot {
				t.Errorf("seller %q: key %q is in slot %d; its shard's in %d", seller, k, got, slot)
			}
		}
	}
	t.Run("two sellers' keys never share a name", func(t *testing.T) {
		a, b := l.Seller("toko-a").Key("fair:held"), l.Seller("toko-b").Key("fair:held")
		if a == b || l.Seller("toko-a").TaskID("ev:1") == l.Seller("toko-b").TaskID("ev:1") {
			t.Errorf("toko-a and toko-b share key %q or task id %q", a, l.Seller("toko-a").TaskID("ev:1"))
		}
	})
}
