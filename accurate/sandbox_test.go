package accurate_test

import (
	"context"
	"errors"
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
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/money"
)

func date(d, m, y int) accurate.Date { return accurate.Date{Year: y, Month: time.Month(m), Day: d} }

// The example documents of docs/accounting.md ("The examples, worked"), by hand.

func shopeeInvoice() *accurate.SalesInvoice {
	return &accurate.SalesInvoice{
		Number: "2411260AB12CD3", TransDate: date(26, 11, 2026), CustomerNo: "C-SHOPEE", BranchName: "Jakarta",
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", Quantity: 2, UnitPrice: money.Rupiah(89000), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", Quantity: 1, UnitPrice: money.Rupiah(55000), WarehouseName: "Utama"},
		},
	}
}

func tokopediaInvoice() *accurate.SalesInvoice {
	return &accurate.SalesInvoice{
		Number: "INV/20261126/MPL/3819022331", TransDate: date(27, 11, 2026), CustomerNo: "C-TOKOPEDIA",
		CashDiscount: money.Rupiah(5000),
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", Quantity: 2, UnitPrice: money.Rupiah(53477), ItemCashDiscount: money.Rupiah(1), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", Quantity: 1, UnitPrice: money.Rupiah(33047), WarehouseName: "Utama"},
			{ItemNo: "KAOS-PTH-M", Quantity: 1, UnitPrice: money.Rupiah(95000), WarehouseName: "Utama"},
		},
		DetailExpense: []accurate.InvoiceExpense{{AccountNo: "410201", ExpenseAmount: money.Rupiah(12000), ExpenseName: "Ongkos kirim"}},
	}
}

func shopeeReceipt() *accurate.SalesReceipt {
	return &accurate.SalesReceipt{
		Number: "FP-90001", TransDate: date(29, 11, 2026), CustomerNo: "C-SHOPEE", BankNo: "110201", BranchName: "Jakarta",
		ChequeAmount: money.Rupiah(212350),
		DetailInvoice: []accurate.ReceiptInvoice{{
			InvoiceNo: "2411260AB12CD3", PaymentAmount: money.Rupiah(233000),
			DetailDiscount: []accurate.ReceiptDiscount{
				{AccountNo: "610201", Amount: money.Rupiah(10000)},
				{AccountNo: "610202", Amount: money.Rupiah(11650)},
				{AccountNo: "610204", Amount: money.Rupiah(1000)},
				{AccountNo: "410202", Amount: money.Rupiah(-2000)},
			},
		}},
	}
}

func tokopediaReceipt() *accurate.SalesReceipt {
	return &accurate.SalesReceipt{
		Number: "FP-90002", TransDate: date(30, 11, 2026), CustomerNo: "C-TOKOPEDIA", BankNo: "110202",
		ChequeAmount: money.Rupiah(229600),
		DetailInvoice: []accurate.ReceiptInvoice{{
			InvoiceNo: "INV/20261126/MPL/3819022331", PaymentAmount: money.Rupiah(242000),
			DetailDiscount: []accurate.ReceiptDiscount{
				{AccountNo: "610202", Amount: money.Rupiah(9400)},
				{AccountNo: "610203", Amount: money.Rupiah(3000)},
			},
		}},
	}
}

func TestSandboxExampleDocumentsRoundTrip(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{AccountURL: srv.URL})
	ctx := context.Background()

	invoices := []struct {
		doc   *accurate.SalesInvoice
		total money.Amount
	}{
		{shopeeInvoice(), money.Rupiah(233000)},
		{tokopediaInvoice(), money.Rupiah(242000)},
	}
	for _, tt := range invoices {
		t.Run("faktur "+tt.doc.Number+" is saved, found and read back", func(t *testing.T) {
			saved, err := c.SaveSalesInvoice(ctx, tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if saved.ID == 0 || saved.Number != tt.doc.Number || saved.TotalAmount != tt.total {
				t.Fatalf("saved = %+v, want number %s total %s", saved, tt.doc.Number, tt.total)
			}
			found, ok, err := c.FindSalesInvoice(ctx, tt.doc.Number)
			if err != nil || !ok || found.ID != saved.ID || found.TotalAmount != tt.total {
				t.Fatalf("find = %+v, %v, %v; want %+v", found, ok, err, saved)
			}
			detail, err := c.SalesInvoiceDetail(ctx, tt.doc.Number)
			if err != nil {
				t.Fatal(err)
			}
			if detail.TotalAmount != tt.total || detail.PrimeOwing != tt.total || detail.TransDate != tt.doc.TransDate {
				t.Fatalf("detail = %+v, want total and owing %s on %s", detail, tt.total, tt.doc.TransDate)
			}
		})
	}
	receipts := []struct {
		doc     *accurate.SalesReceipt
		invoice string
	}{
		{shopeeReceipt(), "2411260AB12CD3"},
		{tokopediaReceipt(), "INV/20261126/MPL/3819022331"},
	}
	for _, tt := range receipts {
		t.Run("penerimaan "+tt.doc.Number+" is saved, found and read back, and settles its faktur", func(t *testing.T) {
			saved, err := c.SaveSalesReceipt(ctx, tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if saved.ID == 0 || saved.Number != tt.doc.Number {
				t.Fatalf("saved = %+v", saved)
			}
			found, ok, err := c.FindSalesReceipt(ctx, tt.doc.Number)
			if err != nil || !ok || found.ID != saved.ID {
				t.Fatalf("find = %+v, %v, %v; want %+v", found, ok, err, saved)
			}
			detail, err := c.SalesReceiptDetail(ctx, tt.doc.Number)
			if err != nil {
				t.Fatal(err)
			}
			if detail.ChequeAmount != tt.doc.ChequeAmount || detail.BankNo != tt.doc.BankNo || len(detail.DetailInvoice) != 1 {
				t.Fatalf("detail = %+v, want cheque %s to bank %s", detail, tt.doc.ChequeAmount, tt.doc.BankNo)
			}
			inv, err := c.SalesInvoiceDetail(ctx, tt.invoice)
			if err != nil || inv.PrimeOwing != 0 {
				t.Fatalf("faktur after payment = %+v, %v; want nothing owed", inv, err)
			}
		})
	}
	t.Run("an unknown number is not found, without error", func(t *testing.T) {
		if _, ok, err := c.FindSalesReceipt(ctx, "FP-NOPE"); ok || err != nil {
			t.Fatalf("find = %v, %v", ok, err)
		}
	})
	t.Run("the host was discovered once through api-token.do", func(t *testing.T) {
		if n := sb.Calls()["api-token"]; n != 1 {
			t.Fatalf("api-token.do asked %d times, want once", n)
		}
		if n := len(sb.Invoices()); n != 2 {
			t.Fatalf("the sandbox holds %d fakturs, want 2", n)
		}
	})
}

func TestSandboxErrorClasses(t *testing.T) {
	ctx := context.Background()
	unbalanced := shopeeReceipt()
	unbalanced.ChequeAmount = money.Rupiah(212000)
	unknownCustomer := shopeeInvoice()
	unknownCustomer.CustomerNo = "C-LAZADA"

	tests := []struct {
		name      string
		sandbox   sandbox.Config
		client    accurate.Config
		call      func(c *accurate.Client, sb *sandbox.Server) error
		class     accurate.Class
		ambiguous bool
		message   string
	}{
		{
			name: "a faktur number saved twice is a duplicate",
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				if _, err := c.SaveSalesInvoice(ctx, shopeeInvoice()); err != nil {
					return fmt.Errorf("first save: %w", err)
				}
				_, err := c.SaveSalesInvoice(ctx, shopeeInvoice())
				return err
			},
			class: accurate.ClassDuplicate, message: "Sudah ada data lain dengan No",
		},
		{
			name: "an unknown customer is not found",
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				_, err := c.SaveSalesInvoice(ctx, unknownCustomer)
				return err
			},
			class: accurate.ClassNotFound, message: "tidak ditemukan atau sudah dihapus",
		},
		{
			name: "the detail of an unknown faktur is not found",
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				_, err := c.SalesInvoiceDetail(ctx, "NOPE-1")
				return err
			},
			class: accurate.ClassNotFound, message: "tidak ditemukan",
		},
		{
			name: "an unbalanced receipt is a validation error",
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				if _, err := c.SaveSalesInvoice(ctx, shopeeInvoice()); err != nil {
					return fmt.Errorf("faktur: %w", err)
				}
				_, err := c.SaveSalesReceipt(ctx, unbalanced)
				return err
			},
			class: accurate.ClassValidation,
		},
		{
			name:    "a second call within the second is rate limited",
			sandbox: sandbox.Config{RateLimit: 1},
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				if _, _, err := c.FindSalesInvoice(ctx, "F-1"); err != nil {
					return fmt.Errorf("first call: %w", err)
				}
				_, _, err := c.FindSalesInvoice(ctx, "F-1")
				return err
			},
			class: accurate.ClassRateLimited, message: "request per detik",
		},
		{
			name:   "a wrong token is refused as auth",
			client: accurate.Config{APIToken: "aat.WRONG-token-0000"},
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				_, _, err := c.FindSalesInvoice(ctx, "F-1")
				return err
			},
			class: accurate.ClassAuth,
		},
		{
			name:    "server errors are transient",
			sandbox: sandbox.Config{Faults: sandbox.Faults{ErrorRate: 1}},
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				_, err := c.SaveSalesInvoice(ctx, shopeeInvoice())
				return err
			},
			class: accurate.ClassTransient, ambiguous: true,
		},
		{
			name:    "a lost answer is transient and ambiguous, and the faktur exists",
			sandbox: sandbox.Config{Faults: sandbox.Faults{LoseRate: 1}},
			call: func(c *accurate.Client, sb *sandbox.Server) error {
				_, err := c.SaveSalesInvoice(ctx, shopeeInvoice())
				sb.SetFaults(sandbox.Faults{})
				if _, ok, ferr := c.FindSalesInvoice(ctx, "2411260AB12CD3"); ferr != nil || !ok {
					return fmt.Errorf("after the lost answer the faktur is not listed (%v, %v); save said %w", ok, ferr, err)
				}
				return err
			},
			class: accurate.ClassTransient, ambiguous: true,
		},
		{
			name:    "a call slower than the client's Timeout is transient",
			sandbox: sandbox.Config{Faults: sandbox.Faults{Latency: time.Second}},
			client:  accurate.Config{Timeout: 150 * time.Millisecond},
			call: func(c *accurate.Client, _ *sandbox.Server) error {
				_, err := c.SaveSalesInvoice(ctx, shopeeInvoice())
				if !errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("not a deadline: %w", err)
				}
				return err
			},
			class: accurate.ClassTransient, ambiguous: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := testaccurate.Serve(t, tt.sandbox)
			cfg := tt.client
			cfg.Host = srv.URL
			c := testaccurate.Client(t, cfg)
			err := tt.call(c, sb)
			var e *accurate.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *accurate.Error", err)
			}
			if e.Class != tt.class {
				t.Errorf("class = %q, want %q: %v", e.Class, tt.class, err)
			}
			if e.Ambiguous != tt.ambiguous {
				t.Errorf("ambiguous = %v, want %v: %v", e.Ambiguous, tt.ambiguous, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Error() = %q, want Accurate's words %q", err, tt.message)
			}
			for _, secret := range []string{testaccurate.Token, testaccurate.Secret, cfg.APIToken} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("Error() = %q reveals a secret", err)
				}
			}
		})
	}
}

// savedOnlyAt saves the Shopee faktur through c, finds it again by its
// number, and expects sandbox at to hold it alone.
func savedOnlyAt(t *testing.T, c *accurate.Client, at *sandbox.Server) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.SaveSalesInvoice(ctx, shopeeInvoice()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.FindSalesInvoice(ctx, "2411260AB12CD3"); err != nil || !ok {
		t.Fatalf("find = %v, %v", ok, err)
	}
	if n := len(at.Invoices()); n != 1 {
		t.Errorf("the new host holds %d fakturs, want 1", n)
	}
}

func TestSandboxMovedHost(t *testing.T) {
	ctx := context.Background()
	t.Run("a fixed host that answers 308 is followed to the new host with a valid signature", func(t *testing.T) {
		sbB, srvB := testaccurate.Serve(t, sandbox.Config{})
		sbA, srvA := testaccurate.Serve(t, sandbox.Config{Faults: sandbox.Faults{MoveHostTo: srvB.URL}})
		c := testaccurate.Client(t, accurate.Config{Host: srvA.URL})
		savedOnlyAt(t, c, sbB)
		if n := len(sbA.Invoices()); n != 0 {
			t.Errorf("A holds %d fakturs, want none", n)
		}
		if n := sbB.Calls()["unauthorized"]; n != 0 {
			t.Errorf("B refused %d signatures", n)
		}
		if n := sbA.Calls()["moved"]; n != 1 {
			t.Errorf("A redirected %d calls, want 1 (then the client goes to B)", n)
		}
	})
	t.Run("a discovered host that moves is followed and discovered again", func(t *testing.T) {
		sbB, srvB := testaccurate.Serve(t, sandbox.Config{})
		sbA, srvA := testaccurate.Serve(t, sandbox.Config{})
		c := testaccurate.Client(t, accurate.Config{AccountURL: srvA.URL})
		if _, _, err := c.FindSalesInvoice(ctx, "2411260AB12CD3"); err != nil {
			t.Fatal(err)
		}
		sbA.SetFaults(sandbox.Faults{MoveHostTo: srvB.URL})
		savedOnlyAt(t, c, sbB)
		calls := sbA.Calls()
		if calls["moved"] != 1 || calls["api-token"] != 2 {
			t.Errorf("A: %d moved, %d discoveries; want 1 and 2", calls["moved"], calls["api-token"])
		}
	})
}

func TestSandboxMasterDataLists(t *testing.T) {
	_, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	seed := sandbox.DefaultSeed()
	tests := []struct {
		kind   accurate.ListKind
		want   []string
		byName bool
	}{
		{accurate.ListCustomers, seed.Customers, false},
		{accurate.ListItems, seed.Items, false},
		{accurate.ListGLAccounts, seed.Accounts, false},
		{accurate.ListWarehouses, seed.Warehouses, true},
		{accurate.ListBranches, seed.Branches, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" lists every seeded entry", func(t *testing.T) {
			got, err := c.List(context.Background(), tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, e := range got {
				have[e.No] = true
				have[e.Name] = true
			}
			for _, w := range tt.want {
				if !have[w] {
					t.Errorf("%s missing from %+v", w, got)
				}
			}
		})
	}
}

// inFlightCounter wraps a handler and records the most requests it ever held
// at once.
type inFlightCounter struct {
	next      http.Handler
	now, peak atomic.Int32
}

func (c *inFlightCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	c.next.ServeHTTP(w, r)
}

func TestSharedLimiterKeepsTwoReplicasWithinAccuratesLimits(t *testing.T) {
	r := testredis.New(t)
	prefix := events.LimiterPrefix(r.Namespace)
	sb := sandbox.New(sandbox.Config{
		APIToken: testaccurate.Token, SignatureSecret: testaccurate.Secret, Seed: sandbox.DefaultSeed(),
		RateLimit: 8, MaxConcurrency: 8, Faults: sandbox.Faults{Latency: 200 * time.Millisecond},
	})
	counter := &inFlightCounter{next: sb}
	srv := httptest.NewServer(counter)
	defer srv.Close()

	var waits atomic.Int32
	replicas := make([]*accurate.Client, 2)
	for i := range replicas {
		l := accurate.NewRedisLimiter(r.Client(t), prefix, 8, 8)
		l.OnWait = func(time.Duration) { waits.Add(1) }
		replicas[i] = testaccurate.Client(t, accurate.Config{Host: srv.URL, Limiter: l})
	}

	const calls = 60
	var next atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for _, c := range replicas {
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > calls {
						return
					}
					var err error
					if i%2 == 0 {
						inv := shopeeInvoice()
						inv.Number = fmt.Sprintf("LOAD-%03d", i)
						_, err = c.SaveSalesInvoice(context.Background(), inv)
					} else {
						_, _, err = c.FindSalesInvoice(context.Background(), fmt.Sprintf("LOAD-%03d", i-1))
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call failed: %v", err)
	}
	stats := sb.Calls()
	if stats["rate_limited"] != 0 {
		t.Errorf("the sandbox refused %d calls for its limits (%v)", stats["rate_limited"], stats)
	}
	if p := counter.peak.Load(); p > 8 {
		t.Errorf("%d requests were in flight at once, want at most 8", p)
	}
	if n := len(sb.Invoices()); n != calls/2 {
		t.Errorf("the sandbox holds %d fakturs, want %d", n, calls/2)
	}
	if n := waits.Load(); n != calls {
		t.Errorf("the limiter reported %d waits, want one per call (%d)", n, calls)
	}
}
