package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/wait"
)

// TestOneSellersBacklogHoldsBackNoOtherSeller: toko-a has a backlog its
// slow Accurate takes minutes to drain (one request a second, 300 ms each);
// toko-b's events, sent after it, sync while nearly all of toko-a's still
// wait. Without the fair scheduling the workers would all be taken by
// toko-a's events, waiting on its limit, and toko-b's would queue behind
// them.
func TestOneSellersBacklogHoldsBackNoOtherSeller(t *testing.T) {
	oneSellersBacklogHoldsBackNoOtherSeller(t, newFleetWorld(t))
}

func oneSellersBacklogHoldsBackNoOtherSeller(t *testing.T, w *fleetWorld) {
	const backlog, others = 200, 20
	db := func(token string, latency time.Duration) sandbox.Config {
		return sandbox.Config{APIToken: token, SignatureSecret: testSigSecret, Seed: sandbox.DefaultSeed(), RateLimit: 8, MaxConcurrency: 8,
			Faults: sandbox.Faults{Latency: latency}}
	}
	w.dbs = sandbox.NewMulti(map[string]sandbox.Config{"a": db("token-a", 300*time.Millisecond), "b": db("token-b", 0)})
	srv := httptest.NewServer(w.dbs)
	t.Cleanup(srv.Close)
	w.acc = srv.URL
	w.env["SELLER_SHARE"] = "4"
	w.env["WORKER_CONCURRENCY"] = "16"
	slowA := strings.Replace(w.sellerFile("A"), "  host: "+w.acc+"\n", "  host: "+w.acc+"\n  rate_limit: 1\n  max_concurrency: 1\n", 1)
	w.write("toko-a", slowA)
	w.write("toko-b", w.sellerFile("B"))
	w.start()
	ctx := context.Background()

	send := func(seller, secret string, from, n int) {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		bad := 0
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					url := w.url + "/webhooks/forstok/" + seller
					status, _, err := postWebhook(ctx, http.DefaultClient, url, secret, newMessageID("fair"), generatedInvoice(i))
					if err != nil || status != http.StatusAccepted {
						mu.Lock()
						bad++
						mu.Unlock()
					}
				}
			}()
		}
		for i := from; i < from+n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		if bad > 0 {
			t.Fatalf("%d of %s's webhooks were not accepted", bad, seller)
		}
	}
	counts := func(seller string) map[string]int64 {
		c, err := w.events.Seller(seller).Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	send("toko-a", testWebhookSecret, 1, backlog)
	if f, err := w.events.Seller("toko-a").Queue().Fairness(ctx); err != nil || f.Released > 4 {
		t.Fatalf("toko-a's share = %+v, %v; want at most 4 released", f, err)
	}

	t.Run("the sellers' list shows the first seller's events released and held", func(t *testing.T) {
		a := w.firstOfTwoSellers(t)
		released, _ := a["released"].(float64)
		held, _ := a["held"].(float64)
		if a["id"] != "toko-a" || released < 1 || released > 4 || held < backlog/2 {
			t.Errorf("toko-a = %v; want 1 to 4 released and most of its %d held", a, backlog)
		}
	})

	t.Run("another seller's events sync while the first seller's backlog still waits", func(t *testing.T) {
		send("toko-b", otherWebhookSecret, 1, others)
		if !wait.Until(30*time.Second, 50*time.Millisecond, func() bool { return counts("toko-b")[events.StateSynced] == others }) {
			t.Fatalf("toko-b's events: %v; want all %d synced", counts("toko-b"), others)
		}
		if done := counts("toko-a")[events.StateSynced]; done > backlog/4 {
			t.Errorf("toko-a synced %d of %d before toko-b's %d were done; want toko-b not to wait for toko-a's backlog (this test is void if toko-a drains that fast)",
				done, backlog, others)
		}
		if n := len(w.dbs.Database("b").Invoices()); n != others {
			t.Errorf("database b holds %d fakturs; want %d", n, others)
		}
	})

	t.Run("the held backlog ends synced, every event once", func(t *testing.T) {
		// toko-a's Accurate gets fast: its file's new version lifts its limit.
		w.dbs.Database("a").SetFaults(sandbox.Faults{})
		w.write("toko-a", w.sellerFile("A"))
		if !wait.Until(120*time.Second, 100*time.Millisecond, func() bool { return counts("toko-a")[events.StateSynced] == backlog }) {
			t.Fatalf("toko-a's events: %v; want all %d synced", counts("toko-a"), backlog)
		}
		invoices := w.dbs.Database("a").Invoices()
		numbers := map[string]bool{}
		for _, inv := range invoices {
			numbers[inv.Number] = true
		}
		if len(invoices) != backlog || len(numbers) != backlog {
			t.Errorf("database a holds %d fakturs, %d numbers; want %d, each once", len(invoices), len(numbers), backlog)
		}
		if f, err := w.events.Seller("toko-a").Queue().Fairness(ctx); err != nil || f.Held != 0 {
			t.Errorf("toko-a's share after the drain = %+v, %v; want nothing held", f, err)
		}
	})
}
