package guard_test

import (
	"context"
	"testing"
	"time"

	"forstok-accurate-sync/guard"
	"forstok-accurate-sync/internal/testredis"
)

func TestFailedAuthentications(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	g := guard.New(r.Client(t), r.Namespace).WithLimits(3, 5)

	t.Run("an address is blocked after its limit of failures, for the rest of the window", func(t *testing.T) {
		for i := range 3 {
			if wait, err := g.Blocked(ctx, "203.0.113.1"); err != nil || wait != 0 {
				t.Fatalf("before failure %d: wait %v, %v; want none", i+1, wait, err)
			}
			if err := g.Failed(ctx, "203.0.113.1"); err != nil {
				t.Fatal(err)
			}
		}
		wait, err := g.Blocked(ctx, "203.0.113.1")
		if err != nil || wait <= 0 || wait > guard.Window {
			t.Errorf("after 3 failures: wait %v, %v; want up to a minute", wait, err)
		}
	})
	t.Run("another address is not blocked by the first one's failures", func(t *testing.T) {
		if wait, _ := g.Blocked(ctx, "203.0.113.2"); wait != 0 {
			t.Errorf("wait %v; want none", wait)
		}
	})
	t.Run("every address is blocked once all together reach the total", func(t *testing.T) {
		_ = g.Failed(ctx, "203.0.113.3")
		_ = g.Failed(ctx, "203.0.113.4")
		if wait, _ := g.Blocked(ctx, "203.0.113.9"); wait <= 0 {
			t.Errorf("after 5 failures in all, a new address waits %v; want it blocked", wait)
		}
	})
}

func TestRevokedSessions(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	a := guard.New(r.Client(t), r.Namespace)
	b := guard.New(r.Client(t), r.Namespace) // another replica
	if err := a.Revoke(ctx, "nonce-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if revoked, err := b.Revoked(ctx, "nonce-1"); err != nil || !revoked {
		t.Errorf("another replica sees nonce-1 revoked = %v, %v; want true", revoked, err)
	}
	if revoked, _ := b.Revoked(ctx, "nonce-2"); revoked {
		t.Error("a session never signed out is revoked")
	}
}
