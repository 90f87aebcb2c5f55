package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

func TestHostDiscoveryNamesThisServer(t *testing.T) {
	s := start(t, Config{})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method+" api-token.do answers the host under database and data usaha", func(t *testing.T) {
			status, e := s.call(method, "/api/api-token.do", nil)
			if status != http.StatusOK || !e.S {
				t.Fatalf("HTTP %d s=%v %s", status, e.S, e.D)
			}
			var d map[string]struct {
				Host string `json:"host"`
			}
			if err := json.Unmarshal(e.D, &d); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"database", "data usaha"} {
				if d[key].Host != s.srv.URL {
					t.Errorf("d[%q].host = %q, want %q", key, d[key].Host, s.srv.URL)
				}
			}
		})
	}
}

func TestExampleFakturAndPenerimaanAreSavedFoundAndSettled(t *testing.T) {
	s := start(t, Config{})
	for _, tc := range []struct {
		inv   accurate.SalesInvoice
		rc    accurate.SalesReceipt
		total money.Amount
	}{
		{shopeeInvoice(), shopeeReceipt(), rp(233000)},
		{tokopediaInvoice(), tokopediaReceipt(), rp(242000)},
	} {
		no := tc.inv.Number
		t.Run("faktur "+no+" is saved with its total", func(t *testing.T) {
			got := s.mustSave("sales-invoice", tc.inv)
			if got.Number != no || got.TotalAmount != tc.total || got.ID == 0 {
				t.Fatalf("r = %+v, want number %s, total %s and an id", got, no, tc.total)
			}
		})
		t.Run("faktur "+no+" is found by list.do with filter.number EQUAL", func(t *testing.T) {
			q := url.Values{"fields": {"id,number,totalAmount"}, "filter.number.op": {"EQUAL"}, "filter.number.val": {no}}
			_, e := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do?"+q.Encode(), nil)
			var rows []accurate.SavedDocument
			if err := json.Unmarshal(e.D, &rows); err != nil || !e.S {
				t.Fatalf("s=%v d=%s: %v", e.S, e.D, err)
			}
			if len(rows) != 1 || rows[0].Number != no || rows[0].TotalAmount != tc.total {
				t.Fatalf("rows = %+v, want one row %s of %s", rows, no, tc.total)
			}
			if e.SP == nil || e.SP.RowCount != 1 {
				t.Errorf("sp = %+v, want rowCount 1", e.SP)
			}
		})
		t.Run("faktur "+no+" detail owes its whole total before any receipt", func(t *testing.T) {
			d := invoiceDetail(t, s, url.Values{"number": {no}})
			if d.TotalAmount != tc.total || d.PrimeOwing != tc.total || d.Status != StatusOutstanding || d.CustomerNo != tc.inv.CustomerNo {
				t.Fatalf("detail = %+v, want total and owing %s, outstanding", d, tc.total)
			}
			if len(d.DetailItem) != len(tc.inv.DetailItem) {
				t.Errorf("detail has %d lines, want %d", len(d.DetailItem), len(tc.inv.DetailItem))
			}
			byID := invoiceDetail(t, s, url.Values{"id": {jsonInt(d.ID)}})
			if byID.Number != no {
				t.Errorf("detail by id %d is %q, want %q", d.ID, byID.Number, no)
			}
		})
		t.Run("penerimaan "+tc.rc.Number+" is saved and marks the faktur paid", func(t *testing.T) {
			got := s.mustSave("sales-receipt", tc.rc)
			if got.Number != tc.rc.Number || got.TotalAmount != tc.rc.ChequeAmount {
				t.Fatalf("r = %+v", got)
			}
			d := invoiceDetail(t, s, url.Values{"number": {no}})
			if d.PrimeOwing != 0 || d.Status != StatusPaid {
				t.Fatalf("after the receipt: owing %s, status %q; want 0, %q", d.PrimeOwing, d.Status, StatusPaid)
			}
		})
		t.Run("penerimaan "+tc.rc.Number+" is found by list.do and detail.do", func(t *testing.T) {
			q := url.Values{"filter.number.op": {"EQUAL"}, "filter.number.val": {tc.rc.Number}}
			_, e := s.call(http.MethodGet, "/accurate/api/sales-receipt/list.do?"+q.Encode(), nil)
			var rows []accurate.SavedDocument
			if err := json.Unmarshal(e.D, &rows); err != nil || len(rows) != 1 || rows[0].Number != tc.rc.Number {
				t.Fatalf("rows %s: %v", e.D, err)
			}
			_, e = s.call(http.MethodGet, "/accurate/api/sales-receipt/detail.do?number="+url.QueryEscape(tc.rc.Number), nil)
			var d accurate.ReceiptDetail
			if err := json.Unmarshal(e.D, &d); err != nil || !e.S {
				t.Fatalf("detail %s: %v", e.D, err)
			}
			if d.ChequeAmount != tc.rc.ChequeAmount || d.BankNo != tc.rc.BankNo || len(d.DetailInvoice) != 1 ||
				len(d.DetailInvoice[0].DetailDiscount) != len(tc.rc.DetailInvoice[0].DetailDiscount) {
				t.Fatalf("detail = %+v", d)
			}
		})
	}

	t.Run("the server keeps both documents of each kind in save order", func(t *testing.T) {
		invs, rcs := s.sb.Invoices(), s.sb.Receipts()
		if len(invs) != 2 || invs[0].Number != "2411260AB12CD3" || invs[1].Number != "INV/20261126/MPL/3819022331" {
			t.Fatalf("invoices = %+v", invs)
		}
		if invs[1].CashDiscount != rp(5000) || len(invs[1].DetailExpense) != 1 || invs[1].TotalAmount != rp(242000) {
			t.Errorf("tokopedia faktur kept as %+v", invs[1])
		}
		if len(rcs) != 2 || rcs[0].Number != "FP-90001" || rcs[1].Number != "FP-90002" {
			t.Fatalf("receipts = %+v", rcs)
		}
	})
	t.Run("a number never saved lists nothing", func(t *testing.T) {
		_, e := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do?filter.number.op=EQUAL&filter.number.val=NOPE", nil)
		if !e.S || string(e.D) != "[]" {
			t.Fatalf("s=%v d=%s, want an empty list", e.S, e.D)
		}
	})
	for _, kind := range []string{"sales-invoice", "sales-receipt"} {
		t.Run(kind+" detail of an unknown number answers s=false with tidak ditemukan", func(t *testing.T) {
			status, e := s.call(http.MethodGet, "/accurate/api/"+kind+"/detail.do?number=NOPE", nil)
			if status != http.StatusOK || e.S || !containsAll(e.messages(t), "tidak ditemukan atau sudah dihapus", "NOPE") {
				t.Fatalf("HTTP %d s=%v d=%s", status, e.S, e.D)
			}
		})
	}
}

func invoiceDetail(t *testing.T, s *sandbox, q url.Values) accurate.InvoiceDetail {
	t.Helper()
	status, e := s.call(http.MethodGet, "/accurate/api/sales-invoice/detail.do?"+q.Encode(), nil)
	var d accurate.InvoiceDetail
	if status != http.StatusOK || !e.S {
		t.Fatalf("detail %v: HTTP %d s=%v %s", q, status, e.S, e.D)
	}
	if err := json.Unmarshal(e.D, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestTotalsAreExactInSen(t *testing.T) {
	s := start(t, Config{})
	inv := shopeeInvoice()
	inv.Number = "SEN-1"
	inv.DetailItem = []accurate.InvoiceItem{
		{ItemNo: "KAOS-HTM-L", Quantity: 3, UnitPrice: 3333333, ItemCashDiscount: 1}, // 33.333,33 × 3 − 0,01
	}
	inv.CashDiscount = 10 // 0,10
	inv.DetailExpense = []accurate.InvoiceExpense{{AccountNo: "410201", ExpenseAmount: 1}}
	got := s.mustSave("sales-invoice", inv)
	if want := money.Amount(3*3333333 - 1 - 10 + 1); got.TotalAmount != want {
		t.Fatalf("total %s, want %s", got.TotalAmount, want)
	}
}

func TestPartialReceiptLeavesTheRestOwing(t *testing.T) {
	s := start(t, Config{})
	s.mustSave("sales-invoice", shopeeInvoice())
	rc := accurate.SalesReceipt{
		Number: "FP-PART", TransDate: date(29, 11, 2026), CustomerNo: "C-SHOPEE", BankNo: "110201",
		ChequeAmount:  rp(100000),
		DetailInvoice: []accurate.ReceiptInvoice{{InvoiceNo: "2411260AB12CD3", PaymentAmount: rp(100000)}},
	}
	s.mustSave("sales-receipt", rc)
	d := invoiceDetail(t, s, url.Values{"number": {"2411260AB12CD3"}})
	if d.PrimeOwing != rp(133000) || d.Status != StatusOutstanding {
		t.Fatalf("owing %s status %q, want 133.000 outstanding", d.PrimeOwing, d.Status)
	}
	t.Run("paying more than is still owed is refused with Nilai Pembayaran", func(t *testing.T) {
		over := shopeeReceipt() // pays 233.000 again
		msgs := s.refusal("sales-receipt", over)
		if !containsAll(msgs, "Nilai Pembayaran", "2411260AB12CD3", "233.000", "133.000") {
			t.Fatalf("messages %q", msgs)
		}
	})
}

func TestDocumentsWithoutANumberGetOne(t *testing.T) {
	s := start(t, Config{})
	var numbers []string
	for range 2 {
		inv := shopeeInvoice()
		inv.Number = ""
		numbers = append(numbers, s.mustSave("sales-invoice", inv).Number)
	}
	if numbers[0] == "" || numbers[0] == numbers[1] {
		t.Fatalf("generated numbers %q, want two distinct", numbers)
	}
	d := invoiceDetail(t, s, url.Values{"number": {numbers[1]}})
	if d.TotalAmount != rp(233000) {
		t.Fatalf("detail of %s = %+v", numbers[1], d)
	}
}

func TestRouting(t *testing.T) {
	s := start(t, Config{})
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"an unknown Accurate path is 404", http.MethodGet, "/accurate/api/purchase-invoice/list.do", http.StatusNotFound},
		{"a save by GET is 405", http.MethodGet, "/accurate/api/sales-invoice/save.do", http.StatusMethodNotAllowed},
		{"a detail by POST is served", http.MethodPost, "/accurate/api/sales-receipt/detail.do?number=X", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, e := s.call(tc.method, tc.path, nil); status != tc.want || e.S {
				t.Fatalf("HTTP %d s=%v, want %d", status, e.S, tc.want)
			}
		})
	}
}
