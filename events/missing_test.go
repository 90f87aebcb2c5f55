package events_test

import (
	"maps"
	"testing"
	"time"
)

func TestWhatAccurateLacksIsRememberedBriefly(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	store, ctx := newStoreAt(t, &now), t.Context()
	remembered := func() map[string]bool {
		t.Helper()
		got, err := store.RememberedMissing(ctx, "item", []string{"SKU-A", "SKU-B", "SKU-C"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := store.NoteMissing(ctx, "item", []string{"SKU-A", "SKU-B"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Run("what was noted is remembered, and only for its kind", func(t *testing.T) {
		if got := remembered(); !maps.Equal(got, map[string]bool{"SKU-A": true, "SKU-B": true}) {
			t.Errorf("remembered %v", got)
		}
		if got, _ := store.RememberedMissing(ctx, "customer", []string{"SKU-A"}); len(got) != 0 {
			t.Errorf("a customer of the same number is remembered: %v", got)
		}
	})
	t.Run("one created is forgotten at once", func(t *testing.T) {
		if err := store.ForgetMissing(ctx, "item", []string{"SKU-B"}); err != nil {
			t.Fatal(err)
		}
		if got := remembered(); !maps.Equal(got, map[string]bool{"SKU-A": true}) {
			t.Errorf("remembered %v", got)
		}
	})
	t.Run("the memory lapses after its time", func(t *testing.T) {
		now = now.Add(time.Minute + time.Millisecond)
		if got := remembered(); len(got) != 0 {
			t.Errorf("remembered %v after a minute", got)
		}
	})
	t.Run("a replay forgets everything", func(t *testing.T) {
		accept(t, store, "invoice.created:1")
		if err := store.NoteMissing(ctx, "item", []string{"SKU-C"}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := store.Replay(ctx, "invoice.created:1"); err != nil {
			t.Fatal(err)
		}
		if got := remembered(); len(got) != 0 {
			t.Errorf("remembered %v after a replay", got)
		}
	})
}
