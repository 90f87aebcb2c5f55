package mapping

import (
	"reflect"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

// The documents of docs/accounting.md's worked examples, whole.
var (
	wantShopeeFaktur = accurate.SalesInvoice{
		Number:       "2411260AB12CD3",
		TransDate:    accurate.Date{Year: 2026, Month: time.November, Day: 26},
		CustomerNo:   "C-SHOPEE",
		BranchName:   "Jakarta",
		Description:  "Forstok INV/FS/2026/11/70001, order 2411260AB12CD3 (Shopee, Forstok order 35001)",
		Taxable:      false,
		InclusiveTax: true,
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", DetailName: "Kaos Polos Hitam L", Quantity: 2, UnitPrice: money.Rupiah(89000), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", DetailName: "Topi Baseball", Quantity: 1, UnitPrice: money.Rupiah(55000), WarehouseName: "Utama"},
		},
	}
	wantTokopediaFaktur = accurate.SalesInvoice{
		Number:       "INV/20261126/MPL/3819022331",
		TransDate:    accurate.Date{Year: 2026, Month: time.November, Day: 27},
		CustomerNo:   "C-TOKOPEDIA",
		Description:  "Forstok INV/FS/2026/11/70002, order INV/20261126/MPL/3819022331 (Tokopedia, Forstok order 35002)",
		CashDiscount: money.Rupiah(5000),
		Taxable:      false,
		InclusiveTax: true,
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", DetailName: "Kaos Polos Hitam L", Quantity: 2, UnitPrice: money.Rupiah(53477), ItemCashDiscount: money.Rupiah(1), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", DetailName: "Topi Baseball", Quantity: 1, UnitPrice: money.Rupiah(33047), WarehouseName: "Utama"},
			{ItemNo: "KAOS-PTH-M", DetailName: "Kaos Polos Putih M", Quantity: 1, UnitPrice: money.Rupiah(95000), WarehouseName: "Utama"},
		},
		DetailExpense: []accurate.InvoiceExpense{
			{AccountNo: "410201", ExpenseAmount: money.Rupiah(12000), ExpenseName: "Ongkos kirim Tokopedia"},
		},
	}
	wantShopeeReceipt = accurate.SalesReceipt{
		Number:       "FP-90001",
		TransDate:    accurate.Date{Year: 2026, Month: time.November, Day: 29},
		CustomerNo:   "C-SHOPEE",
		BankNo:       "110201",
		BranchName:   "Jakarta",
		Description:  "Forstok payment 90001, SHOPEE-PAYOUT-20261129-001 (Marketplace payout)",
		ChequeAmount: money.Rupiah(212350),
		DetailInvoice: []accurate.ReceiptInvoice{{
			InvoiceNo:     "2411260AB12CD3",
			PaymentAmount: money.Rupiah(233000),
			DetailDiscount: []accurate.ReceiptDiscount{
				{AccountNo: "610201", Amount: money.Rupiah(10000)},
				{AccountNo: "610202", Amount: money.Rupiah(11650)},
				{AccountNo: "610204", Amount: money.Rupiah(1000)},
				{AccountNo: "410202", Amount: money.Rupiah(-2000)},
			},
		}},
	}
	wantTokopediaReceipt = accurate.SalesReceipt{
		Number:       "FP-90002",
		TransDate:    accurate.Date{Year: 2026, Month: time.November, Day: 30},
		CustomerNo:   "C-TOKOPEDIA",
		BankNo:       "110202",
		Description:  "Forstok payment 90002, TOKOPEDIA-SALDO-20261130-77 (Saldo Penjual)",
		ChequeAmount: money.Rupiah(229600),
		DetailInvoice: []accurate.ReceiptInvoice{{
			InvoiceNo:     "INV/20261126/MPL/3819022331",
			PaymentAmount: money.Rupiah(242000),
			DetailDiscount: []accurate.ReceiptDiscount{
				{AccountNo: "610202", Amount: money.Rupiah(9400)},
				{AccountNo: "610203", Amount: money.Rupiah(3000)},
			},
		}},
	}
)

func TestExamplesProduceTheDocumentedDocuments(t *testing.T) {
	s := exampleSettings(t)
	fakturTotals := map[string]money.Amount{}

	for _, tc := range []struct {
		name, file string
		want       accurate.SalesInvoice
		total      money.Amount
	}{
		{"the Shopee invoice becomes a cashless faktur of 233,000", "invoice-created-shopee.json", wantShopeeFaktur, money.Rupiah(233000)},
		{"the Tokopedia bundle invoice becomes a faktur of 242,000 dated in Jakarta", "invoice-created-tokopedia-bundle.json", wantTokopediaFaktur, money.Rupiah(242000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SalesInvoice(exampleInvoice(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("faktur\n got %+v\nwant %+v", got, tc.want)
			}
			if got.Total() != tc.total {
				t.Errorf("total %s, want %s", got.Total(), tc.total)
			}
			fakturTotals[got.Number] = got.Total()
		})
	}

	for _, tc := range []struct {
		name, file string
		want       accurate.SalesReceipt
	}{
		{"the Shopee payout becomes a balanced receipt with a negative rebate", "payment-received-shopee.json", wantShopeeReceipt},
		{"the Tokopedia payout with a string amount becomes a balanced receipt", "payment-received-tokopedia.json", wantTokopediaReceipt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The worker settles each faktur for the total it recorded when syncing it.
			got, err := s.SalesReceipt(examplePayment(t, tc.file), fakturTotals)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("receipt\n got %+v\nwant %+v", got, tc.want)
			}
			if got.Balance() != got.ChequeAmount {
				t.Errorf("balance %s, cheque %s", got.Balance(), got.ChequeAmount)
			}
		})
	}
}
