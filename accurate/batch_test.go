package accurate_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
)

// saveAll saves n fakturs at once through b, the ones bad says with an item
// Accurate does not have, and returns each one's answer by number. Each
// saver takes one off left, when given, as it returns.
func saveAll(b *accurate.Batcher, n int, bad func(i int) bool, left *atomic.Int64) (map[string]accurate.SavedDocument, map[string]error) {
	var mu sync.Mutex
	docs, errs := map[string]accurate.SavedDocument{}, map[string]error{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if left != nil {
				defer left.Add(-1)
			}
			inv := shopeeInvoice()
			inv.Number = fmt.Sprintf("BATCH-%04d", i)
			if bad(i) {
				inv.DetailItem[0].ItemNo = fmt.Sprintf("NO-SUCH-ITEM-%d", i)
			}
			doc, err := b.SaveSalesInvoice(context.Background(), inv)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[inv.Number] = err
			} else {
				docs[inv.Number] = doc
			}
		}()
	}
	wg.Wait()
	return docs, errs
}

// gatedSandbox serves a sandbox through a gate that holds each bulk-save.do
// and list.do until every caller the test has not seen return waits on the
// batcher (b.Waiting reaches *left), so that how a batch is made does not
// depend on how fast the scheduler runs the callers: the first request
// carries whoever came within the linger, and every later one all that was
// queued meanwhile. The gate gives up after 20 s (the client waits 30),
// and the test's bounds then tell.
func gatedSandbox(t *testing.T, b **accurate.Batcher, left *atomic.Int64) (*sandbox.Server, *httptest.Server) {
	t.Helper()
	sb, _ := testaccurate.Serve(t, sandbox.Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/bulk-save.do") || strings.HasSuffix(r.URL.Path, "/list.do") {
			for end := time.Now().Add(20 * time.Second); int64((*b).Waiting()) < left.Load() && time.Now().Before(end); {
				time.Sleep(2 * time.Millisecond)
			}
		}
		sb.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return sb, srv
}

// mostRequests is how many requests n callers of one kind cost at most when
// all of them wait before the first answer: the first request carries at
// least one of them, the rest go in full bulks.
func mostRequests(n int) int { return 1 + (n-1+accurate.MaxBulk-1)/accurate.MaxBulk }

func TestBatcherPostsConcurrentSavesInBulk(t *testing.T) {
	t.Run("300 concurrent fakturs, 5% invalid: the others saved, each invalid one refused with its own reason, in a few bulk requests", func(t *testing.T) {
		var b *accurate.Batcher
		var left atomic.Int64
		left.Store(300)
		sb, srv := gatedSandbox(t, &b, &left)
		b = accurate.NewBatcher(testaccurate.Client(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		docs, errs := saveAll(b, 300, func(i int) bool { return i%20 == 7 }, &left)
		if len(docs) != 285 || len(errs) != 15 {
			t.Fatalf("%d saved, %d refused; want 285 and 15", len(docs), len(errs))
		}
		for number, err := range errs {
			var i int
			fmt.Sscanf(number, "BATCH-%d", &i)
			if accurate.ClassOf(err) != accurate.ClassNotFound || !strings.Contains(err.Error(), fmt.Sprintf("NO-SUCH-ITEM-%d", i)) {
				t.Errorf("%s: %v; want its own item named as not found", number, err)
			}
		}
		for number, doc := range docs {
			if doc.ID == 0 || doc.Number != number {
				t.Errorf("%s answered %+v; want its id and number", number, doc)
			}
		}
		if got := len(sb.Invoices()); got != 285 {
			t.Errorf("the sandbox holds %d fakturs; want 285", got)
		}
		calls := sb.Calls()
		if most := mostRequests(300); calls["sales-invoice/save"] != 0 || calls["sales-invoice/bulk-save"] > most {
			t.Errorf("calls %v; want no save.do and at most %d bulk-save.do for 300 fakturs", calls, most)
		}
	})

	t.Run("a lone faktur goes in a bulk-save.do of its own", func(t *testing.T) {
		sb, srv := testaccurate.Serve(t, sandbox.Config{})
		b := accurate.NewBatcher(testaccurate.Client(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		if doc, err := b.SaveSalesInvoice(context.Background(), shopeeInvoice()); err != nil || doc.ID == 0 {
			t.Fatalf("save = %+v, %v", doc, err)
		}
		if calls := sb.Calls(); calls["sales-invoice/bulk-save"] != 1 {
			t.Errorf("calls %v; want one bulk-save.do", calls)
		}
	})

	t.Run("when every answer is lost, one list.do finds the records saved and each caller gets its own id", func(t *testing.T) {
		sb, srv := testaccurate.Serve(t, sandbox.Config{})
		sb.SetFaults(sandbox.Faults{LoseRate: 1})
		b := accurate.NewBatcher(testaccurate.Client(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		docs, errs := saveAll(b, 50, func(int) bool { return false }, nil)
		if len(docs) != 50 {
			t.Fatalf("%d saved; errors %v", len(docs), errs)
		}
		ids := map[int64]bool{}
		for _, inv := range sb.Invoices() {
			ids[inv.ID] = true
		}
		for number, doc := range docs {
			if !ids[doc.ID] {
				t.Errorf("%s answered id %d, which the sandbox does not hold", number, doc.ID)
			}
		}
		if got := len(sb.Invoices()); got != 50 {
			t.Errorf("the sandbox holds %d fakturs; want 50, each once", got)
		}
		calls := sb.Calls()
		if calls["sales-invoice/list"] != calls["sales-invoice/bulk-save"] {
			t.Errorf("calls %v; want one list.do after each lost bulk-save.do", calls)
		}
	})

	t.Run("look-ups of many numbers at once go in one list.do each batch", func(t *testing.T) {
		var b *accurate.Batcher
		var left atomic.Int64
		left.Store(40)
		sb, srv := gatedSandbox(t, &b, &left)
		b = accurate.NewBatcher(testaccurate.Client(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		docs, _ := saveAll(b, 40, func(int) bool { return false }, &left)
		left.Store(80)
		var wg sync.WaitGroup
		var mu sync.Mutex
		found := 0
		for i := range 80 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer left.Add(-1)
				doc, ok, err := b.FindSalesInvoice(context.Background(), fmt.Sprintf("BATCH-%04d", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("find %d: %v", i, err)
				case ok != (i < 40):
					t.Errorf("find %d: found %v", i, ok)
				case ok && doc.ID != docs[doc.Number].ID:
					t.Errorf("find %d: %+v; want the saved one", i, doc)
				case ok:
					found++
				}
			}()
		}
		wg.Wait()
		if found != 40 {
			t.Errorf("found %d; want 40", found)
		}
		if most := mostRequests(80); sb.Calls()["sales-invoice/list"] > most {
			t.Errorf("calls %v; want at most %d list.do for 80 look-ups", sb.Calls(), most)
		}
	})
}

func TestBatcherAsksAboutEachNumberOnceForAllItsCallers(t *testing.T) {
	// 40 callers ask about the same two numbers: 80 calls, which fit in one
	// list.do after the first (MaxBulk), so one or two item/list.do
	// whatever the scheduler does. (With a plain linger the callers that
	// started late on a loaded machine made a third.)
	const callers = 40
	var b *accurate.Batcher
	var left atomic.Int64
	left.Store(callers)
	sb, srv := gatedSandbox(t, &b, &left)
	b = accurate.NewBatcher(testaccurate.Client(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
	var wg sync.WaitGroup
	answers := make([]map[string]bool, callers)
	errs := make([]error, callers)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer left.Add(-1)
			answers[i], errs[i] = b.KnownNumbers(t.Context(), accurate.ListItems, []string{"SKU-GHOST", "KAOS-HTM-L"})
		}()
	}
	wg.Wait()
	for i := range answers {
		if errs[i] != nil || !maps.Equal(answers[i], map[string]bool{"KAOS-HTM-L": true}) {
			t.Fatalf("caller %d: %v, %v; want KAOS-HTM-L known, SKU-GHOST not", i, answers[i], errs[i])
		}
	}
	if n := sb.Calls()["item/list"]; n > 2 {
		t.Errorf("%d callers asking about the same two numbers cost %d item/list.do; want one or two", callers, n)
	}
	if n := b.Waiting(); n != 0 {
		t.Errorf("%d callers still counted as waiting after every answer", n)
	}
}
