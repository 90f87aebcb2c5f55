package sandbox

import (
	"net/http"
	"testing"

	"forstok-accurate-sync/accurate"
)

func TestInvalidFaktursAreRefusedInAccuratesWords(t *testing.T) {
	s := start(t, Config{})
	s.mustSave("sales-invoice", shopeeInvoice())
	for _, tc := range []struct {
		name  string
		edit  func(*accurate.SalesInvoice)
		parts []string
	}{
		{"an unknown customer is not found", func(i *accurate.SalesInvoice) { i.CustomerNo = "C-X" },
			[]string{`Pelanggan "C-X" tidak ditemukan atau sudah dihapus`}},
		{"an unknown item is not found", func(i *accurate.SalesInvoice) { i.DetailItem[1].ItemNo = "TOPI-01" },
			[]string{`Barang "TOPI-01" tidak ditemukan atau sudah dihapus`}},
		{"an unknown warehouse is not found", func(i *accurate.SalesInvoice) { i.DetailItem[0].WarehouseName = "Primary Warehouse" },
			[]string{`Gudang "Primary Warehouse" tidak ditemukan atau sudah dihapus`}},
		{"an unknown branch is not found", func(i *accurate.SalesInvoice) { i.BranchName = "Bandung" },
			[]string{`Cabang "Bandung" tidak ditemukan atau sudah dihapus`}},
		{"an unknown expense account is not found", func(i *accurate.SalesInvoice) {
			i.DetailExpense = []accurate.InvoiceExpense{{AccountNo: "499999", ExpenseAmount: rp(1000)}}
		}, []string{`Akun "499999" tidak ditemukan atau sudah dihapus`}},
		{"a number already saved is a duplicate", func(*accurate.SalesInvoice) {},
			[]string{`Sudah ada data lain dengan No Faktur "2411260AB12CD3"`}},
		{"a missing customer is required", func(i *accurate.SalesInvoice) { i.CustomerNo = "" },
			[]string{"Pelanggan harus diisi"}},
		{"a missing date is required", func(i *accurate.SalesInvoice) { i.TransDate = accurate.Date{} },
			[]string{"Tanggal", "harus diisi"}},
		{"a line without an item no is refused", func(i *accurate.SalesInvoice) { i.DetailItem[0].ItemNo = "" },
			[]string{"Barang pada baris 1 harus diisi"}},
		{"a faktur without lines is refused", func(i *accurate.SalesInvoice) { i.DetailItem = nil },
			[]string{"Rincian barang harus diisi"}},
		{"a zero quantity is refused", func(i *accurate.SalesInvoice) { i.DetailItem[1].Quantity = 0 },
			[]string{"Kuantitas", "baris 2"}},
		{"a negative total is refused", func(i *accurate.SalesInvoice) { i.CashDiscount = rp(300000) },
			[]string{"Total faktur tidak boleh negatif"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := shopeeInvoice()
			if tc.name != "a number already saved is a duplicate" {
				inv.Number = "NEW-1"
			}
			tc.edit(&inv)
			if msgs := s.refusal("sales-invoice", inv); !containsAll(msgs, tc.parts...) {
				t.Fatalf("messages %q, want one containing %q", msgs, tc.parts)
			}
		})
	}
	t.Run("every problem is reported at once", func(t *testing.T) {
		inv := shopeeInvoice()
		inv.CustomerNo, inv.DetailItem[0].ItemNo = "C-X", "NOPE"
		msgs := s.refusal("sales-invoice", inv)
		if !containsAll(msgs, "C-X") || !containsAll(msgs, "NOPE") || !containsAll(msgs, "Sudah ada data lain dengan No") {
			t.Fatalf("messages %q", msgs)
		}
	})
	t.Run("a line without a unit price is refused, unlike an explicit 0", func(t *testing.T) {
		body := map[string]any{
			"number": "NO-PRICE", "transDate": "26/11/2026", "customerNo": "C-SHOPEE",
			"detailItem": []map[string]any{{"itemNo": "KAOS-HTM-L", "quantity": 1}},
		}
		if msgs := s.refusal("sales-invoice", body); !containsAll(msgs, "Harga satuan", "harus diisi") {
			t.Fatalf("messages %q", msgs)
		}
		body["detailItem"] = []map[string]any{{"itemNo": "KAOS-HTM-L", "unitPrice": 0}}
		if got := s.mustSave("sales-invoice", body); got.TotalAmount != 0 {
			t.Fatalf("a free item saved with total %s", got.TotalAmount)
		}
	})
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"a date not written dd/MM/yyyy is refused", map[string]any{"transDate": "2026-11-26"}, `Tanggal faktur "2026-11-26" tidak valid`},
		{"a body that is not a faktur is refused", map[string]any{"detailItem": "x"}, "Format data faktur tidak valid"},
		{"an amount that is not a number is refused", map[string]any{"cashDiscount": "1e3"}, "Format data faktur tidak valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, e := s.call(http.MethodPost, "/accurate/api/sales-invoice/save.do", tc.body)
			if status != http.StatusOK || e.S || !containsAll(e.messages(t), tc.want) {
				t.Fatalf("HTTP %d s=%v %s, want %q", status, e.S, e.D, tc.want)
			}
		})
	}
	t.Run("nothing refused was stored", func(t *testing.T) {
		if invs := s.sb.Invoices(); len(invs) != 2 { // the shopee faktur and the free item
			t.Fatalf("%d fakturs stored: %+v", len(invs), invs)
		}
	})
}

func TestInvalidPenerimaanAreRefusedInAccuratesWords(t *testing.T) {
	s := start(t, Config{})
	s.mustSave("sales-invoice", shopeeInvoice())
	s.mustSave("sales-invoice", tokopediaInvoice())
	paid := tokopediaReceipt()
	s.mustSave("sales-receipt", paid)
	for _, tc := range []struct {
		name  string
		edit  func(*accurate.SalesReceipt)
		parts []string
	}{
		{"an unknown customer is not found", func(r *accurate.SalesReceipt) { r.CustomerNo = "C-X" },
			[]string{`Pelanggan "C-X" tidak ditemukan atau sudah dihapus`}},
		{"an unknown bank is not found", func(r *accurate.SalesReceipt) { r.BankNo = "119999" },
			[]string{`Kas/Bank "119999" tidak ditemukan atau sudah dihapus`}},
		{"a GL account that is not a bank is not a bank", func(r *accurate.SalesReceipt) { r.BankNo = "610201" },
			[]string{`Kas/Bank "610201" tidak ditemukan atau sudah dihapus`}},
		{"an unknown discount account is not found", func(r *accurate.SalesReceipt) {
			r.DetailInvoice[0].DetailDiscount[0].AccountNo = "699999"
		}, []string{`Akun "699999" tidak ditemukan atau sudah dihapus`}},
		{"an unknown faktur is not found", func(r *accurate.SalesReceipt) { r.DetailInvoice[0].InvoiceNo = "NOPE-1" },
			[]string{`Faktur "NOPE-1" tidak ditemukan atau sudah dihapus`}},
		{"a faktur of another customer is refused", func(r *accurate.SalesReceipt) { r.CustomerNo = "C-TOKOPEDIA" },
			[]string{`Faktur "2411260AB12CD3"`, "C-TOKOPEDIA", "C-SHOPEE"}},
		{"an unbalanced receipt states both figures", func(r *accurate.SalesReceipt) { r.ChequeAmount = rp(213350) },
			[]string{"Nilai Cek", "213.350", "212.350"}},
		{"a payment above what the faktur owes is refused", func(r *accurate.SalesReceipt) {
			r.DetailInvoice[0].PaymentAmount = rp(233001)
			r.ChequeAmount = rp(212351)
		}, []string{"Nilai Pembayaran", "233.001", "233.000"}},
		{"a faktur already paid cannot be paid again", func(r *accurate.SalesReceipt) { *r = tokopediaReceipt(); r.Number = "FP-AGAIN" },
			[]string{"Nilai Pembayaran", "INV/20261126/MPL/3819022331", "melebihi"}},
		{"a number already saved is a duplicate", func(r *accurate.SalesReceipt) { r.Number = paid.Number },
			[]string{`Sudah ada data lain dengan No Bukti "FP-90002"`}},
		{"a missing bank is required", func(r *accurate.SalesReceipt) { r.BankNo = "" },
			[]string{"Kas/Bank harus diisi"}},
		{"a receipt without fakturs is refused", func(r *accurate.SalesReceipt) { r.DetailInvoice = nil },
			[]string{"Rincian faktur harus diisi"}},
		{"a discount without an account is refused", func(r *accurate.SalesReceipt) {
			r.DetailInvoice[0].DetailDiscount[1].AccountNo = ""
		}, []string{"Akun diskon pada baris 1.2 harus diisi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := shopeeReceipt()
			tc.edit(&rc)
			if msgs := s.refusal("sales-receipt", rc); !containsAll(msgs, tc.parts...) {
				t.Fatalf("messages %q, want one containing %q", msgs, tc.parts)
			}
		})
	}
	t.Run("required amounts left out are named", func(t *testing.T) {
		body := map[string]any{
			"number": "FP-NOAMT", "transDate": "29/11/2026", "customerNo": "C-SHOPEE", "bankNo": "110201",
			"detailInvoice": []map[string]any{{"invoiceNo": "2411260AB12CD3", "detailDiscount": []map[string]any{{"accountNo": "610201"}}}},
		}
		msgs := s.refusal("sales-receipt", body)
		for _, want := range []string{"Nilai Cek harus diisi", "Nilai Pembayaran pada baris 1 harus diisi", "Nilai diskon pada baris 1.1 harus diisi"} {
			if !containsAll(msgs, want) {
				t.Errorf("messages %q lack %q", msgs, want)
			}
		}
	})
	t.Run("a refused receipt leaves the faktur owing", func(t *testing.T) {
		if rcs := s.sb.Receipts(); len(rcs) != 1 {
			t.Fatalf("%d receipts stored", len(rcs))
		}
		if inv := s.sb.Invoices()[0]; inv.PrimeOwing != rp(233000) || inv.Status != StatusOutstanding {
			t.Fatalf("shopee faktur owes %s, %s", inv.PrimeOwing, inv.Status)
		}
	})
}
