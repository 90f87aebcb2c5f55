package mapping

import (
	"errors"
	"math"
	"strings"
	"testing"

	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// These payloads cannot pass intake (it bounds every amount and quantity),
// but the translation must not trust that: a sum or product that does not
// fit fails for good, as data to correct, and never wraps into a number that
// looks right.

func TestInvoiceTotalsThatDoNotFitFailForGood(t *testing.T) {
	s := exampleSettings(t)
	qty := func(l forstok.ItemLine, q int64) forstok.ItemLine { l.Quantity = &q; return l }
	withID := func(l forstok.ItemLine, id int64) forstok.ItemLine { l.ID = id; return l }
	tests := []struct {
		name    string
		inv     *forstok.Invoice
		mention string
	}{
		{"quantities 2^63−1, 2^63−1 and 3 of one SKU do not merge to 1",
			order(qty(line("KAOS", 1), math.MaxInt64), withID(qty(line("KAOS", 1), math.MaxInt64), 2), withID(qty(line("KAOS", 1), 3), 3)),
			"units"},
		{"a quantity times a price beyond int64 is refused",
			order(qty(line("KAOS", 100_000_000_000), 100_000_000_000)),
			"the most Accurate holds"},
		{"a line beyond what Accurate holds is refused",
			order(qty(line("KAOS", 999_999_999_999), 2)),
			"the most Accurate holds"},
		{"lines that each fit but sum beyond what Accurate holds are refused",
			order(line("A", 600_000_000_000), withID(line("B", 600_000_000_000), 2)),
			"comes to more than 999,999,999,999.99"},
		{"a bundle whose amount is beyond what Accurate holds is refused",
			order(bundle(money.Rupiah(900_000_000_000), 2, component("A", 1, 1), component("B", 1, 1))),
			"the most Accurate holds"},
		{"a shipping price beyond what Accurate holds is refused",
			func() *forstok.Invoice {
				inv := order(line("A", 1))
				inv.Order.Cashless = ptr(false)
				inv.Order.ShippingPrice = forstok.NewMoney(math.MaxInt64)
				return inv
			}(),
			"shipping_price"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := s.SalesInvoice(tc.inv)
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("SalesInvoice = %+v, %v; want a *mapping.Error (permanent)", doc.DetailItem, err)
			}
			if !strings.Contains(me.Msg, tc.mention) || !strings.Contains(me.Msg, "correct the order in Forstok") {
				t.Errorf("message %q; want it to mention %q and say what to do", me.Msg, tc.mention)
			}
		})
	}
}

func TestReceiptWhoseFeesWrapDoesNotBalance(t *testing.T) {
	s := exampleSettings(t)
	t.Run("fees that wrap around int64 to the right sum are refused", func(t *testing.T) {
		inv := paid(1, "A")
		// 100,000 owed − (2^62 + 2^62 + 2^62 + 2^62 sen of fees) wraps to
		// 100,000: a plain int64 balance would equal amount_receive.
		inv.ServiceFee = sen(1 << 62)
		inv.FulfillmentFee = sen(1 << 62)
		inv.VoucherSeller = sen(1 << 62)
		inv.CashlessShippingDifference = sen(1 << 62)
		p := payout(money.Rupiah(100_000), inv)
		doc, err := s.SalesReceipt(p, map[string]money.Amount{"A": money.Rupiah(100_000)})
		var me *Error
		if !errors.As(err, &me) || !strings.Contains(me.Msg, "the most Accurate holds") {
			t.Fatalf("SalesReceipt = %+v, %v; want a *mapping.Error saying it is more than Accurate holds", doc, err)
		}
	})
	t.Run("fees that fit int64 but cancel out beyond what Accurate holds are refused", func(t *testing.T) {
		inv := paid(1, "A")
		inv.ServiceFee = rupiah(5_000_000_000_000)
		inv.PlatformRebate = rupiah(5_000_000_000_000)
		p := payout(money.Rupiah(100_000), inv)
		_, err := s.SalesReceipt(p, map[string]money.Amount{"A": money.Rupiah(100_000)})
		var me *Error
		if !errors.As(err, &me) || !strings.Contains(me.Msg, "service_fee") {
			t.Fatalf("SalesReceipt error = %v; want a *mapping.Error naming service_fee", err)
		}
	})
}
