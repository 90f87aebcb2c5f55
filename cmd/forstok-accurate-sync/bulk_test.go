package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/queue"
	"forstok-accurate-sync/sellers"
)

// backlogGate stands between the service and the sandbox and holds each
// bulk-save.do and list.do until the backlog is staged and every event not
// yet ended waits on the service's batcher. So a test's batches do not
// depend on how fast a loaded machine runs the workers: the first request
// carries whoever came within the batcher's linger, every later one all
// that was queued meanwhile, and a request of n documents is one bulk.
type backlogGate struct {
	w      *world
	app    atomic.Pointer[app]
	staged atomic.Bool
}

// gatedWorld is a world of a backlog of n events whose Accurate is reached
// through a backlogGate; call started after start, and staged once every
// webhook is in. Its sandbox keeps Accurate's 8 in flight but not its 8 a
// second: the service paces its requests, but the gate lets the ones it
// held go at once. The seller's share takes the whole backlog, so that all
// of it can wait at once.
func gatedWorld(t *testing.T, n int) (*world, *backlogGate) {
	w := newWorld(t, func(c *sandbox.Config) { c.RateLimit = 0 })
	g := w.gateBatches()
	if n > queue.DefaultShare {
		w.extraEnv["SELLER_SHARE"] = fmt.Sprint(n)
		w.extraEnv["WORKER_CONCURRENCY"] = fmt.Sprint(2 * n)
	}
	return w, g
}

func (w *world) gateBatches() *backlogGate {
	g := &backlogGate{w: w}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/bulk-save.do") || strings.HasSuffix(r.URL.Path, "/list.do") {
			g.hold(r.Context())
		}
		w.sandbox.ServeHTTP(rw, r)
	}))
	w.t.Cleanup(srv.Close)
	if w.extraEnv == nil {
		w.extraEnv = map[string]string{}
	}
	w.extraEnv["ACCURATE_HOST"] = srv.URL
	return g
}

func (g *backlogGate) started() { g.app.Store(g.w.app) }

func (g *backlogGate) setStaged() { g.staged.Store(true) }

// hold waits until everything waits, for at most 20 s (the client gives a
// request 30): past that the test's bounds tell.
func (g *backlogGate) hold(ctx context.Context) {
	for end := time.Now().Add(20 * time.Second); !g.allWait(ctx); {
		if ctx.Err() != nil || time.Now().After(end) {
			g.w.t.Logf("the gate let a request go before everything waited (%v)", ctx.Err())
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (g *backlogGate) allWait(ctx context.Context) bool {
	a := g.app.Load()
	if a == nil || !g.staged.Load() {
		return false
	}
	counts, err := a.events.Seller(events.DefaultSeller).Counts(ctx)
	if err != nil {
		return false
	}
	var open int64
	for _, st := range []string{events.StateQueued, events.StateProcessing, events.StateRetrying} {
		open += counts[st]
	}
	p, ok := a.fleet.Part(sellers.DefaultID)
	if !ok {
		return false
	}
	b, ok := p.Worker.Accurate.(*accurate.Batcher)
	return ok && int64(b.Waiting()) >= open
}

// mostRequests is how many requests n documents of one kind cost at most
// when all of them wait before the first answer: the first request carries
// at least one, the rest go in full bulks.
func mostRequests(n int) int { return 1 + (n-1+accurate.MaxBulk-1)/accurate.MaxBulk }

// sendAll delivers the bodies from a few senders at once, as Forstok does
// after a sale, so that the service has a backlog to drain.
func (w *world) sendAll(bodies [][]byte) {
	w.t.Helper()
	var wg sync.WaitGroup
	next := make(chan []byte)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if status := w.send(b); status != http.StatusAccepted {
					w.t.Errorf("webhook answered %d; want 202", status)
				}
			}
		}()
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
}

// invalidInvoice is generatedInvoice(n) selling an item Accurate does not
// have, named after n.
func invalidInvoice(n int) []byte {
	return bytes.Replace(generatedInvoice(n), []byte(`"sku":"KAOS-HTM-L"`), []byte(fmt.Sprintf(`"sku":"NO-SUCH-%d"`, n)), 1)
}

func TestBacklogPostsInBulk(t *testing.T) {
	const n = 400
	w, gate := gatedWorld(t, n)
	w.start()
	gate.started()
	bodies := make([][]byte, n)
	keys := make([]string, n)
	invalid := map[string]int{}
	for i := range n {
		keys[i] = invoiceKey(3000 + i)
		bodies[i] = generatedInvoice(3000 + i)
		if i%20 == 13 { // 5 %
			bodies[i] = invalidInvoice(3000 + i)
			invalid[keys[i]] = 3000 + i
		}
	}
	w.sendAll(bodies)
	gate.setStaged()
	states := w.waitFor(keys, 90*time.Second)

	t.Run("every valid invoice is synced and each invalid one failed with its own item named", func(t *testing.T) {
		for _, k := range keys {
			i, bad := invalid[k]
			switch {
			case !bad && states[k] != "synced":
				t.Errorf("%s ended %q: %v", k, states[k], w.event(k)["last_error"])
			case bad && states[k] != "failed":
				t.Errorf("%s (invalid) ended %q; want failed", k, states[k])
			case bad:
				reason, _ := w.event(k)["last_error"].(string)
				if !strings.Contains(reason, fmt.Sprintf("NO-SUCH-%d", i)) {
					t.Errorf("%s failed with %q; want its own item NO-SUCH-%d named", k, reason, i)
				}
			}
		}
		if got, want := len(w.sandbox.Invoices()), n-len(invalid); got != want {
			t.Errorf("Accurate holds %d fakturs; want %d", got, want)
		}
	})
	t.Run("the fakturs went in bulk, many to a request", func(t *testing.T) {
		// The gate holds the first bulk-save.do until all n saves wait:
		// the rest then go in full bulks. (Ungated, how many join a bulk
		// depends on how fast the workers reach it.)
		calls := w.sandbox.Calls()
		if most := mostRequests(n); calls["sales-invoice/save"] != 0 || calls["sales-invoice/bulk-save"] > most {
			t.Errorf("calls %v; want no save.do and at most %d bulk-save.do for %d fakturs", calls, most, n)
		}
	})
}

func TestBulkFaultsLeaveExactlyOneDocumentPerEvent(t *testing.T) {
	const n = 300
	w := newWorld(t)
	w.sandbox.SetFaults(sandbox.Faults{ErrorRate: 0.3, LoseRate: 0.1})
	w.start()
	var bodies [][]byte
	var keys []string
	for i := range n {
		bodies = append(bodies, generatedInvoice(4000+i), generatedPayment(4000+i))
		keys = append(keys, invoiceKey(4000+i), paymentKey(4000+i))
	}
	w.sendAll(bodies)
	states := w.waitFor(keys, 3*time.Minute)
	if c := count(states); c["synced"] != len(keys) {
		t.Fatalf("with 30%% 5xx and 10%% lost answers: %v; want all %d synced", c, len(keys))
	}
	t.Run("Accurate holds one faktur per invoice and one penerimaan per payment", func(t *testing.T) {
		fakturs, receipts := map[string]int{}, map[string]int{}
		for _, inv := range w.sandbox.Invoices() {
			fakturs[inv.Number]++
		}
		for _, r := range w.sandbox.Receipts() {
			receipts[r.Number]++
		}
		if len(fakturs) != n || len(receipts) != n {
			t.Errorf("%d fakturs and %d penerimaan; want %d each", len(fakturs), len(receipts), n)
		}
		for number, c := range fakturs {
			if c != 1 {
				t.Errorf("faktur %s is there %d times", number, c)
			}
		}
		for number, c := range receipts {
			if c != 1 {
				t.Errorf("penerimaan %s is there %d times", number, c)
			}
		}
	})
	t.Run("every faktur is paid in full, once", func(t *testing.T) {
		for _, inv := range w.sandbox.Invoices() {
			if inv.PrimeOwing != 0 {
				t.Errorf("faktur %s still owes %s", inv.Number, inv.PrimeOwing)
			}
		}
	})
}
