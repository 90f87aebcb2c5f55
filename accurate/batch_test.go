package accurate_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
)

// saveAll saves n fakturs at once through b, the ones bad says with an item
// Accurate does not have, and returns each one's answer by number.
func saveAll(b *accurate.Batcher, n int, bad func(i int) bool) (map[string]accurate.SavedDocument, map[string]error) {
	var mu sync.Mutex
	docs, errs := map[string]accurate.SavedDocument{}, map[string]error{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
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

func TestBatcherPostsConcurrentSavesInBulk(t *testing.T) {
	t.Run("300 concurrent fakturs, 5% invalid: the others saved, each invalid one refused with its own reason, in a few bulk requests", func(t *testing.T) {
		sb, srv := newSandbox(t, sandbox.Config{})
		b := accurate.NewBatcher(newClient(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		docs, errs := saveAll(b, 300, func(i int) bool { return i%20 == 7 })
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
		if calls["sales-invoice/save"] != 0 || calls["sales-invoice/bulk-save"] > 12 {
			t.Errorf("calls %v; want no save.do and at most 12 bulk-save.do for 300 fakturs", calls)
		}
	})

	t.Run("a lone faktur goes in a bulk-save.do of its own", func(t *testing.T) {
		sb, srv := newSandbox(t, sandbox.Config{})
		b := accurate.NewBatcher(newClient(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		if doc, err := b.SaveSalesInvoice(context.Background(), shopeeInvoice()); err != nil || doc.ID == 0 {
			t.Fatalf("save = %+v, %v", doc, err)
		}
		if calls := sb.Calls(); calls["sales-invoice/bulk-save"] != 1 {
			t.Errorf("calls %v; want one bulk-save.do", calls)
		}
	})

	t.Run("when every answer is lost, one list.do finds the records saved and each caller gets its own id", func(t *testing.T) {
		sb, srv := newSandbox(t, sandbox.Config{})
		sb.SetFaults(sandbox.Faults{LoseRate: 1})
		b := accurate.NewBatcher(newClient(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		docs, errs := saveAll(b, 50, func(int) bool { return false })
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
		sb, srv := newSandbox(t, sandbox.Config{})
		b := accurate.NewBatcher(newClient(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{})
		docs, _ := saveAll(b, 40, func(int) bool { return false })
		var wg sync.WaitGroup
		var mu sync.Mutex
		found := 0
		for i := range 80 {
			wg.Add(1)
			go func() {
				defer wg.Done()
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
		if calls := sb.Calls(); calls["sales-invoice/list"] > 4 {
			t.Errorf("calls %v; want at most 4 list.do for 80 look-ups", calls)
		}
	})
}

func TestBatcherAsksAboutEachNumberOnceForAllItsCallers(t *testing.T) {
	sb, srv := newSandbox(t, sandbox.Config{})
	// A linger far longer than starting 60 goroutines takes, even on a
	// loaded machine: with 50 ms, stragglers missed the first batch and
	// made a third call under load.
	b := accurate.NewBatcher(newClient(t, accurate.Config{Host: srv.URL}), accurate.BatchConfig{Linger: time.Second})
	var wg sync.WaitGroup
	answers := make([]map[string]bool, 60)
	errs := make([]error, 60)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		t.Errorf("60 callers asking about the same two numbers cost %d item/list.do; want one or two", n)
	}
}
