// Package wait is the tests' one way to wait for what they assert: a
// condition checked every so often until it holds or a time is up, never a
// bare sleep.
package wait

import "time"

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
