package sandbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRateWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	for _, tc := range []struct {
		name     string
		arrivals []time.Time
		refused  []int // indexes refused
	}{
		{"eight at once are admitted and a ninth in the same second is refused",
			[]time.Time{ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(500)}, []int{8}},
		{"a ninth a second after the first eight is admitted",
			[]time.Time{ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(1000)}, nil},
		{"the window slides: a burst of eight late in one second blocks the start of the next",
			[]time.Time{ms(900), ms(900), ms(900), ms(900), ms(900), ms(900), ms(900), ms(900), ms(1100), ms(1900)}, []int{8}},
		{"refused requests do not count against the caller",
			[]time.Time{ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(0), ms(10), ms(20), ms(30), ms(1000)}, []int{8, 9, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(8, 0)
			var got []int
			for i, at := range tc.arrivals {
				release, why := l.admit(at)
				if why != "" {
					got = append(got, i)
					continue
				}
				release()
			}
			if !slices.Equal(got, tc.refused) {
				t.Fatalf("refused %v, want %v", got, tc.refused)
			}
		})
	}

	// A caller honouring 8 per second, its requests arriving a little late
	// or early as networks make them, must never be refused; one sending 9
	// per second must be.
	pace := func(interval time.Duration, jitter func(int) time.Duration) (refused int) {
		l := newLimiter(8, 0)
		for k := range 200 {
			release, why := l.admit(t0.Add(time.Duration(k)*interval + jitter(k)))
			if why != "" {
				refused++
				continue
			}
			release()
		}
		return refused
	}
	// Delays between 0 and 30 ms in an order that makes requests eight apart
	// arrive closer than 125 ms × 8 about half the time.
	jitter := func(k int) time.Duration { return time.Duration((k*7919)%31) * time.Millisecond }
	t.Run("a caller pacing 8 per second with up to 30 ms of jitter is never refused", func(t *testing.T) {
		if n := pace(125*time.Millisecond, jitter); n != 0 {
			t.Fatalf("%d of 200 refused", n)
		}
	})
	t.Run("a caller pacing 8 per second in bursts of 8 each second is never refused", func(t *testing.T) {
		if n := pace(0, func(k int) time.Duration { return time.Duration(k/8) * time.Second }); n != 0 {
			t.Fatalf("%d of 200 refused", n)
		}
	})
	t.Run("a caller pacing 9 per second is refused", func(t *testing.T) {
		if n := pace(time.Second/9, func(int) time.Duration { return 0 }); n == 0 {
			t.Fatal("no request refused")
		}
	})
}

func TestRateLimitOverHTTP(t *testing.T) {
	t.Run("the ninth request in one second gets 429 request per detik, and the next second is open", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		s := start(t, Config{RateLimit: 8, MaxConcurrency: 8, Now: clock})
		paths := []string{"/api/api-token.do", "/accurate/api/sales-invoice/list.do"}
		for i := range 8 {
			if status, e := s.call(http.MethodGet, paths[i%2], nil); status != http.StatusOK {
				t.Fatalf("request %d: HTTP %d %s", i+1, status, e.D)
			}
		}
		resp, err := s.srv.Client().Do(s.request(context.Background(), http.MethodGet, paths[0], nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("9th: HTTP %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		status, e := s.call(http.MethodGet, paths[1], nil)
		if status != http.StatusTooManyRequests || e.S || !containsAll(e.messages(t), "request per detik") {
			t.Fatalf("10th: HTTP %d %s", status, e.D)
		}
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
		if status, e := s.call(http.MethodGet, paths[1], nil); status != http.StatusOK {
			t.Fatalf("a second later: HTTP %d %s", status, e.D)
		}
		if c := s.sb.Calls(); c["rate_limited"] != 2 || c["rate_limited_window"] != 2 {
			t.Errorf("calls %v, want 2 rate_limited", c)
		}
	})

	t.Run("twenty requests at once against a limit of 8 get some 429s and at most 8 answers", func(t *testing.T) {
		at := time.Now()
		s := start(t, Config{RateLimit: 8, MaxConcurrency: 8, Now: func() time.Time { return at }})
		statuses := make(chan int, 20)
		var wg sync.WaitGroup
		for range 20 {
			req := s.request(context.Background(), http.MethodGet, "/accurate/api/sales-invoice/list.do", nil)
			wg.Go(func() {
				resp, err := s.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for st := range statuses {
			count[st]++
		}
		if count[http.StatusOK] < 1 || count[http.StatusOK] > 8 || count[http.StatusOK]+count[http.StatusTooManyRequests] != 20 {
			t.Fatalf("statuses %v, want 1..8 × 200 and the rest 429", count)
		}
		if got := s.sb.Calls()["rate_limited"]; got != count[http.StatusTooManyRequests] {
			t.Errorf("calls[rate_limited] = %d, want %d", got, count[http.StatusTooManyRequests])
		}
	})
}

func TestConcurrencyLimit(t *testing.T) {
	s := start(t, Config{MaxConcurrency: 2, Faults: Faults{Latency: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		req := s.request(ctx, http.MethodGet, "/accurate/api/sales-invoice/list.do", nil)
		wg.Go(func() {
			resp, err := s.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				t.Error("a request held an hour answered")
			} else if !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
		})
	}
	// Wait until both hold their slot.
	for deadline := time.Now().Add(10 * time.Second); s.sb.limiter.held() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two slow requests never arrived")
		}
	}

	t.Run("a third request while two are in flight gets 429 request per detik", func(t *testing.T) {
		status, e := s.call(http.MethodGet, "/api/api-token.do", nil)
		if status != http.StatusTooManyRequests || !containsAll(e.messages(t), "request per detik", "2 request bersamaan") {
			t.Fatalf("HTTP %d %s", status, e.D)
		}
		if c := s.sb.Calls(); c["rate_limited_concurrency"] != 1 {
			t.Errorf("calls %v", c)
		}
	})

	cancel()
	wg.Wait()
	for deadline := time.Now().Add(10 * time.Second); s.sb.limiter.held() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("cancelled requests never gave their slots back")
		}
	}
	t.Run("once they are gone the next request is served", func(t *testing.T) {
		if status, e := s.call(http.MethodGet, "/api/api-token.do", nil); status != http.StatusOK {
			t.Fatalf("HTTP %d %s", status, e.D)
		}
	})
	t.Run("the state reports the two held at once as the peak, and a reset forgets it", func(t *testing.T) {
		if got := s.sb.State().PeakInFlight; got != 2 {
			t.Fatalf("peak_in_flight = %d, want 2", got)
		}
		s.sb.Reset()
		if got := s.sb.State().PeakInFlight; got != 0 {
			t.Fatalf("peak_in_flight after a reset = %d, want 0", got)
		}
	})
}
