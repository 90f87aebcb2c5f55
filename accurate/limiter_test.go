package accurate

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
)

// newTestLimiters gives n limiters sharing one Redis and one key prefix, as
// n replicas of the service would.
func newTestLimiters(t *testing.T, n, perSecond, maxInFlight int) []*RedisLimiter {
	t.Helper()
	r := testredis.New(t)
	prefix := events.LimiterPrefix(r.Namespace) // deleted with the namespace when the test ends
	var out []*RedisLimiter
	for range n {
		out = append(out, NewRedisLimiter(r.Client(t), prefix, perSecond, maxInFlight))
	}
	return out
}

func TestSemaphoreHoldsAcrossReplicas(t *testing.T) {
	const maxInFlight = 4
	limiters := newTestLimiters(t, 3, 1000, maxInFlight)
	var inFlight, peak atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for g := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := limiters[g%len(limiters)]
			for range 5 {
				release, err := l.Acquire(context.Background())
				if err != nil {
					errs <- err
					return
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				// Hold until the limit has been seen full (or a while has
				// passed), so a loaded machine cannot hide the limit's reach.
				for deadline := time.Now().Add(2 * time.Second); peak.Load() < maxInFlight && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(2 * time.Millisecond)
				inFlight.Add(-1)
				release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if p := peak.Load(); p != maxInFlight {
		t.Fatalf("at most %d held at once, want exactly the limit %d", p, maxInFlight)
	}
}

func TestRateHoldsAcrossReplicas(t *testing.T) {
	const perSecond = 10
	limiters := newTestLimiters(t, 3, perSecond, 100)
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	for g := range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := limiters[g%len(limiters)].Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			release()
		}()
	}
	wg.Wait()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	// perSecond+1 consecutive starts must span more than a second.
	for i := 0; i+perSecond < len(starts); i++ {
		if span := starts[i+perSecond].Sub(starts[i]); span <= time.Second {
			t.Fatalf("starts %d..%d fell within %v: more than %d in one second", i, i+perSecond, span, perSecond)
		}
	}
}

func TestSlots(t *testing.T) {
	t.Run("a released slot is free at once", func(t *testing.T) {
		l := newTestLimiters(t, 1, 1000, 1)[0]
		release, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		release()
		release() // a second release is harmless
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		again, err := l.Acquire(ctx)
		if err != nil {
			t.Fatalf("the released slot was not free: %v", err)
		}
		again()
	})
	t.Run("waiting for a held slot gives up with ctx", func(t *testing.T) {
		l := newTestLimiters(t, 1, 1000, 1)[0]
		release, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
	})
	t.Run("a slot never released frees itself after its lease", func(t *testing.T) {
		ls := newTestLimiters(t, 2, 1000, 1)
		crashed, survivor := ls[0], ls[1]
		crashed.Lease, survivor.Lease = 300*time.Millisecond, 300*time.Millisecond
		if _, err := crashed.Acquire(context.Background()); err != nil { // never released
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		release, err := survivor.Acquire(ctx)
		if err != nil {
			t.Fatalf("the crashed replica's slot never freed: %v", err)
		}
		release()
	})
	t.Run("the wait is reported", func(t *testing.T) {
		l := newTestLimiters(t, 1, 1000, 1)[0]
		var reported atomic.Int32
		l.OnWait = func(time.Duration) { reported.Add(1) }
		for range 3 {
			release, err := l.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			release()
		}
		if n := reported.Load(); n != 3 {
			t.Fatalf("OnWait called %d times, want 3", n)
		}
	})
}
