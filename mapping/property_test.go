package mapping

import (
	"math/rand/v2"
	"testing"

	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// randomAmount is a price in sen: mostly whole rupiah, sometimes with sen.
func randomAmount(r *rand.Rand, maxRupiah int64) money.Amount {
	a := money.Rupiah(r.Int64N(maxRupiah + 1))
	if r.IntN(4) == 0 {
		a += money.Amount(r.Int64N(100))
	}
	return a
}

func randomOrder(r *rand.Rand) *forstok.Invoice {
	skus := []string{"KAOS-HTM-L", "TOPI-01", "KAOS-PTH-M", "TAS-01"}
	var lines []forstok.ItemLine
	for i := range 1 + r.IntN(6) {
		l := forstok.ItemLine{ID: int64(i + 1), SKU: skus[r.IntN(len(skus))], Name: "x", Price: forstok.Money{Amount: randomAmount(r, 500000)}}
		if r.IntN(2) == 0 {
			l.SalePrice = forstok.Money{Amount: randomAmount(r, 500000)}
		}
		if r.IntN(3) == 0 {
			l.Quantity = ptr(1 + r.Int64N(5))
		}
		if r.IntN(3) == 0 {
			for range 1 + r.IntN(4) {
				price := randomAmount(r, 200000)
				if r.IntN(5) == 0 {
					price = 0
				}
				l.BundleInfo = append(l.BundleInfo, forstok.BundleComponent{SKU: skus[r.IntN(len(skus))], Qty: 1 + r.Int64N(7), ItemPrice: forstok.Money{Amount: price}})
			}
		}
		lines = append(lines, l)
	}
	inv := order(lines...)
	inv.Order.Cashless = ptr(r.IntN(2) == 0)
	inv.Order.ShippingPrice = forstok.Money{Amount: randomAmount(r, 30000)}
	inv.Order.DiscountAmount = forstok.Money{Amount: randomAmount(r, 20000)}
	return inv
}

func TestEveryFakturTotalIsItemsLessDiscountPlusShipping(t *testing.T) {
	s := exampleSettings(t)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		inv := randomOrder(r)
		doc, err := s.SalesInvoice(inv)
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		var want money.Amount
		for _, l := range inv.Order.ItemLines {
			want += money.Amount(l.Units()) * l.UnitPrice()
		}
		want -= inv.Order.DiscountAmount.Amount
		if !inv.Order.IsCashless() {
			want += inv.Order.ShippingPrice.Amount
		}
		if doc.Total() != want {
			t.Fatalf("order %d: total %s, want %s\n%+v", i, doc.Total(), want, doc)
		}
		for _, l := range doc.DetailItem {
			if l.Quantity <= 0 || l.UnitPrice < 0 || l.ItemCashDiscount < 0 {
				t.Fatalf("order %d: a line that cannot be booked: %+v", i, l)
			}
		}
	}
}

func TestEveryReceiptBalances(t *testing.T) {
	s := exampleSettings(t)
	s.Amounts.PaymentDifference = "610299"
	r := rand.New(rand.NewPCG(3, 4))
	fee := func() forstok.Money {
		if r.IntN(2) == 0 {
			return forstok.Money{}
		}
		return forstok.Money{Amount: randomAmount(r, 20000)}
	}
	for i := range 3000 {
		owing := map[string]money.Amount{}
		var invoices []forstok.PaymentInvoice
		var expected money.Amount
		for j := range 1 + r.IntN(5) {
			inv := paid(int64(j+1), string(rune('A'+r.IntN(4)))) // repeats happen
			inv.VoucherSeller, inv.ServiceFee, inv.FulfillmentFee = fee(), fee(), fee()
			inv.CashlessShippingDifference, inv.PlatformRebate = fee(), fee()
			if _, ok := owing[inv.Order.LocalName]; !ok {
				owing[inv.Order.LocalName] = 1 + randomAmount(r, 1000000)
				expected += owing[inv.Order.LocalName]
			}
			expected -= inv.VoucherSeller.Amount + inv.ServiceFee.Amount + inv.FulfillmentFee.Amount + inv.CashlessShippingDifference.Amount
			expected += inv.PlatformRebate.Amount
			invoices = append(invoices, inv)
		}
		receive := expected
		if r.IntN(3) == 0 { // Forstok's figures are off now and then
			up, down := randomAmount(r, 1000), randomAmount(r, 1000)
			receive += up - down
		}
		doc, err := s.SalesReceipt(payout(receive, invoices...), owing)
		if err != nil {
			t.Fatalf("payout %d: %v", i, err)
		}
		if doc.Balance() != doc.ChequeAmount || doc.ChequeAmount != receive {
			t.Fatalf("payout %d: balance %s, cheque %s, received %s", i, doc.Balance(), doc.ChequeAmount, receive)
		}
		var differences int
		for _, d := range doc.DetailInvoice {
			for _, line := range d.DetailDiscount {
				if line.AccountNo == "610299" {
					differences++
				}
			}
		}
		if want := map[bool]int{true: 0, false: 1}[receive == expected]; differences != want {
			t.Fatalf("payout %d: %d difference lines, want %d", i, differences, want)
		}
	}
}

func BenchmarkSalesInvoice(b *testing.B) {
	s := exampleSettings(b)
	inv := exampleInvoice(b, "invoice-created-tokopedia-bundle.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SalesInvoice(inv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSalesReceipt(b *testing.B) {
	s := exampleSettings(b)
	p := examplePayment(b, "payment-received-shopee.json")
	owing := map[string]money.Amount{"2411260AB12CD3": money.Rupiah(233000)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SalesReceipt(p, owing); err != nil {
			b.Fatal(err)
		}
	}
}
