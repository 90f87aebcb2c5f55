// Package testclock is the tests' one clock moved by hand, safe for the
// goroutines of the component that reads it.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only when Add says.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New is a clock standing at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time (a component's Now func).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
