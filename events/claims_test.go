package events_test

import (
	"context"
	"slices"
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

func TestNotePaidKeepsBothWays(t *testing.T) {
	ctx := context.Background()
	store, _, _ := newStore(t)
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
