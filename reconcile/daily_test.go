package reconcile_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testclock"
	"forstok-accurate-sync/metrics"
	"forstok-accurate-sync/reconcile"
)

func TestParseAt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want reconcile.At
		bad  bool
	}{
		{in: "", want: reconcile.At{Hour: 6}},
		{in: "06:00", want: reconcile.At{Hour: 6}},
		{in: "23:59", want: reconcile.At{Hour: 23, Minute: 59}},
		{in: "00:00", want: reconcile.At{}},
		{in: "off", want: reconcile.At{Off: true}},
		{in: "OFF", want: reconcile.At{Off: true}},
		{in: "6:00", bad: true},
		{in: "24:00", bad: true},
		{in: "06:60", bad: true},
		{in: "0600", bad: true},
		{in: "06:00:00", bad: true},
		{in: "-1:00", bad: true},
		{in: "never", bad: true},
	} {
		t.Run("RECONCILE_AT="+tc.in, func(t *testing.T) {
			got, err := reconcile.ParseAt(tc.in)
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "HH:MM") {
					t.Fatalf("%q taken as %v (err %v)", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDueDay(t *testing.T) {
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	at := reconcile.At{Hour: 6}
	t.Run("before the time of day in the seller's zone nothing is due", func(t *testing.T) {
		// 05:59 in Jakarta is 22:59 UTC the day before.
		if day, ok := at.Due(time.Date(2026, 12, 1, 22, 59, 0, 0, time.UTC), jakarta); ok {
			t.Errorf("due %s", day)
		}
	})
	t.Run("from the time of day on the seller's previous day is due", func(t *testing.T) {
		if day, ok := at.Due(time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC), jakarta); !ok || day != "2026-12-01" {
			t.Errorf("due %s %v, want 2026-12-01", day, ok)
		}
	})
	t.Run("off is never due", func(t *testing.T) {
		if _, ok := (reconcile.At{Off: true}).Due(time.Now(), jakarta); ok {
			t.Error("due")
		}
	})
}

// reconciles is the wiring's reconciliations for the world's one seller.
type reconciles struct {
	w     *world
	r     *reconcile.Reconciler
	calls atomic.Int32
}

func (x *reconciles) Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error) {
	x.calls.Add(1)
	return x.r.Report(ctx, reconcile.Seller{ID: seller, Settings: x.w.settings, Days: x.w.store, Accurate: x.w.client}, q)
}

// replica is one replica's daily run over the world's Redis.
func (w *world) replica(name string, c *testclock.Clock, rec *reconciles, retry time.Duration) *reconcile.Daily {
	return reconcile.NewDaily(reconcile.DailyConfig{Redis: w.redis.Client(w.t), Namespace: w.redis.Namespace, At: reconcile.DefaultAt,
		Sellers: func() []reconcile.Zone {
			return []reconcile.Zone{{ID: "toko-maju", Location: w.settings.Location()}}
		},
		Reconciles: rec, Now: c.Now, Replica: name, RetryAfter: retry})
}

func (w *world) lists() int {
	c := w.sb.Calls()
	return c["sales-invoice/list"] + c["sales-receipt/list"] + c["sales-return/list"]
}

func TestDailyRun(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.syncedInvoice(81001, "ORD-KEPT", "2026-12-01T09:00:00+07:00")
	w.syncedInvoice(81002, "ORD-GONE", "2026-12-01T10:00:00+07:00")
	w.sb.DeleteByHand(sandbox.KindInvoice, "ORD-GONE")

	// 2 December 05:00 in Jakarta.
	c := testclock.New(time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC))
	rec := &reconciles{w: w, r: reconcile.New(reconcile.Config{Now: c.Now})}
	a, b := w.replica("a", c, rec, 0), w.replica("b", c, rec, 0)

	t.Run("before RECONCILE_AT in the seller's time zone no replica runs", func(t *testing.T) {
		a.Tick(ctx)
		b.Tick(ctx)
		if n := rec.calls.Load(); n != 0 {
			t.Fatalf("%d runs before 06:00", n)
		}
	})
	c.Add(90 * time.Minute) // 06:30
	t.Run("two replicas ticking together run the seller's day once", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, d := range []*reconcile.Daily{a, b, a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); d.Tick(ctx) }()
		}
		wg.Wait()
		if n := rec.calls.Load(); n != 1 {
			t.Fatalf("%d runs, want 1", n)
		}
		if n := w.lists(); n != 3 {
			t.Errorf("%d list calls, want 3 (one per kind)", n)
		}
	})
	t.Run("a day run is not run again by either replica", func(t *testing.T) {
		c.Add(3 * time.Hour)
		a.Tick(ctx)
		b.Tick(ctx)
		if n := rec.calls.Load(); n != 1 {
			t.Fatalf("%d runs, want 1", n)
		}
	})
	t.Run("the run is kept 30 days with its differences and report", func(t *testing.T) {
		for _, d := range []*reconcile.Daily{a, b} {
			run, ok, err := d.Kept(ctx, "toko-maju", "2026-12-01")
			if err != nil || !ok {
				t.Fatalf("kept %v, %v", ok, err)
			}
			if run.Total != 1 || run.Differences[reconcile.MissingInAccurate] != 1 || run.RetryAt != nil || run.Report == nil {
				t.Fatalf("%+v", run)
			}
			if got := run.Report.Days[0].Differences[0].Number; got != "ORD-GONE" {
				t.Errorf("difference of %s", got)
			}
		}
		last, ok, err := b.Last(ctx, "toko-maju")
		if err != nil || !ok || last.Day != "2026-12-01" || last.Report != nil {
			t.Fatalf("last %+v %v %v", last, ok, err)
		}
		for _, key := range []string{"run:2026-12-01", "last"} {
			ttl := w.rdb.TTL(ctx, w.redis.Namespace+":{reconcile:toko-maju}:"+key).Val()
			if ttl < reconcile.Keep-time.Minute || ttl > reconcile.Keep {
				t.Errorf("%s kept %v, want %v", key, ttl, reconcile.Keep)
			}
		}
	})
	t.Run("the gauge shows each kind of the newest run", func(t *testing.T) {
		m := metrics.NewForSellers(nil)
		m.Reconciliations(b)
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		res, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{
			`fas_reconciliation_differences{kind="missing_in_accurate",seller="toko-maju"} 1`,
			`fas_reconciliation_differences{kind="amount_differs",seller="toko-maju"} 0`,
			`fas_reconciliation_differences{kind="not_synced",seller="toko-maju"} 0`,
			`fas_reconciliation_differences{kind="voided_but_present",seller="toko-maju"} 0`,
			`fas_reconciliation_differences{kind="unknown_in_accurate",seller="toko-maju"} 0`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("no %s in\n%s", want, grepLines(string(body), "fas_reconciliation"))
			}
		}
	})
	t.Run("a claim left by a replica that died lets another replica run the day once it expires", func(t *testing.T) {
		c.Add(24 * time.Hour) // 3 December 09:30: the 2nd is due
		claim := w.redis.Namespace + ":{reconcile:toko-maju}:claim:2026-12-02"
		if err := w.rdb.Set(ctx, claim, "dead-replica", 500*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
		before := rec.calls.Load()
		b.Tick(ctx)
		if n := rec.calls.Load() - before; n != 0 {
			t.Fatalf("%d runs while the dead replica's claim holds", n)
		}
		time.Sleep(600 * time.Millisecond)
		b.Tick(ctx)
		if n := rec.calls.Load() - before; n != 1 {
			t.Fatalf("%d runs after the claim expired, want 1", n)
		}
		if _, ok, _ := b.Kept(ctx, "toko-maju", "2026-12-02"); !ok {
			t.Error("the day is not kept")
		}
	})
}

// stalled is a replica's reconciliation that hangs until released, then
// answers a report marked as its own.
type stalled struct {
	started, release chan struct{}
}

func (s stalled) Reconcile(ctx context.Context, seller string, q reconcile.Query) (reconcile.Report, error) {
	close(s.started)
	<-s.release
	return reconcile.Report{Seller: "stale", Days: []reconcile.Day{}}, nil
}

func TestDailyRunOfAReplicaTakenForDead(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := testclock.New(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) // 07:00 in Jakarta
	slow := stalled{started: make(chan struct{}), release: make(chan struct{})}
	a := reconcile.NewDaily(reconcile.DailyConfig{Redis: w.rdb, Namespace: w.redis.Namespace, At: reconcile.DefaultAt,
		Sellers:    func() []reconcile.Zone { return []reconcile.Zone{{ID: "toko-maju", Location: w.settings.Location()}} },
		Reconciles: slow, Now: c.Now, Replica: "a"})
	done := make(chan struct{})
	go func() { defer close(done); a.Tick(ctx) }()
	<-slow.started
	// Its claim lapses as if it had stopped renewing it; b takes the day.
	if err := w.rdb.Del(ctx, w.redis.Namespace+":{reconcile:toko-maju}:claim:2026-12-01").Err(); err != nil {
		t.Fatal(err)
	}
	rec := &reconciles{w: w, r: reconcile.New(reconcile.Config{Now: c.Now})}
	w.replica("b", c, rec, 0).Tick(ctx)
	close(slow.release)
	<-done
	t.Run("the late result of a replica whose claim lapsed is dropped and the other's is kept", func(t *testing.T) {
		run, ok, err := a.Kept(ctx, "toko-maju", "2026-12-01")
		if err != nil || !ok || run.Report == nil || run.Report.Seller != "toko-maju" {
			t.Fatalf("kept %+v %v %v", run.Report, ok, err)
		}
	})
}

func TestDailyRunWithAccurateAway(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.syncedInvoice(82001, "ORD-ONE", "2026-12-01T09:00:00+07:00")
	w.syncedInvoice(82002, "ORD-TWO", "2026-12-01T10:00:00+07:00")
	c := testclock.New(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) // 07:00 in Jakarta
	// The retry is a second away, so the claim waiting for it expires in
	// the test's time.
	rec := &reconciles{w: w, r: reconcile.New(reconcile.Config{Now: c.Now, RetryAfter: time.Second})}
	d := w.replica("a", c, rec, time.Second)

	w.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	d.Tick(ctx)
	t.Run("the kept run says Accurate could not be read and when it tries again", func(t *testing.T) {
		run, ok, err := d.Kept(ctx, "toko-maju", "2026-12-01")
		if err != nil || !ok {
			t.Fatalf("kept %v %v", ok, err)
		}
		if len(run.Unreadable) != 1 || run.Unreadable[0].Side != "accurate" || run.RetryAt == nil || !run.RetryAt.After(c.Now()) {
			t.Fatalf("unreadable %+v, retry at %v", run.Unreadable, run.RetryAt)
		}
		if run.Total != 0 {
			t.Errorf("%d differences with Accurate away, want none (nothing is called missing): %+v", run.Total, run.Differences)
		}
	})
	t.Run("before its retry the day is not run again", func(t *testing.T) {
		d.Tick(ctx)
		if n := rec.calls.Load(); n != 1 {
			t.Fatalf("%d runs", n)
		}
	})
	w.sb.SetFaults(sandbox.Faults{})
	time.Sleep(1100 * time.Millisecond)
	c.Add(time.Second)
	d.Tick(ctx)
	t.Run("with Accurate back the retry reads it and keeps a clean day", func(t *testing.T) {
		if n := rec.calls.Load(); n != 2 {
			t.Fatalf("%d runs, want 2", n)
		}
		run, _, err := d.Kept(ctx, "toko-maju", "2026-12-01")
		if err != nil || len(run.Unreadable) != 0 || run.RetryAt != nil || run.Total != 0 {
			t.Fatalf("%+v %v", run, err)
		}
		if got := run.Report.Days[0].Accurate.Invoices; got != 2 {
			t.Errorf("accurate side %d invoices, want 2", got)
		}
	})
	t.Run("then the day is done", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond)
		d.Tick(ctx)
		if n := rec.calls.Load(); n != 2 {
			t.Fatalf("%d runs, want 2", n)
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
