package events_test

import (
	"context"
	"testing"
	"time"

	"forstok-accurate-sync/events"
)

func TestPrune(t *testing.T) {
	ctx := context.Background()

	t.Run("pruning drops the expired index entries of every seller, not only the default one's", func(t *testing.T) {
		now := time.Now()
		clock := now.Add(-3 * time.Hour)
		ns, _, _ := newNamespace(t, func(c *events.Config) {
			c.Retention = time.Hour
			c.Now = func() time.Time { return clock }
		})
		sellers := []string{events.DefaultSeller, "toko-a", "toko-b"}
		for _, id := range sellers {
			if _, err := ns.Seller(id).Accept(ctx, incoming("invoice.created:old")); err != nil {
				t.Fatal(err)
			}
		}
		clock = now
		for _, id := range sellers {
			if _, err := ns.Seller(id).Accept(ctx, incoming("invoice.created:new")); err != nil {
				t.Fatal(err)
			}
		}
		if err := ns.Prune(ctx, []string{"toko-a", "toko-b"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range sellers {
			c, err := ns.Seller(id).Counts(ctx)
			if err != nil || c[events.StateQueued] != 1 {
				t.Errorf("seller %s: queued in its index after the prune = %d, %v; want 1, the event of now", id, c[events.StateQueued], err)
			}
		}
	})
}
