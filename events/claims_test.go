package events_test

import (
	"context"
	"sync"
	"testing"
)

func TestClaimNumber(t *testing.T) {
	ctx := context.Background()

	t.Run("the first event owns a number and keeps it on its own retries", func(t *testing.T) {
		store, _, _ := newStore(t)
		for range 3 {
			owner, err := store.ClaimNumber(ctx, "faktur", "INV-1", "invoice.created:1")
			if err != nil || owner != "invoice.created:1" {
				t.Fatalf("ClaimNumber = %q, %v; want the event itself", owner, err)
			}
		}
	})

	t.Run("a second event with the same number is told the owner", func(t *testing.T) {
		store, _, _ := newStore(t)
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
		store, _, _ := newStore(t)
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
