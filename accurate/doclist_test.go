package accurate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/money"
)

// invoiceOn is a one-line faktur of total rupiah dated d.
func invoiceOn(number string, d accurate.Date, rupiah int64) *accurate.SalesInvoice {
	return &accurate.SalesInvoice{Number: number, TransDate: d, CustomerNo: "C-SHOPEE",
		DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(rupiah), WarehouseName: "Utama"}}}
}

func TestReadingDocumentsByDate(t *testing.T) {
	ctx := context.Background()
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	for i := range 1200 {
		if _, err := c.SaveSalesInvoice(ctx, invoiceOn(fmt.Sprintf("D1-%04d", i), date(1, 12, 2026), 1000)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		if _, err := c.SaveSalesInvoice(ctx, invoiceOn(fmt.Sprintf("D3-%04d", i), date(3, 12, 2026), 2000)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(t *testing.T, from, to accurate.Date) (map[string]money.Amount, int) {
		t.Helper()
		got := map[string]money.Amount{}
		n, err := c.EachDocument(ctx, accurate.InvoiceDocuments, from, to, func(rows []accurate.DocumentRow) error {
			if len(rows) > accurate.DocumentPageSize {
				t.Errorf("a page of %d rows, more than asked", len(rows))
			}
			for _, r := range rows {
				if _, dup := got[r.Number]; dup {
					t.Errorf("%s listed twice", r.Number)
				}
				got[r.Number] = r.Total
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, n
	}

	t.Run("a range of days lists every document in it once, in pages of a thousand", func(t *testing.T) {
		got, requests := read(t, date(1, 12, 2026), date(3, 12, 2026))
		if len(got) != 1230 || requests != 2 {
			t.Fatalf("%d documents in %d requests, want 1230 in 2", len(got), requests)
		}
		if got["D3-0007"] != money.Rupiah(2000) || got["D1-0000"] != money.Rupiah(1000) {
			t.Errorf("totals %v and %v", got["D3-0007"], got["D1-0000"])
		}
	})
	t.Run("days outside the range are not listed", func(t *testing.T) {
		got, requests := read(t, date(2, 12, 2026), date(3, 12, 2026))
		if len(got) != 30 || requests != 1 {
			t.Fatalf("%d documents in %d requests, want 30 in 1", len(got), requests)
		}
	})
	t.Run("a document deleted or changed by hand is listed as Accurate holds it now", func(t *testing.T) {
		if !sb.DeleteByHand(sandbox.KindInvoice, "D3-0001") || !sb.EditByHand(sandbox.KindInvoice, "D3-0002", money.Rupiah(1500)) {
			t.Fatal("the sandbox did not find the documents")
		}
		got, _ := read(t, date(3, 12, 2026), date(3, 12, 2026))
		if _, ok := got["D3-0001"]; ok || len(got) != 29 {
			t.Errorf("D3-0001 still listed (%d documents)", len(got))
		}
		if got["D3-0002"] != money.Rupiah(1500) {
			t.Errorf("D3-0002 lists %v, want 1500.00", got["D3-0002"])
		}
	})
}

// gate is a limiter that holds every caller until opened, and remembers
// the order in which callers asked.
type gate struct {
	mu    sync.Mutex
	order []string
	open  chan struct{}
}

func (g *gate) Acquire(ctx context.Context) (func(), error) {
	g.mu.Lock()
	if _, yielding := ctx.Value(probeKey{}).(string); yielding {
		g.order = append(g.order, "list")
	} else {
		g.order = append(g.order, "post")
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type probeKey struct{}

func TestAYieldingReadWaitsForPosting(t *testing.T) {
	_, srv := testaccurate.Serve(t, sandbox.Config{})
	g := &gate{open: make(chan struct{})}
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL, Limiter: g})
	ctx := context.Background()
	posted := make(chan error, 1)
	go func() {
		_, err := c.SaveSalesInvoice(ctx, invoiceOn("POST-1", date(1, 12, 2026), 1000))
		posted <- err
	}()
	for {
		g.mu.Lock()
		n := len(g.order)
		g.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	listed := make(chan error, 1)
	go func() {
		lctx := accurate.Yielding(context.WithValue(ctx, probeKey{}, "list"))
		_, err := c.EachDocument(lctx, accurate.InvoiceDocuments, date(1, 12, 2026), date(1, 12, 2026), func([]accurate.DocumentRow) error { return nil })
		listed <- err
	}()
	time.Sleep(300 * time.Millisecond)
	g.mu.Lock()
	asked := len(g.order)
	g.mu.Unlock()
	if asked != 1 {
		t.Fatalf("the list asked the limiter while a faktur waited to post (%v)", g.order)
	}
	close(g.open)
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	if err := <-listed; err != nil {
		t.Fatal(err)
	}
	if g.order[0] != "post" || g.order[1] != "list" {
		t.Errorf("order %v, want the post first", g.order)
	}
}
