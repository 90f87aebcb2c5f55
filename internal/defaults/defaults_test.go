package defaults_test

import (
	"testing"
	"time"

	"forstok-accurate-sync/internal/defaults"
)

func TestUnsetFieldsTakeTheirDefaults(t *testing.T) {
	t.Run("a number that is not positive takes the default, a positive one stays", func(t *testing.T) {
		zero, negative, set := 0, -3*time.Second, 5
		defaults.Positive(&zero, 8)
		defaults.Positive(&negative, time.Minute)
		defaults.Positive(&set, 8)
		if zero != 8 || negative != time.Minute || set != 5 {
			t.Errorf("got %d, %s, %d; want 8, 1m0s, 5", zero, negative, set)
		}
	})
	t.Run("an empty string takes the default, a set one stays", func(t *testing.T) {
		empty, set := "", "toko-a.yaml"
		defaults.Empty(&empty, "ACCURATE_API_TOKEN")
		defaults.Empty(&set, "ACCURATE_API_TOKEN")
		if empty != "ACCURATE_API_TOKEN" || set != "toko-a.yaml" {
			t.Errorf("got %q, %q", empty, set)
		}
	})
	t.Run("no clock is the wall clock, a given one is kept", func(t *testing.T) {
		fixed := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
		if got := defaults.Clock(func() time.Time { return fixed })(); !got.Equal(fixed) {
			t.Errorf("given clock = %s", got)
		}
		if got := defaults.Clock(nil)(); time.Since(got) > time.Minute {
			t.Errorf("wall clock = %s", got)
		}
	})
}
