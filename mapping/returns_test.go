package mapping

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

func exampleReturn(t testing.TB) *forstok.Return {
	t.Helper()
	var r forstok.Return
	decodeExample(t, "return-created-tokopedia.json", &r)
	return &r
}

func TestTheExampleReturnIsTheBundleAtTheFaktursPrices(t *testing.T) {
	s := exampleSettings(t)
	sold, err := s.SoldByInvoice(exampleInvoice(t, "invoice-created-tokopedia-bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, returned, err := s.SalesReturn(exampleReturn(t), sold, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := accurate.SalesReturn{
		Number: "RJ-95001", TransDate: accurate.Date{Year: 2026, Month: time.December, Day: 3}, CustomerNo: "C-TOKOPEDIA",
		Description: "Forstok RET/FS/2026/12/95001, order INV/20261126/MPL/3819022331: Barang tidak sesuai pesanan",
		ReturnType:  "INVOICE", InvoiceNumber: "INV/20261126/MPL/3819022331",
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", DetailName: "Kaos Polos Hitam L", Quantity: 2, UnitPrice: money.Rupiah(53477), ItemCashDiscount: money.Rupiah(1), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", DetailName: "Topi Baseball", Quantity: 1, UnitPrice: money.Rupiah(33047), WarehouseName: "Utama"},
		},
	}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("retur\n%+v\nwant\n%+v", doc, want)
	}
	if doc.Total() != money.Rupiah(140000) {
		t.Errorf("total %s, want 140,000", rp(doc.Total()))
	}
	if returned.Whole || returned.Lines["line:11"].Units != 1 {
		t.Errorf("returned %+v", returned)
	}
}

func TestReturningTheWholeOrderReversesTheFakturExactly(t *testing.T) {
	s := exampleSettings(t)
	inv := exampleInvoice(t, "invoice-created-tokopedia-bundle.json")
	faktur, err := s.SalesInvoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	sold, _ := s.SoldByInvoice(inv)
	first, got1, err := s.SalesReturn(exampleReturn(t), sold, nil)
	if err != nil {
		t.Fatal(err)
	}
	rest := exampleReturn(t)
	rest.ID = 95002
	rest.ItemLines = []forstok.ReturnLine{{OrderItemLineID: 12, SKU: "KAOS-PTH-M", Quantity: 1}}
	rest.ShippingRefund = rupiah(12000)
	second, got2, err := s.SalesReturn(rest, sold, []Returned{got1})
	if err != nil {
		t.Fatal(err)
	}
	if !got2.Whole || second.CashDiscount != money.Rupiah(5000) || first.CashDiscount != 0 {
		t.Errorf("the last return should carry the order's 5,000 discount: %+v / %+v", first, second)
	}
	if sum := first.Total() + second.Total(); sum != faktur.Total() {
		t.Errorf("the returns total %s, the faktur %s", rp(sum), rp(faktur.Total()))
	}
	t.Run("a third return of anything is an over-return naming the line and both quantities", func(t *testing.T) {
		again := exampleReturn(t)
		again.ID = 95003
		_, _, err := s.SalesReturn(again, sold, []Returned{got1, got2})
		if err == nil || !strings.Contains(err.Error(), "line 11 (SKU PAKET-HEMAT) returns 1, but the order has 0 left to return (1 sold, 1 returned before)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a line that is not on the faktur is named", func(t *testing.T) {
		odd := exampleReturn(t)
		odd.ItemLines[0].OrderItemLineID, odd.ItemLines[0].SKU = 99, "TAS-01"
		if _, _, err := s.SalesReturn(odd, sold, nil); err == nil || !strings.Contains(err.Error(), "line 99 (SKU TAS-01) is not a line of faktur") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAFakturReadFromAccurateIsReturnedByItem(t *testing.T) {
	s := exampleSettings(t)
	detail := accurate.InvoiceDetail{Number: "X", CashDiscount: money.Rupiah(1000), DetailItem: []accurate.InvoiceItem{
		{ItemNo: "KAOS-PTH-M", Quantity: 3, UnitPrice: money.Rupiah(95000), ItemCashDiscount: money.Rupiah(2)},
	}}
	r := exampleReturn(t)
	r.ItemLines = []forstok.ReturnLine{{OrderItemLineID: 5, SKU: "KAOS-PTH-M", Quantity: 2}}
	doc, _, err := s.SalesReturn(r, SoldByDetail(detail), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.DetailItem) != 1 || doc.DetailItem[0].Quantity != 2 || doc.DetailItem[0].ItemCashDiscount != money.Amount(133) {
		t.Errorf("lines %+v; want 2 × 95,000 with 1.33 discount (2/3 of 2 rupiah, rounded down)", doc.DetailItem)
	}
}

// TestAnySplitOfALineIntoReturnsSumsToItExactly: whatever the order and
// however its units come back, in any number of returns in any order, the
// returns give back each faktur line's quantity and discount exactly, and
// together (with the last one's cash discount) the faktur's items total to
// the sen.
func TestAnySplitOfALineIntoReturnsSumsToItExactly(t *testing.T) {
	s := exampleSettings(t)
	rnd := rand.New(rand.NewPCG(7, 11))
	for i := range 2000 {
		inv := randomOrder(rnd)
		faktur, err := s.SalesInvoice(inv)
		if err != nil {
			continue
		}
		sold, err := s.SoldByInvoice(inv)
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		left := map[int64]int64{}
		for _, l := range inv.Order.ItemLines {
			left[l.ID] = l.Units()
		}
		var prior []Returned
		var returned []accurate.InvoiceItem
		var total, cashDiscount money.Amount
		for n := 1; len(left) > 0; n++ {
			r := &forstok.Return{ID: int64(n), ReturnedAt: time.Now(), Order: forstok.ReturnOrder{ID: 1, LocalName: "ORDER-9", StoreID: 1009, WarehouseID: 78}}
			for _, l := range inv.Order.ItemLines {
				if left[l.ID] == 0 || rnd.IntN(2) == 0 {
					continue
				}
				q := 1 + rnd.Int64N(left[l.ID])
				r.ItemLines = append(r.ItemLines, forstok.ReturnLine{OrderItemLineID: l.ID, SKU: l.SKU, Quantity: q})
				if left[l.ID] -= q; left[l.ID] == 0 {
					delete(left, l.ID)
				}
			}
			if len(r.ItemLines) == 0 {
				continue
			}
			doc, got, err := s.SalesReturn(r, sold, prior)
			if err != nil {
				t.Fatalf("order %d return %d: %v", i, n, err)
			}
			for _, l := range doc.DetailItem {
				if l.ItemCashDiscount < 0 || l.Amount() < 0 {
					t.Fatalf("order %d return %d: a line below zero %+v", i, n, l)
				}
			}
			prior = append(prior, got)
			returned = append(returned, doc.DetailItem...)
			total += doc.Total()
			cashDiscount += doc.CashDiscount
		}
		type key struct {
			itemNo string
			price  money.Amount
		}
		sum := func(lines []accurate.InvoiceItem) map[key][2]money.Amount {
			m := map[key][2]money.Amount{}
			for _, l := range lines {
				k := key{l.ItemNo, l.UnitPrice}
				v := m[k]
				m[k] = [2]money.Amount{v[0] + money.Amount(l.Quantity), v[1] + l.ItemCashDiscount}
			}
			return m
		}
		if got, want := sum(returned), sum(faktur.DetailItem); !reflect.DeepEqual(got, want) {
			t.Fatalf("order %d: returned (quantity, discount) by item and price\n%v\nthe faktur\n%v", i, got, want)
		}
		if cashDiscount != faktur.CashDiscount {
			t.Fatalf("order %d: the returns carried cash discount %s, the faktur %s", i, rp(cashDiscount), rp(faktur.CashDiscount))
		}
		var shipping money.Amount
		for _, e := range faktur.DetailExpense {
			shipping += e.ExpenseAmount
		}
		if total != faktur.Total()-shipping {
			t.Fatalf("order %d: the returns total %s, the faktur without shipping %s", i, rp(total), rp(faktur.Total()-shipping))
		}
	}
}

// TestWrongEarlierRecordsAreRefusedNotWrapped: the discounts of earlier
// returns are added and taken off with the money package's checked
// arithmetic, so that a record that cannot be right fails the return with a
// reason instead of sending Accurate a wrapped or negative discount.
func TestWrongEarlierRecordsAreRefusedNotWrapped(t *testing.T) {
	s := exampleSettings(t)
	sold, err := s.SoldByInvoice(exampleInvoice(t, "invoice-created-tokopedia-bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		prior []Returned
		want  string
	}{
		{"earlier discounts that add up beyond what Accurate holds are refused",
			[]Returned{
				{Lines: map[string]ReturnedLine{"line:12": {Units: 0, Discounts: []money.Amount{money.Max}}}},
				{Lines: map[string]ReturnedLine{"line:12": {Units: 0, Discounts: []money.Amount{money.Max}}}},
			},
			"give back discounts beyond"},
		{"earlier discounts above the faktur line's own are refused by the completing return",
			[]Returned{{Lines: map[string]ReturnedLine{"line:11": {Units: 0, Discounts: []money.Amount{money.Rupiah(50)}}}}},
			"more than the faktur's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.SalesReturn(exampleReturn(t), sold, tc.prior)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want one saying %q", err, tc.want)
			}
		})
	}
}
