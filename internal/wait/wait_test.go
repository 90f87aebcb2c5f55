package wait_test

import (
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
