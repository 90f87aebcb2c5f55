package orders_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/orders"
	"forstok-accurate-sync/queue"
)

// newMemory is the order memory of the default seller on a namespace of
// its own, sharded as on a Cluster, and the store it sits beside.
func newMemory(t *testing.T) (*orders.Memory, *events.Store) {
	t.Helper()
	r := testredis.New(t)
	rdb := r.Client(t)
	store := events.New(rdb, events.Config{Namespace: r.Namespace, Shards: queue.DefaultShards}).Seller(events.DefaultSeller)
	return orders.For(rdb, store), store
}

func TestClaimNumber(t *testing.T) {
	ctx := context.Background()

	t.Run("the first event owns a number and keeps it on its own retries", func(t *testing.T) {
		store, _ := newMemory(t)
		for range 3 {
			owner, err := store.ClaimNumber(ctx, "faktur", "INV-1", "invoice.created:1")
			if err != nil || owner != "invoice.created:1" {
				t.Fatalf("ClaimNumber = %q, %v; want the event itself", owner, err)
			}
		}
	})

	t.Run("a second event with the same number is told the owner", func(t *testing.T) {
		store, _ := newMemory(t)
		if _, err := store.ClaimNumber(ctx, "faktur", "INV-1", "invoice.created:1"); err != nil {
			t.Fatal(err)
		}
		owner, err := store.ClaimNumber(ctx, "faktur", "INV-1", "invoice.created:2")
		if err != nil || owner != "invoice.created:1" {
			t.Fatalf("ClaimNumber = %q, %v; want invoice.created:1", owner, err)
		}
		if owner, _ := store.ClaimNumber(ctx, "penerimaan", "INV-1", "invoice.created:2"); owner != "invoice.created:2" {
			t.Errorf("a number of another kind = %q; want its own claim", owner)
		}
	})

	t.Run("of twenty events racing for one number exactly one owns it", func(t *testing.T) {
		store, _ := newMemory(t)
		var wg sync.WaitGroup
		owners := make(chan string, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := "invoice.created:" + string(rune('a'+i))
				owner, err := store.ClaimNumber(ctx, "faktur", "INV-9", key)
				if err != nil {
					t.Error(err)
				}
				if owner == key {
					owners <- key
				}
			}()
		}
		wg.Wait()
		close(owners)
		if n := len(owners); n != 1 {
			t.Errorf("%d events own INV-9; want 1", n)
		}
	})
}

func TestNotePaidKeepsBothWays(t *testing.T) {
	ctx := context.Background()
	store, _ := newMemory(t)
	if err := store.NotePaid(ctx, "FP-1", []string{"SI-1", "SI-2"}); err != nil {
		t.Fatal(err)
	}
	t.Run("each faktur knows its penerimaan", func(t *testing.T) {
		for _, f := range []string{"SI-1", "SI-2"} {
			if got, err := store.PaidBy(ctx, f); err != nil || !slices.Equal(got, []string{"FP-1"}) {
				t.Errorf("PaidBy(%s) = %v, %v", f, got, err)
			}
		}
	})
	t.Run("the penerimaan knows every faktur it settles", func(t *testing.T) {
		got, ok, err := store.Settles(ctx, "FP-1")
		slices.Sort(got)
		if err != nil || !ok || !slices.Equal(got, []string{"SI-1", "SI-2"}) {
			t.Errorf("Settles = %v, %v, %v", got, ok, err)
		}
	})
	t.Run("noting it again replaces what it settles", func(t *testing.T) {
		if err := store.NotePaid(ctx, "FP-1", []string{"SI-1"}); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := store.Settles(ctx, "FP-1"); !slices.Equal(got, []string{"SI-1"}) {
			t.Errorf("Settles = %v", got)
		}
	})
	t.Run("a penerimaan never noted has no record", func(t *testing.T) {
		if got, ok, err := store.Settles(ctx, "FP-2"); err != nil || ok || len(got) != 0 {
			t.Errorf("Settles = %v, %v, %v", got, ok, err)
		}
	})
}

func TestEachSellerHasItsOwnMemory(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	evs := events.New(rdb, events.Config{Namespace: r.Namespace, Shards: queue.DefaultShards})
	def, toko := orders.For(rdb, evs.Seller(events.DefaultSeller)), orders.For(rdb, evs.Seller("toko-b"))
	t.Run("a number claimed by one seller is free for another", func(t *testing.T) {
		if owner, err := def.ClaimNumber(ctx, "faktur", "INV-1", "invoice.created:1"); err != nil || owner != "invoice.created:1" {
			t.Fatalf("default's claim = %q, %v", owner, err)
		}
		if owner, err := toko.ClaimNumber(ctx, "faktur", "INV-1", "invoice.created:9"); err != nil || owner != "invoice.created:9" {
			t.Errorf("toko-b's claim of the same number = %q, %v; want its own", owner, err)
		}
	})
	t.Run("a void of one seller's invoice is not another's", func(t *testing.T) {
		if err := def.MarkVoided(ctx, 7, "invoice.voided:7"); err != nil {
			t.Fatal(err)
		}
		if _, voided, err := toko.VoidOf(ctx, 7); err != nil || voided {
			t.Errorf("toko-b's invoice 7 voided = %v, %v; want not", voided, err)
		}
		if by, voided, err := def.VoidOf(ctx, 7); err != nil || !voided || by != "invoice.voided:7" {
			t.Errorf("default's invoice 7 = %q, %v, %v; want voided by invoice.voided:7", by, voided, err)
		}
	})
}

func TestFakturTotals(t *testing.T) {
	ctx := context.Background()
	t.Run("faktur totals are remembered for payments", func(t *testing.T) {
		store, _ := newMemory(t)
		if _, ok, err := store.FakturTotal(ctx, "X1"); ok || err != nil {
			t.Fatalf("unknown faktur: ok=%v err=%v", ok, err)
		}
		_ = store.RememberFaktur(ctx, "X1", 23300000)
		if v, ok, err := store.FakturTotal(ctx, "X1"); !ok || err != nil || v != 23300000 {
			t.Errorf("FakturTotal = %d %v %v", v, ok, err)
		}
	})
	t.Run("a faktur forgotten after a retur or a void has no total any more", func(t *testing.T) {
		store, _ := newMemory(t)
		_ = store.RememberFaktur(ctx, "X2", 100)
		if err := store.ForgetFaktur(ctx, "X2"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := store.FakturTotal(ctx, "X2"); ok || err != nil {
			t.Errorf("after ForgetFaktur: ok=%v err=%v; want no total", ok, err)
		}
	})
}
