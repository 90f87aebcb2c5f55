package sandbox

import (
	"fmt"
	"sync"
	"time"
)

// rateSlack shortens the one-second window a little. Request times are taken
// on arrival, after the network and the caller's scheduler have added their
// jitter: a caller pacing itself at exactly RateLimit per second sees two
// requests eight apart arrive a few milliseconds under a second apart about
// half the time. Accurate's own clock has the same problem; a caller honouring
// the limit must not be refused for it, one sending 9 within 0.95 s is.
const rateSlack = 50 * time.Millisecond

// limiter enforces Accurate's per-database limits: at most rate requests
// admitted in any window, and at most maxInFlight at once. Refused requests
// do not count against the window, so a caller that backs off recovers as
// soon as it slows down.
type limiter struct {
	rate, maxInFlight int
	window            time.Duration

	mu       sync.Mutex
	starts   []time.Time // ring of the last rate admission times
	next     int         // the oldest of them, overwritten by the next admission
	inFlight int
	peak     int // the most in flight at once since the last reset
}

func newLimiter(rate, maxInFlight int) *limiter {
	l := &limiter{rate: max(rate, 0), maxInFlight: max(maxInFlight, 0), window: time.Second - rateSlack}
	l.starts = make([]time.Time, l.rate)
	return l
}

// admit lets a request in at now, or says why not: "concurrency" or
// "window". The caller must call release once the request is answered.
func (l *limiter) admit(now time.Time) (release func(), why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxInFlight > 0 && l.inFlight >= l.maxInFlight {
		return nil, "concurrency"
	}
	if l.rate > 0 {
		// The ring holds the last rate admissions; if the oldest is still
		// inside the window, one more would make rate+1.
		oldest := l.starts[l.next]
		if !oldest.IsZero() && now.Sub(oldest) < l.window {
			return nil, "window"
		}
		l.starts[l.next] = now
		l.next = (l.next + 1) % l.rate
	}
	l.inFlight++
	l.peak = max(l.peak, l.inFlight)
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.inFlight--
		})
	}, ""
}

// reset forgets the window and the peak. Requests in flight keep their
// slots until they finish.
func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.starts)
	l.next = 0
	l.peak = l.inFlight
}

// message is the refusal Accurate gives, with the words ("request per
// detik") clients recognise as its rate limit.
func (l *limiter) message(why string) string {
	if why == "concurrency" {
		return fmt.Sprintf("Terlalu banyak request per detik: maksimal %d request bersamaan, silakan coba lagi", l.maxInFlight)
	}
	return fmt.Sprintf("Maksimal %d request per detik, silakan coba lagi", l.rate)
}

// held is how many requests are in flight.
func (l *limiter) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}

// peakHeld is the most requests that were in flight at once since the last
// reset: what a caller's own limiter let through, seen from Accurate's side.
func (l *limiter) peakHeld() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}
