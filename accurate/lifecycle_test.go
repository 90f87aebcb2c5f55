package accurate_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/money"
)

// The calls of voids, returns and master data, through the real client
// against the sandbox over HTTP.

// exampleReturn is the retur of examples/return-created-tokopedia.json:
// the bundle comes back whole.
func exampleReturn() *accurate.SalesReturn {
	return &accurate.SalesReturn{
		Number: "RJ-95001", TransDate: date(3, 12, 2026), CustomerNo: "C-TOKOPEDIA",
		ReturnType: accurate.ReturnTypeInvoice, InvoiceNumber: "INV/20261126/MPL/3819022331",
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", Quantity: 2, UnitPrice: money.Rupiah(53477), ItemCashDiscount: money.Rupiah(1), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", Quantity: 1, UnitPrice: money.Rupiah(33047), WarehouseName: "Utama"},
		},
	}
}

func refusedWith(t *testing.T, err error, class accurate.Class, words ...string) {
	t.Helper()
	if accurate.ClassOf(err) != class {
		t.Fatalf("want a %s refusal, got %v", class, err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal %q does not say %q", err, w)
		}
	}
}

func TestSandboxDeletingAFakturThatAPenerimaanUsesIsRefusedUntilThePenerimaanIsDeleted(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	if _, err := c.SaveSalesInvoice(ctx, shopeeInvoice()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SaveSalesReceipt(ctx, shopeeReceipt()); err != nil {
		t.Fatal(err)
	}
	err := c.DeleteSalesInvoice(ctx, "2411260AB12CD3")
	refusedWith(t, err, accurate.ClassValidation, "tidak dapat dihapus", "Penerimaan Penjualan", "FP-90001")

	if err := c.DeleteSalesReceipt(ctx, "FP-90001"); err != nil {
		t.Fatalf("deleting the penerimaan: %v", err)
	}
	d, err := c.SalesInvoiceDetail(ctx, "2411260AB12CD3")
	if err != nil || d.PrimeOwing != money.Rupiah(233000) || d.Status != sandbox.StatusOutstanding {
		t.Fatalf("after its penerimaan went, the faktur should owe 233,000 again: %+v, %v", d, err)
	}
	if err := c.DeleteSalesInvoice(ctx, "2411260AB12CD3"); err != nil {
		t.Fatalf("deleting the freed faktur: %v", err)
	}
	if len(sb.Invoices()) != 0 || len(sb.Receipts()) != 0 {
		t.Fatalf("documents left: %d fakturs, %d penerimaan", len(sb.Invoices()), len(sb.Receipts()))
	}
	refusedWith(t, c.DeleteSalesInvoice(ctx, "2411260AB12CD3"), accurate.ClassNotFound, "tidak ditemukan atau sudah dihapus")
	refusedWith(t, c.DeleteSalesReceipt(ctx, "FP-90001"), accurate.ClassNotFound, "tidak ditemukan atau sudah dihapus")
}

func TestSandboxAReturReducesWhatItsFakturOwesAndIsCheckedAgainstIt(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()

	t.Run("a retur before its faktur is refused as not found", func(t *testing.T) {
		_, err := c.SaveSalesReturn(ctx, exampleReturn())
		refusedWith(t, err, accurate.ClassNotFound, "INV/20261126/MPL/3819022331", "tidak ditemukan")
	})
	if _, err := c.SaveSalesInvoice(ctx, tokopediaInvoice()); err != nil {
		t.Fatal(err)
	}
	t.Run("the bundle's retur takes 140,000 off the 242,000 owed", func(t *testing.T) {
		saved, err := c.SaveSalesReturn(ctx, exampleReturn())
		if err != nil {
			t.Fatal(err)
		}
		if saved.TotalAmount != money.Rupiah(140000) || saved.Number != "RJ-95001" {
			t.Fatalf("saved %+v, want RJ-95001 of 140,000", saved)
		}
		d, err := c.SalesInvoiceDetail(ctx, "INV/20261126/MPL/3819022331")
		if err != nil || d.PrimeOwing != money.Rupiah(102000) {
			t.Fatalf("the faktur owes %s after the retur, want 102,000 (%v)", d.PrimeOwing.Format(), err)
		}
		if found, ok, err := c.FindSalesReturn(ctx, "RJ-95001"); err != nil || !ok || found.ID == 0 {
			t.Fatalf("list.do does not find RJ-95001: %+v %v %v", found, ok, err)
		}
	})
	t.Run("the same number again is a duplicate", func(t *testing.T) {
		_, err := c.SaveSalesReturn(ctx, exampleReturn())
		refusedWith(t, err, accurate.ClassDuplicate, "RJ-95001")
	})
	t.Run("returning more than the faktur has left is refused naming both quantities", func(t *testing.T) {
		r := exampleReturn()
		r.Number = "RJ-95002"
		r.DetailItem = r.DetailItem[1:] // the topi, already returned
		_, err := c.SaveSalesReturn(ctx, r)
		refusedWith(t, err, accurate.ClassValidation, "BRG-TOPI-01", "(1)", "(0)")
	})
	t.Run("a faktur that a retur uses cannot be deleted", func(t *testing.T) {
		refusedWith(t, c.DeleteSalesInvoice(ctx, "INV/20261126/MPL/3819022331"), accurate.ClassValidation, "Retur Penjualan", "RJ-95001")
	})
	t.Run("a payout after the retur settles only what is left", func(t *testing.T) {
		rc := tokopediaReceipt()
		_, err := c.SaveSalesReceipt(ctx, rc)
		refusedWith(t, err, accurate.ClassValidation, "melebihi sisa piutang")
		rc.DetailInvoice[0].PaymentAmount = money.Rupiah(102000)
		rc.ChequeAmount = money.Rupiah(102000 - 9400 - 3000)
		if _, err := c.SaveSalesReceipt(ctx, rc); err != nil {
			t.Fatal(err)
		}
		if inv := sb.Invoices()[0]; inv.PrimeOwing != 0 || inv.Status != sandbox.StatusPaid {
			t.Fatalf("the faktur should be paid off: %+v", inv)
		}
	})
}

func TestSandboxClosedPeriodRefusesSavesAndDeletesWithAccuratesWords(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	if _, err := c.SaveSalesInvoice(ctx, shopeeInvoice()); err != nil {
		t.Fatal(err)
	}
	sb.SetClosedThrough(date(30, 11, 2026))
	refusedWith(t, c.DeleteSalesInvoice(ctx, "2411260AB12CD3"), accurate.ClassValidation, "periode 11/2026 sudah ditutup")
	another := shopeeInvoice()
	another.Number = "SO-CLOSED"
	_, err := c.SaveSalesInvoice(ctx, another)
	refusedWith(t, err, accurate.ClassValidation, "periode 11/2026 sudah ditutup")
	sb.SetClosedThrough(accurate.Date{})
	if err := c.DeleteSalesInvoice(ctx, "2411260AB12CD3"); err != nil {
		t.Fatalf("once the period is open again: %v", err)
	}
}

func TestSandboxItemsAndCustomersExistOrNot(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	inv := shopeeInvoice()
	inv.DetailItem[0].ItemNo = "SKU-BARU-1"
	inv.DetailItem[1].ItemNo = "SKU-BARU-2"
	_, err := c.SaveSalesInvoice(ctx, inv)
	refusedWith(t, err, accurate.ClassNotFound, `"SKU-BARU-1" tidak ditemukan`, `"SKU-BARU-2" tidak ditemukan`)

	for _, no := range []string{"SKU-BARU-1", "SKU-BARU-2"} {
		if err := c.SaveItem(ctx, &accurate.Item{No: no, Name: "Barang " + no, ItemType: "INVENTORY", Unit1Name: "PCS"}); err != nil {
			t.Fatalf("creating %s: %v", no, err)
		}
	}
	refusedWith(t, c.SaveItem(ctx, &accurate.Item{No: "SKU-BARU-1", Name: "x", ItemType: "INVENTORY"}), accurate.ClassDuplicate, "Sudah ada data lain dengan No")
	refusedWith(t, c.SaveItem(ctx, &accurate.Item{No: "SKU-X", Name: strings.Repeat("n", accurate.ItemNameMax+1), ItemType: "INVENTORY"}), accurate.ClassValidation, "maksimal")
	refusedWith(t, c.SaveItem(ctx, &accurate.Item{No: "SKU-Y", Name: "y", ItemType: "BARANG"}), accurate.ClassValidation, "Jenis Barang")
	if _, err := c.SaveSalesInvoice(ctx, inv); err != nil {
		t.Fatalf("the faktur after its items exist: %v", err)
	}

	inv2 := shopeeInvoice()
	inv2.Number, inv2.CustomerNo = "X-2", "C-LAZADA"
	_, err = c.SaveSalesInvoice(ctx, inv2)
	refusedWith(t, err, accurate.ClassNotFound, `Pelanggan "C-LAZADA" tidak ditemukan`)
	if err := c.SaveCustomer(ctx, &accurate.Customer{CustomerNo: "C-LAZADA", Name: "Toko Lazada", TransDate: date(1, 12, 2026)}); err != nil {
		t.Fatal(err)
	}
	refusedWith(t, c.SaveCustomer(ctx, &accurate.Customer{CustomerNo: "C-LAZADA", Name: "Toko Lazada", TransDate: date(1, 12, 2026)}), accurate.ClassDuplicate)
	if _, err := c.SaveSalesInvoice(ctx, inv2); err != nil {
		t.Fatalf("the faktur after its customer exists: %v", err)
	}
	if got := len(sb.CreatedItems()); got != 2 {
		t.Errorf("%d items created, want 2", got)
	}
	sb.Reset()
	if len(sb.CreatedItems()) != 0 {
		t.Error("Reset kept the created items")
	}
	_, err = c.SaveSalesInvoice(ctx, inv)
	refusedWith(t, err, accurate.ClassNotFound, "SKU-BARU-1")
}

func TestKnownNumbersTellsWhichItemsAndCustomersAccurateHas(t *testing.T) {
	_, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	if err := c.SaveItem(ctx, &accurate.Item{No: "SKU-BARU-1", Name: "Barang baru", ItemType: "INVENTORY"}); err != nil {
		t.Fatal(err)
	}
	many := []string{"KAOS-HTM-L"}
	for i := range 150 { // more than one list.do's worth
		many = append(many, fmt.Sprintf("SKU-ABSENT-%d", i))
	}
	many = append(many, "SKU-BARU-1")
	for _, tc := range []struct {
		name    string
		kind    accurate.ListKind
		numbers []string
		want    map[string]bool
	}{
		{"items of the seed and items created are known, others not", accurate.ListItems,
			[]string{"KAOS-HTM-L", "SKU-BARU-1", "SKU-LAIN", "BRG-TOPI-01"}, map[string]bool{"KAOS-HTM-L": true, "SKU-BARU-1": true, "BRG-TOPI-01": true}},
		{"more numbers than one call asks about are all answered", accurate.ListItems,
			many, map[string]bool{"KAOS-HTM-L": true, "SKU-BARU-1": true}},
		{"customers are found by their customerNo", accurate.ListCustomers,
			[]string{"C-SHOPEE", "C-LAZADA"}, map[string]bool{"C-SHOPEE": true}},
		{"no numbers ask nothing", accurate.ListItems, nil, map[string]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.KnownNumbers(ctx, tc.kind, tc.numbers)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("known %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("a number filter Accurate ignores still answers exactly, reading on while pages are left", func(t *testing.T) {
		seed := sandbox.DefaultSeed()
		for i := range 250 { // three pages of every item
			seed.Items = append(seed.Items, fmt.Sprintf("SKU-SEED-%03d", i))
		}
		sb, srv := testaccurate.Serve(t, sandbox.Config{Seed: seed, Faults: sandbox.Faults{IgnoreNumberFilters: true}})
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
		got, err := c.KnownNumbers(ctx, accurate.ListItems, []string{"SKU-SEED-249", "SKU-SEED-000", "SKU-NOWHERE"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]bool{"SKU-SEED-249": true, "SKU-SEED-000": true}; !maps.Equal(got, want) {
			t.Errorf("known %v, want %v", got, want)
		}
		if n := sb.Calls()["item/list"]; n != 3 {
			t.Errorf("%d pages read; want all 3 while a number was still not found", n)
		}
	})
	t.Run("a list without numbers is refused", func(t *testing.T) {
		_, err := c.KnownNumbers(ctx, accurate.ListWarehouses, []string{"Utama"})
		refusedWith(t, err, accurate.ClassValidation, "not a numbered list")
	})
}

func TestSandboxBulkSavesReturnsRecordByRecord(t *testing.T) {
	_, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	if _, err := c.SaveSalesInvoice(ctx, tokopediaInvoice()); err != nil {
		t.Fatal(err)
	}
	noFaktur := exampleReturn()
	noFaktur.Number, noFaktur.InvoiceNumber = "RJ-NOFAKTUR", "NO-SUCH-FAKTUR"
	results, err := c.BulkSave(ctx, accurate.KindSalesReturn, []accurate.Record{
		{Number: "RJ-95001", Doc: exampleReturn()}, {Number: "RJ-NOFAKTUR", Doc: noFaktur}, {Number: "RJ-95001", Doc: exampleReturn()},
	})
	if err != nil {
		t.Fatalf("BulkSave: %v", err)
	}
	want := []accurate.Outcome{accurate.OutcomeSaved, accurate.OutcomeRefused, accurate.OutcomeExists}
	for i, r := range results {
		if r.Outcome != want[i] {
			t.Errorf("record %d (%s): %s (%v); want %s", i, r.Number, r.Outcome, r.Err, want[i])
		}
	}
	if found, err := c.Existing(ctx, accurate.KindSalesReturn, []string{"RJ-95001", "RJ-NOFAKTUR"}); err != nil || len(found) != 1 || found["RJ-95001"].ID == 0 {
		t.Errorf("Existing = %v, %v; want RJ-95001 alone", found, err)
	}
}
