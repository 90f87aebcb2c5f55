package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// payout builds a payment of store 1009 settling the given invoices.
func payout(receive money.Amount, invoices ...forstok.PaymentInvoice) *forstok.Payment {
	return &forstok.Payment{
		ID:            90009,
		Reference:     "PAYOUT-9",
		PaidAt:        time.Date(2026, 11, 29, 0, 0, 0, 0, time.FixedZone("WIB", 7*3600)),
		StoreID:       1009,
		AmountReceive: forstok.Money{Amount: receive},
		Invoices:      invoices,
	}
}

func paid(id int64, number string) forstok.PaymentInvoice {
	return forstok.PaymentInvoice{ID: id, Order: forstok.PaymentOrder{ID: id, LocalName: number, StoreID: 1009}}
}

func TestInvoiceNumbersAreInOrderAndOnce(t *testing.T) {
	p := payout(0, paid(1, "B"), paid(2, "A"), paid(3, "B"), paid(4, "C"))
	if got, want := InvoiceNumbers(p), []string{"B", "A", "C"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSalesReceiptSettlesSeveralInvoices(t *testing.T) {
	s := exampleSettings(t)
	a, b, c := paid(1, "A"), paid(2, "B"), paid(3, "C")
	a.ServiceFee = rupiah(1000)
	b.VoucherSeller, b.PlatformRebate = rupiah(2000), rupiah(500)
	c.FulfillmentFee, c.CashlessShippingDifference = rupiah(300), sen(25)
	// 100,000 + 50,000 + 20,000 − 1,000 − 2,000 + 500 − 300 − 0.25
	p := payout(16719975, a, b, c)
	owing := map[string]money.Amount{"A": money.Rupiah(100000), "B": money.Rupiah(50000), "C": money.Rupiah(20000)}

	got, err := s.SalesReceipt(p, owing)
	if err != nil {
		t.Fatal(err)
	}
	want := []accurate.ReceiptInvoice{
		{InvoiceNo: "A", PaymentAmount: money.Rupiah(100000), DetailDiscount: []accurate.ReceiptDiscount{{AccountNo: "610202", Amount: money.Rupiah(1000)}}},
		{InvoiceNo: "B", PaymentAmount: money.Rupiah(50000), DetailDiscount: []accurate.ReceiptDiscount{{AccountNo: "610201", Amount: money.Rupiah(2000)}, {AccountNo: "410202", Amount: money.Rupiah(-500)}}},
		{InvoiceNo: "C", PaymentAmount: money.Rupiah(20000), DetailDiscount: []accurate.ReceiptDiscount{{AccountNo: "610203", Amount: money.Rupiah(300)}, {AccountNo: "610204", Amount: 25}}},
	}
	if !reflect.DeepEqual(got.DetailInvoice, want) {
		t.Errorf("detailInvoice\n got %+v\nwant %+v", got.DetailInvoice, want)
	}
	if got.Balance() != got.ChequeAmount || got.ChequeAmount != 16719975 {
		t.Errorf("balance %s, cheque %s", got.Balance(), got.ChequeAmount)
	}
	if got.Description != "Forstok payment 90009, PAYOUT-9" {
		t.Errorf("description %q", got.Description)
	}
}

func TestSalesReceiptSettlesAnInvoiceListedTwiceOnce(t *testing.T) {
	s := exampleSettings(t)
	first, again := paid(1, "A"), paid(1, "A")
	first.ServiceFee, again.FulfillmentFee = rupiah(1000), rupiah(200)
	got, err := s.SalesReceipt(payout(money.Rupiah(8800), first, again), map[string]money.Amount{"A": money.Rupiah(10000)})
	if err != nil {
		t.Fatal(err)
	}
	want := []accurate.ReceiptInvoice{{InvoiceNo: "A", PaymentAmount: money.Rupiah(10000), DetailDiscount: []accurate.ReceiptDiscount{
		{AccountNo: "610202", Amount: money.Rupiah(1000)}, {AccountNo: "610203", Amount: money.Rupiah(200)},
	}}}
	if !reflect.DeepEqual(got.DetailInvoice, want) || got.Balance() != got.ChequeAmount {
		t.Errorf("detailInvoice %+v, balance %s", got.DetailInvoice, got.Balance())
	}
}

func TestSalesReceiptResidual(t *testing.T) {
	owing := map[string]money.Amount{"A": money.Rupiah(100000), "B": money.Rupiah(50000)}
	for _, tc := range []struct {
		name       string
		receive    money.Amount
		difference string
		wantLine   *accurate.ReceiptDiscount
		wantErr    string
	}{
		{"an exact payout needs no difference line", money.Rupiah(149000), "610299", nil, ""},
		{"less cash than expected is booked as a positive difference on the last invoice", money.Rupiah(148650), "610299",
			&accurate.ReceiptDiscount{AccountNo: "610299", Amount: money.Rupiah(350)}, ""},
		{"more cash than expected is booked as a negative difference", money.Rupiah(149000) + 50, "610299",
			&accurate.ReceiptDiscount{AccountNo: "610299", Amount: -50}, ""},
		{"a residual without payment_difference fails with both figures", money.Rupiah(148650), "", nil,
			"payment 90009 does not balance: the fakturs less fees, vouchers and rebates come to 149,000 but amount_receive is 148,650, 350 apart: add amounts.payment_difference to book the difference, or correct the payment in Forstok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := exampleSettings(t)
			s.Amounts.PaymentDifference = tc.difference
			a := paid(1, "A")
			a.ServiceFee = rupiah(1000)
			got, err := s.SalesReceipt(payout(tc.receive, a, paid(2, "B")), owing)
			if tc.wantErr != "" {
				var me *Error
				if !errors.As(err, &me) || me.Key != "amounts.payment_difference" || me.Error() != tc.wantErr {
					t.Fatalf("error %v, want *Error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Balance() != tc.receive {
				t.Errorf("balance %s, cheque %s", got.Balance(), tc.receive)
			}
			if got.DetailInvoice[0].DetailDiscount[0].AccountNo != "610202" || len(got.DetailInvoice[0].DetailDiscount) != 1 {
				t.Errorf("first invoice's discounts changed: %+v", got.DetailInvoice[0].DetailDiscount)
			}
			last := got.DetailInvoice[1].DetailDiscount
			switch {
			case tc.wantLine == nil && len(last) != 0:
				t.Errorf("unexpected difference line %+v", last)
			case tc.wantLine != nil && (len(last) != 1 || last[0] != *tc.wantLine):
				t.Errorf("last invoice's discounts %+v, want %+v", last, *tc.wantLine)
			}
		})
	}
}

func TestSalesReceiptFailsWithASentenceNamingWhatToMap(t *testing.T) {
	withFee := func(set func(*forstok.PaymentInvoice)) *forstok.Payment {
		inv := paid(70001, "A")
		set(&inv)
		return payout(money.Rupiah(1000), inv)
	}
	for _, tc := range []struct {
		name    string
		unmap   func(*Amounts)
		payment *forstok.Payment
		wantKey string
		wantMsg string
	}{
		{"an unmapped service fee", func(a *Amounts) { a.ServiceFee = "" },
			withFee(func(i *forstok.PaymentInvoice) { i.ServiceFee = rupiah(11650) }),
			"amounts.service_fee", "invoice 70001 has service_fee 11,650 but amounts.service_fee is not mapped: add amounts.service_fee"},
		{"an unmapped seller voucher", func(a *Amounts) { a.VoucherSeller = "" },
			withFee(func(i *forstok.PaymentInvoice) { i.VoucherSeller = rupiah(10000) }),
			"amounts.voucher_seller", "invoice 70001 has voucher_seller 10,000 but amounts.voucher_seller is not mapped: add amounts.voucher_seller"},
		{"an unmapped fulfilment fee", func(a *Amounts) { a.FulfillmentFee = "" },
			withFee(func(i *forstok.PaymentInvoice) { i.FulfillmentFee = sen(300050) }),
			"amounts.fulfillment_fee", "invoice 70001 has fulfillment_fee 3,000.50 but amounts.fulfillment_fee is not mapped: add amounts.fulfillment_fee"},
		{"an unmapped shipping difference", func(a *Amounts) { a.ShippingDifference = "" },
			withFee(func(i *forstok.PaymentInvoice) { i.CashlessShippingDifference = rupiah(1000) }),
			"amounts.shipping_difference", "invoice 70001 has cashless_shipping_difference 1,000 but amounts.shipping_difference is not mapped: add amounts.shipping_difference"},
		{"an unmapped platform rebate", func(a *Amounts) { a.PlatformRebate = "" },
			withFee(func(i *forstok.PaymentInvoice) { i.PlatformRebate = rupiah(2000) }),
			"amounts.platform_rebate", "invoice 70001 has platform_rebate 2,000 but amounts.platform_rebate is not mapped: add amounts.platform_rebate"},
		{"an unmapped payment store", func(*Amounts) {},
			func() *forstok.Payment { p := payout(0, paid(1, "A")); p.StoreID = 1011; return p }(),
			`stores."1011"`, `store 1011 is not in stores: add stores."1011".customer_no and bank_no`},
		{"an invoice of a store of another customer", func(*Amounts) {},
			func() *forstok.Payment {
				inv := paid(70002, "B")
				inv.Order.StoreID = 1010
				return payout(0, paid(1, "A"), inv)
			}(),
			`stores."1010".customer_no`, "invoice 70002 (order B) is from store 1010 but payment 90009 is from store 1009, and a receipt settles one Accurate customer's fakturs only: map both stores to the same customer_no, or correct the payment in Forstok"},
		{"an invoice Accurate says is paid already", func(*Amounts) {},
			payout(0, paid(1, "PAID")),
			"", "faktur PAID has nothing left to pay in Accurate (owing 0), so payment 90009 would pay it twice: check the faktur's receipts in Accurate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := exampleSettings(t)
			s.Amounts.PaymentDifference = "610299" // a residual must not hide the real cause
			tc.unmap(&s.Amounts)
			owing := map[string]money.Amount{"A": money.Rupiah(100000), "B": money.Rupiah(1000), "PAID": 0}
			_, err := s.SalesReceipt(tc.payment, owing)
			wantError(t, err, tc.wantKey, tc.wantMsg)
		})
	}
}

func TestSalesReceiptAcceptsAnotherStoreOfTheSameCustomer(t *testing.T) {
	s := exampleSettings(t)
	s.Stores["1011"] = Store{CustomerNo: "C-SHOPEE", BankNo: "110299"}
	other := paid(2, "B")
	other.Order.StoreID = 1011
	got, err := s.SalesReceipt(payout(money.Rupiah(150000), paid(1, "A"), other),
		map[string]money.Amount{"A": money.Rupiah(100000), "B": money.Rupiah(50000)})
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerNo != "C-SHOPEE" || got.BankNo != "110201" {
		t.Errorf("customer %s bank %s, want the payment store's", got.CustomerNo, got.BankNo)
	}
}

func TestSalesReceiptWithoutAnOwingAmountIsTheCallersMistake(t *testing.T) {
	s := exampleSettings(t)
	_, err := s.SalesReceipt(payout(0, paid(1, "A"), paid(2, "B")), map[string]money.Amount{"A": 1})
	var me *Error
	if !errors.Is(err, ErrOwingMissing) || errors.As(err, &me) || !strings.Contains(err.Error(), "B") {
		t.Errorf("error %v, want ErrOwingMissing naming B", err)
	}
}
