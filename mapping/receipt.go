package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// ReceiptNumber is the number of the penerimaan a payment becomes: the one
// place it is made, known before the document is built so that a retry can
// look it up first.
func ReceiptNumber(p *forstok.Payment) string { return "FP-" + strconv.FormatInt(p.ID, 10) }

// InvoiceNumbers lists the Accurate faktur numbers (order.local_name) a
// payment settles, in order, each once.
func InvoiceNumbers(p *forstok.Payment) []string {
	if p == nil {
		return nil
	}
	seen := make(map[string]bool, len(p.Invoices))
	out := make([]string, 0, len(p.Invoices))
	for _, inv := range p.Invoices {
		no := inv.Order.LocalName
		if no == "" || seen[no] {
			continue
		}
		seen[no] = true
		out = append(out, no)
	}
	return out
}

// SalesReceipt translates a payment.received into the penerimaan penjualan
// of docs/accounting.md. owing holds, for each faktur number of
// InvoiceNumbers(p), what is still owed on it; one missing is the caller's
// mistake (ErrOwingMissing). The receipt always balances: its Balance()
// equals ChequeAmount. An invoice listed twice is settled once, with the
// amounts of both entries.
//
// Every invoice must belong to the payment's store, or to a store mapped to
// the same Accurate customer: one receipt settles one customer's fakturs.
func (s *Settings) SalesReceipt(p *forstok.Payment, owing map[string]money.Amount) (accurate.SalesReceipt, error) {
	if p == nil {
		return accurate.SalesReceipt{}, errors.New("mapping: no payment")
	}
	if len(p.Invoices) == 0 {
		return accurate.SalesReceipt{}, dataError("payment %d settles no invoices: correct the payment in Forstok", p.ID)
	}
	store, err := s.store(p.StoreID, "")
	if err != nil {
		return accurate.SalesReceipt{}, err
	}

	desc := "Forstok payment " + strconv.FormatInt(p.ID, 10)
	if ref := strings.TrimSpace(p.Reference); ref != "" {
		desc += ", " + ref
	}
	if m := strings.TrimSpace(p.PaymentMethod); m != "" {
		desc += " (" + m + ")"
	}
	doc := accurate.SalesReceipt{
		Number:       ReceiptNumber(p),
		TransDate:    accurate.DateOf(p.PaidAt, s.Location()),
		CustomerNo:   store.CustomerNo,
		BankNo:       store.BankNo,
		BranchName:   store.Branch,
		Description:  desc,
		ChequeAmount: p.AmountReceive.Amount,
	}

	at := map[string]int{}
	for _, inv := range p.Invoices {
		no := inv.Order.LocalName
		if no == "" {
			return accurate.SalesReceipt{}, dataError("payment %d lists invoice %d without its order.local_name: correct the payment in Forstok", p.ID, inv.ID)
		}
		if err := s.sameCustomer(p, inv, store); err != nil {
			return accurate.SalesReceipt{}, err
		}
		discounts, err := s.receiptDiscounts(inv)
		if err != nil {
			return accurate.SalesReceipt{}, err
		}
		if i, ok := at[no]; ok {
			doc.DetailInvoice[i].DetailDiscount = append(doc.DetailInvoice[i].DetailDiscount, discounts...)
			continue
		}
		owed, ok := owing[no]
		if !ok {
			return accurate.SalesReceipt{}, fmt.Errorf("mapping: payment %d: %w %s", p.ID, ErrOwingMissing, no)
		}
		if owed <= 0 {
			// Booking the whole payout as a difference would hide a double payment.
			return accurate.SalesReceipt{}, dataError("faktur %s has nothing left to pay in Accurate (owing %s), so payment %d would pay it twice: check the faktur's receipts in Accurate", no, rp(owed), p.ID)
		}
		at[no] = len(doc.DetailInvoice)
		doc.DetailInvoice = append(doc.DetailInvoice, accurate.ReceiptInvoice{
			InvoiceNo:      no,
			PaymentAmount:  owed,
			DetailDiscount: discounts,
		})
	}

	// What the fakturs less their fees should have brought, against what came.
	balance := doc.Balance()
	if !balance.InBooks() || !doc.ChequeAmount.InBooks() {
		// Fees that wrap around int64 to the right sum must not balance.
		return accurate.SalesReceipt{}, dataError("payment %d: its fakturs less fees, vouchers and rebates, or its amount_receive, come to more than %s, the most Accurate holds: correct the payment in Forstok",
			p.ID, rp(money.Max))
	}
	if residual := balance - doc.ChequeAmount; residual != 0 {
		if s.Amounts.PaymentDifference == "" {
			return accurate.SalesReceipt{}, mappingError("amounts.payment_difference",
				"payment %d does not balance: the fakturs less fees, vouchers and rebates come to %s but amount_receive is %s, %s apart: add amounts.payment_difference to book the difference, or correct the payment in Forstok",
				p.ID, rp(balance), rp(doc.ChequeAmount), rp(residual))
		}
		last := &doc.DetailInvoice[len(doc.DetailInvoice)-1]
		last.DetailDiscount = append(last.DetailDiscount, accurate.ReceiptDiscount{AccountNo: s.Amounts.PaymentDifference, Amount: residual})
	}
	return doc, nil
}

// sameCustomer refuses an invoice of another store unless both stores are
// the same Accurate customer, since Accurate settles only the receipt
// customer's fakturs.
func (s *Settings) sameCustomer(p *forstok.Payment, inv forstok.PaymentInvoice, store Store) error {
	other := inv.Order.StoreID
	if other == 0 || other == p.StoreID {
		return nil
	}
	key := strconv.FormatInt(other, 10)
	if st, ok := s.Stores[key]; ok && st.CustomerNo == store.CustomerNo {
		return nil
	}
	return mappingError(dataChild("stores", key)+".customer_no",
		"invoice %d (order %s) is from store %d but payment %d is from store %d, and a receipt settles one Accurate customer's fakturs only: map both stores to the same customer_no, or correct the payment in Forstok",
		inv.ID, inv.Order.LocalName, other, p.ID, p.StoreID)
}

// receiptDiscounts books each non-zero fee, voucher and rebate of an invoice
// to its mapped account, in the order of docs/accounting.md's table.
func (s *Settings) receiptDiscounts(inv forstok.PaymentInvoice) ([]accurate.ReceiptDiscount, error) {
	kinds := [...]struct {
		field, key, account string
		amount              money.Amount
		sign                money.Amount
	}{
		{"voucher_seller", "voucher_seller", s.Amounts.VoucherSeller, inv.VoucherSeller.Amount, 1},
		{"service_fee", "service_fee", s.Amounts.ServiceFee, inv.ServiceFee.Amount, 1},
		{"fulfillment_fee", "fulfillment_fee", s.Amounts.FulfillmentFee, inv.FulfillmentFee.Amount, 1},
		{"cashless_shipping_difference", "shipping_difference", s.Amounts.ShippingDifference, inv.CashlessShippingDifference.Amount, 1},
		// A rebate is cash above the faktur: a negative discount.
		{"platform_rebate", "platform_rebate", s.Amounts.PlatformRebate, inv.PlatformRebate.Amount, -1},
	}
	var out []accurate.ReceiptDiscount
	for _, k := range kinds {
		if k.amount == 0 {
			continue
		}
		if !k.amount.InBooks() {
			return nil, dataError("invoice %d has %s above %s, the most Accurate holds: correct the payment in Forstok", inv.ID, k.field, rp(money.Max))
		}
		if k.account == "" {
			key := "amounts." + k.key
			return nil, mappingError(key, "invoice %d has %s %s but %s is not mapped: add %s", inv.ID, k.field, rp(k.amount), key, key)
		}
		out = append(out, accurate.ReceiptDiscount{AccountNo: k.account, Amount: k.sign * k.amount})
	}
	return out, nil
}
