package events_test

import (
	"context"
	"strings"
	"testing"

	"forstok-accurate-sync/events"
)

func TestAFailureIsKeptOnlyWhileTheEventIsFailed(t *testing.T) {
	ctx := context.Background()
	store, _, _ := newStore(t)
	want := events.Failure{Kind: events.FailAccurate, Record: "item GHOST-1", AccurateMessage: "Barang \"GHOST-1\" tidak ditemukan", Hint: "Create it in Accurate"}
	fail := func(t *testing.T, key string, f events.Failure) {
		t.Helper()
		if _, err := store.Begin(ctx, incoming(key)); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, key, events.Result{State: events.StateFailed, Error: "Accurate refused faktur X", Failure: &f}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(t *testing.T, key string) events.Event {
		t.Helper()
		ev, err := store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}

	t.Run("a failed event reads back the failure the worker recorded", func(t *testing.T) {
		fail(t, "invoice.created:11", want)
		if got := get(t, "invoice.created:11").Failure; got == nil || *got != want {
			t.Errorf("failure %+v; want %+v", got, want)
		}
	})
	t.Run("the same event synced after a replay carries no failure", func(t *testing.T) {
		if _, err := store.Begin(ctx, incoming("invoice.created:11")); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, "invoice.created:11", events.Result{State: events.StateSynced, AccurateNumber: "X"}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, "invoice.created:11"); got.Failure != nil {
			t.Errorf("synced event keeps failure %+v", got.Failure)
		}
	})
	t.Run("a failed event voided before it posted carries no failure", func(t *testing.T) {
		fail(t, "invoice.created:12", want)
		if _, err := store.VoidUnposted(ctx, "invoice.created:12", "invoice.voided:12"); err != nil {
			t.Fatal(err)
		}
		if got := get(t, "invoice.created:12"); got.State != events.StateVoided || got.Failure != nil {
			t.Errorf("%s with failure %+v; want voided without one", got.State, got.Failure)
		}
	})
	t.Run("a huge hint is cut as last_error is", func(t *testing.T) {
		huge := want
		huge.Hint = strings.Repeat("x", 1<<20)
		fail(t, "invoice.created:13", huge)
		if got := get(t, "invoice.created:13").Failure; got == nil || len(got.Hint) > events.MaxNoteBytes || !strings.Contains(got.Hint, "cut") {
			t.Errorf("hint kept at %d bytes; want it cut to %d", len(got.Hint), events.MaxNoteBytes)
		}
	})
}
