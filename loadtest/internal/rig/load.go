package rig

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Load is a closed-loop run: conns senders, each posting the next delivery
// as soon as its previous one is answered, until the time is up or the
// deliveries run out.
type Load struct {
	Client *Client
	// URLs are the webhook endpoints (one per replica); delivery i goes to
	// URLs[i % len(URLs)].
	URLs       []string
	Conns      int
	Deliveries []Delivery
	// Wrap lets the run reuse deliveries (a target that does not deduplicate);
	// otherwise it stops when they run out.
	Wrap bool
	// Get sends GET to each URL instead of posting deliveries (a health
	// check, the ceiling of the service's own HTTP): a 200 counts as
	// accepted. Deliveries still count the requests, so Wrap them.
	Get bool
	// Rate, when above 0, paces the run (open loop): delivery k of the run
	// is not sent before k/Rate seconds after its start, however fast the
	// answers come. Conns must be enough to keep up; a run that fell behind
	// shows in Result.Elapsed.
	Rate float64
}

// Result is what one run measured.
type Result struct {
	Elapsed   time.Duration
	Sent      int
	Accepted  int         // 202
	Statuses  map[int]int // every status other than 202
	Errors    int         // no answer at all
	FirstErr  string
	Latencies []time.Duration // sorted
	RanOut    bool            // stopped because the deliveries ran out
}

// Run sends for d (or until the deliveries run out) and measures; next is
// where in Deliveries it starts, and it returns where it stopped.
func (l *Load) Run(ctx context.Context, d time.Duration, next int) (Result, int) {
	var (
		idx      atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		res      = Result{Statuses: map[int]int{}}
		wg       sync.WaitGroup
		ranOut   atomic.Bool
		deadline = time.Now().Add(d)
	)
	idx.Store(int64(next))
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(10*time.Second))
	defer cancel()
	start := time.Now()
	for range l.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			statuses := map[int]int{}
			errs, firstErr := 0, ""
			for !stop.Load() {
				i := int(idx.Add(1) - 1)
				if i >= len(l.Deliveries) {
					if !l.Wrap {
						ranOut.Store(true)
						stop.Store(true)
						break
					}
					i %= len(l.Deliveries)
				}
				if l.Rate > 0 {
					due := start.Add(time.Duration(float64(i-next) / l.Rate * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
				}
				t0 := time.Now()
				d := l.Deliveries[i]
				url := l.URLs[i%len(l.URLs)]
				if d.Seller != "" {
					url += "/" + d.Seller
				}
				var status int
				var err error
				if l.Get {
					status, err = l.Client.Get(ctx, url)
				} else {
					status, err = l.Client.Post(ctx, url, d)
				}
				t1 := time.Now()
				if t1.After(deadline) {
					stop.Store(true)
				}
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				statuses[status]++
				lat = append(lat, t1.Sub(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			res.Latencies = append(res.Latencies, lat...)
			for s, n := range statuses {
				if s == http.StatusAccepted || l.Get && s == http.StatusOK {
					res.Accepted += n
				} else {
					res.Statuses[s] += n
				}
				res.Sent += n
			}
			res.Errors += errs
			res.Sent += errs
			if res.FirstErr == "" {
				res.FirstErr = firstErr
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.RanOut = ranOut.Load()
	slices.Sort(res.Latencies)
	stopped := int(idx.Load())
	if !l.Wrap {
		stopped = min(stopped, len(l.Deliveries))
	}
	return res, stopped
}

// Add is r and o as one run: their times, counts and latencies together.
func (r Result) Add(o Result) Result {
	out := Result{
		Elapsed: r.Elapsed + o.Elapsed, Sent: r.Sent + o.Sent, Accepted: r.Accepted + o.Accepted,
		Statuses: map[int]int{}, Errors: r.Errors + o.Errors, FirstErr: r.FirstErr, RanOut: r.RanOut || o.RanOut,
		Latencies: append(slices.Clone(r.Latencies), o.Latencies...),
	}
	if out.FirstErr == "" {
		out.FirstErr = o.FirstErr
	}
	for _, m := range []map[int]int{r.Statuses, o.Statuses} {
		for status, n := range m {
			out.Statuses[status] += n
		}
	}
	slices.Sort(out.Latencies)
	return out
}

// PerSecond is accepted answers per second.
func (r Result) PerSecond() float64 { return float64(r.Accepted) / r.Elapsed.Seconds() }

// Quantile of the latencies, q in [0, 1].
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// Others lists the non-202 answers, "none" when there were none.
func (r Result) Others() string {
	if len(r.Statuses) == 0 && r.Errors == 0 {
		return "none"
	}
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", r.Statuses[c], c))
	}
	if r.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d transport errors (first: %s)", r.Errors, r.FirstErr))
	}
	return strings.Join(parts, ", ")
}
