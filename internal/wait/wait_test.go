package wait_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"forstok-accurate-sync/internal/wait"
)

func TestUntil(t *testing.T) {
	t.Run("a condition that comes true is waited for", func(t *testing.T) {
		start := time.Now()
		if !wait.Until(time.Second, time.Millisecond, func() bool { return time.Since(start) > 20*time.Millisecond }) {
			t.Error("Until gave up on a condition that came true")
		}
	})
	t.Run("a condition that never holds is given up after its time", func(t *testing.T) {
		start := time.Now()
		if wait.Until(30*time.Millisecond, time.Millisecond, func() bool { return false }) {
			t.Error("Until reported a false condition true")
		}
		if took := time.Since(start); took < 30*time.Millisecond {
			t.Errorf("gave up after %s; want the whole 30ms", took)
		}
	})
}

func TestSleep(t *testing.T) {
	t.Run("a sleep runs its course when nothing cancels it", func(t *testing.T) {
		start := time.Now()
		if err := wait.Sleep(context.Background(), 20*time.Millisecond); err != nil {
			t.Fatalf("Sleep: %v", err)
		}
		if took := time.Since(start); took < 20*time.Millisecond {
			t.Errorf("slept %s; want at least 20ms", took)
		}
	})
	t.Run("a cancelled context cuts the sleep short with its error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := wait.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep on a cancelled context = %v; want context.Canceled", err)
		}
	})
}

func TestEvery(t *testing.T) {
	t.Run("fn is called on every beat until the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := make(chan struct{}, 10)
		done := make(chan struct{})
		go func() {
			defer close(done)
			wait.Every(ctx, time.Millisecond, func() { calls <- struct{}{} })
		}()
		for range 3 {
			<-calls
		}
		cancel()
		<-done
	})
	t.Run("an ended context stops it before any call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		wait.Every(ctx, time.Hour, func() { called = true })
		if called {
			t.Error("fn was called after the context ended")
		}
	})
}
