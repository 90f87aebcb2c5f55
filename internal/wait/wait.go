// Package wait is the module's one way to wait: Sleep for a pause that a
// cancelled context cuts short, Every for work done on a beat until the
// context ends, and, for the tests, Until for a condition checked every so
// often until it holds or a time is up, never a bare sleep.
package wait

import (
	"context"
	"time"
)

// Until checks cond every interval until it holds or within has passed, and
// reports whether it held.
func Until(within, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
}

// Sleep waits d, or less when ctx ends first, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Every calls fn every d until ctx ends; the first call is after d.
func Every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
