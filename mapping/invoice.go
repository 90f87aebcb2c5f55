package mapping

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// SalesInvoice translates an invoice.created into the faktur penjualan of
// docs/accounting.md. Its Total() is always items − discount_amount + shipping
// charged to the buyer, exactly. A store, warehouse or account that is not
// mapped, or data that cannot be booked, gives an *Error.
func (s *Settings) SalesInvoice(inv *forstok.Invoice) (accurate.SalesInvoice, error) {
	if inv == nil || inv.Order == nil {
		return accurate.SalesInvoice{}, errors.New("mapping: an invoice without its order")
	}
	o := inv.Order
	if strings.TrimSpace(o.LocalName) == "" {
		return accurate.SalesInvoice{}, dataError("invoice %d has no order.local_name, the faktur number: correct the order in Forstok", inv.ID)
	}
	store, err := s.store(o.StoreID, o.StoreName)
	if err != nil {
		return accurate.SalesInvoice{}, err
	}
	warehouse, err := s.warehouse(o.WarehouseID, o.WarehouseName)
	if err != nil {
		return accurate.SalesInvoice{}, err
	}
	items, err := s.invoiceItems(inv, warehouse)
	if err != nil {
		return accurate.SalesInvoice{}, err
	}

	ref := inv.InvoiceReference
	if ref == "" {
		ref = "invoice " + strconv.FormatInt(inv.ID, 10)
	}
	doc := accurate.SalesInvoice{
		Number:       o.LocalName,
		TransDate:    accurate.DateOf(inv.CreatedAt, s.Location()),
		CustomerNo:   store.CustomerNo,
		BranchName:   store.Branch,
		Description:  fmt.Sprintf("Forstok %s, order %s (%s, Forstok order %d)", ref, o.LocalName, o.Channel, o.ID),
		Taxable:      s.Tax.Enabled,
		InclusiveTax: s.Tax.Inclusive,
		DetailItem:   items,
	}

	switch d := o.DiscountAmount.Amount; {
	case !d.InBooks():
		return accurate.SalesInvoice{}, dataError("invoice %d has a discount_amount above %s, the most Accurate holds: correct the order in Forstok", inv.ID, rp(money.Max))
	case d < 0:
		return accurate.SalesInvoice{}, dataError("invoice %d has a negative discount_amount %s: correct the order in Forstok", inv.ID, rp(d))
	case d > 0:
		doc.CashDiscount = d
	}

	// Shipping the marketplace collects (cashless) never reaches the seller's
	// faktur; shipping the seller charged is an expense line.
	switch ship := o.ShippingPrice.Amount; {
	case !ship.InBooks():
		return accurate.SalesInvoice{}, dataError("invoice %d has a shipping_price above %s, the most Accurate holds: correct the order in Forstok", inv.ID, rp(money.Max))
	case ship < 0:
		return accurate.SalesInvoice{}, dataError("invoice %d has a negative shipping_price %s: correct the order in Forstok", inv.ID, rp(ship))
	case ship > 0 && !o.IsCashless():
		if s.Amounts.ShippingFee == "" {
			return accurate.SalesInvoice{}, mappingError("amounts.shipping_fee",
				"invoice %d charges the buyer shipping_price %s (not cashless) but amounts.shipping_fee is not mapped: add amounts.shipping_fee", inv.ID, rp(ship))
		}
		doc.DetailExpense = []accurate.InvoiceExpense{{
			AccountNo:     s.Amounts.ShippingFee,
			ExpenseAmount: ship,
			ExpenseName:   strings.TrimSpace("Ongkos kirim " + o.Channel),
		}}
	}
	// Every line fits; their sum might not. Sent anyway, Accurate would
	// refuse it, or worse, take a wrapped number: it fails here, for good.
	if t := doc.Total(); !t.InBooks() {
		return accurate.SalesInvoice{}, dataError("invoice %d comes to more than %s, the most Accurate holds on a faktur: split or correct the order in Forstok", inv.ID, rp(money.Max))
	}
	return doc, nil
}

// store finds a Forstok store in the mapping, with the keys a document needs.
func (s *Settings) store(id int64, name string) (Store, error) {
	key := strconv.FormatInt(id, 10)
	path := dataChild("stores", key)
	st, ok := s.Stores[key]
	if !ok {
		return Store{}, mappingError(path, "%s is not in stores: add %s.customer_no and bank_no", named("store", id, name), path)
	}
	if name == "" {
		name = st.Name
	}
	switch {
	case st.CustomerNo == "":
		return Store{}, mappingError(path+".customer_no", "%s has no customer_no: add %s.customer_no", named("store", id, name), path)
	case st.BankNo == "":
		return Store{}, mappingError(path+".bank_no", "%s has no bank_no: add %s.bank_no", named("store", id, name), path)
	}
	return st, nil
}

func (s *Settings) warehouse(id int64, name string) (string, error) {
	key := strconv.FormatInt(id, 10)
	path := dataChild("warehouses", key)
	w := s.Warehouses[key]
	if w == "" {
		return "", mappingError(path, "%s is not in warehouses: add %s", named("warehouse", id, name), path)
	}
	return w, nil
}

// itemNo is the Accurate item no of a SKU: the SKU itself unless mapped.
func (s *Settings) itemNo(sku string) string {
	if no, ok := s.Items[sku]; ok && no != "" {
		return no
	}
	return sku
}

// invoiceItems builds the faktur lines: one per (item no, unit price) in
// the order they first appear. A bundle component that keeps a rounding
// difference in itemCashDiscount stays a line of its own, so that a merged
// line never hides a discount.
func (s *Settings) invoiceItems(inv *forstok.Invoice, warehouse string) ([]accurate.InvoiceItem, error) {
	type key struct {
		itemNo string
		price  money.Amount
	}
	var lines []accurate.InvoiceItem
	at := map[key]int{}
	add := func(l accurate.InvoiceItem) error {
		if l.ItemCashDiscount == 0 {
			k := key{l.ItemNo, l.UnitPrice}
			if i, ok := at[k]; ok {
				if l.Quantity > maxQuantity-lines[i].Quantity {
					return dataError("invoice %d: item %s comes to more than %s units, the most Accurate holds on a line: correct the order in Forstok",
						inv.ID, l.ItemNo, strconv.FormatInt(maxQuantity, 10))
				}
				lines[i].Quantity += l.Quantity
				return nil
			}
			at[k] = len(lines)
		}
		lines = append(lines, l)
		return nil
	}

	for _, l := range inv.Order.ItemLines {
		units, price := l.Units(), l.UnitPrice()
		switch {
		case units <= 0:
			return nil, dataError("invoice %d line %d (SKU %s) has quantity %d: correct the order in Forstok", inv.ID, l.ID, l.SKU, units)
		case price < 0:
			return nil, dataError("invoice %d line %d (SKU %s) has a negative price %s: correct the order in Forstok", inv.ID, l.ID, l.SKU, rp(price))
		}
		if len(l.BundleInfo) == 0 {
			if err := add(accurate.InvoiceItem{
				ItemNo:        s.itemNo(l.SKU),
				DetailName:    strings.TrimSpace(l.Name + " " + l.VariantName),
				Quantity:      units,
				UnitPrice:     price,
				WarehouseName: warehouse,
				UseTax1:       s.Tax.Enabled,
			}); err != nil {
				return nil, err
			}
			continue
		}
		parts, err := explodeBundle(l)
		if err != nil {
			return nil, dataError("invoice %d line %d (bundle %s): %v: correct the order in Forstok", inv.ID, l.ID, l.SKU, err)
		}
		for _, p := range parts {
			if err := add(accurate.InvoiceItem{
				ItemNo:           s.itemNo(p.sku),
				DetailName:       p.name,
				Quantity:         p.quantity,
				UnitPrice:        p.unitPrice,
				ItemCashDiscount: p.discount,
				WarehouseName:    warehouse,
				UseTax1:          s.Tax.Enabled,
			}); err != nil {
				return nil, err
			}
		}
	}
	if len(lines) == 0 {
		return nil, dataError("invoice %d has no item_lines: correct the order in Forstok", inv.ID)
	}
	for _, l := range lines {
		switch {
		case l.Quantity > maxQuantity:
			return nil, dataError("invoice %d: item %s has %d units, more than the %s Accurate holds on a line: correct the order in Forstok",
				inv.ID, l.ItemNo, l.Quantity, strconv.FormatInt(maxQuantity, 10))
		case !l.Amount().InBooks():
			return nil, dataError("invoice %d: the line of item %s (%d × %s) comes to more than %s, the most Accurate holds: correct the order in Forstok",
				inv.ID, l.ItemNo, l.Quantity, rp(l.UnitPrice), rp(money.Max))
		}
	}
	return lines, nil
}

// maxQuantity is the largest quantity Accurate holds on a line (twelve
// integer digits, as its amounts).
const maxQuantity = 999_999_999_999

// bundlePart is one component of an exploded bundle line: quantity ×
// unitPrice − discount is its share of the bundle.
type bundlePart struct {
	sku, name string
	quantity  int64
	unitPrice money.Amount
	discount  money.Amount
}

// explodeBundle shares a bundle line's amount (unit price × units) among its
// components in proportion to item_price × qty. When every component is
// priced zero the share follows qty alone, so that no component is booked
// for nothing while another takes everything. The shares add up to the
// bundle amount exactly.
func explodeBundle(l forstok.ItemLine) ([]bundlePart, error) {
	units, price := l.Units(), l.UnitPrice()
	if units <= 0 || price < 0 {
		return nil, fmt.Errorf("quantity %d at %s cannot be booked", units, rp(price))
	}
	total, err := price.Mul(units)
	if err != nil || !total.InBooks() {
		return nil, fmt.Errorf("%d × %s comes to more than %s, the most Accurate holds", units, rp(price), rp(money.Max))
	}

	byPrice := make([]uint64, len(l.BundleInfo))
	byQty := make([]uint64, len(l.BundleInfo))
	var sumPrice, sumQty uint64
	for i, c := range l.BundleInfo {
		switch {
		case c.Qty <= 0:
			return nil, fmt.Errorf("component %s has qty %d", c.SKU, c.Qty)
		case c.ItemPrice.Amount < 0:
			return nil, fmt.Errorf("component %s has a negative item_price %s", c.SKU, rp(c.ItemPrice.Amount))
		case c.Qty > math.MaxInt64/units:
			return nil, fmt.Errorf("component %s has qty %d, too large", c.SKU, c.Qty)
		}
		hi, w := bits.Mul64(uint64(c.ItemPrice.Amount), uint64(c.Qty))
		var carryP, carryQ uint64
		sumPrice, carryP = bits.Add64(sumPrice, w, 0)
		sumQty, carryQ = bits.Add64(sumQty, uint64(c.Qty), 0)
		if hi != 0 || carryP != 0 || carryQ != 0 {
			return nil, fmt.Errorf("component %s: item_price × qty is too large", c.SKU)
		}
		byPrice[i], byQty[i] = w, uint64(c.Qty)
	}
	weights := byPrice
	if sumPrice == 0 {
		weights = byQty
	}

	shares := splitShares(total, weights)
	parts := make([]bundlePart, len(l.BundleInfo))
	for i, c := range l.BundleInfo {
		q := c.Qty * units // both at most MaxInt64/units: checked above
		up := ceilDiv(shares[i], q, total)
		// up × q exceeds the share by less than q steps; it still may not fit.
		gross, err := up.Mul(q)
		if err != nil || !gross.InBooks() {
			return nil, fmt.Errorf("component %s: quantity %d at %s comes to more than %s, the most Accurate holds", c.SKU, q, rp(up), rp(money.Max))
		}
		parts[i] = bundlePart{
			sku:       c.SKU,
			name:      strings.TrimSpace(c.Name),
			quantity:  q,
			unitPrice: up,
			discount:  gross - shares[i],
		}
	}
	return parts, nil
}

// shareUnit is the step a bundle is shared in: whole rupiah, or sen when the
// bundle amount itself has sen.
func shareUnit(total money.Amount) int64 {
	if total%100 == 0 {
		return 100
	}
	return 1
}

// splitShares splits total (≥ 0) in proportion to weights, in whole rupiah
// (sen when total has sen), by largest remainder: each gets the floor of its
// exact share, and what is left goes one step each to the largest
// remainders, the first component winning ties. The shares sum to total.
func splitShares(total money.Amount, weights []uint64) []money.Amount {
	unit := shareUnit(total)
	n := uint64(int64(total) / unit)
	var sum uint64
	for _, w := range weights {
		sum += w // the caller checked that this does not overflow
	}
	if sum == 0 {
		weights = slices.Repeat([]uint64{1}, len(weights))
		sum = uint64(len(weights))
	}
	steps := make([]uint64, len(weights))
	rems := make([]uint64, len(weights))
	var given uint64
	for i, w := range weights {
		// n × w / sum in 128 bits; the quotient is at most n, so it fits.
		hi, lo := bits.Mul64(n, w)
		steps[i], rems[i] = bits.Div64(hi, lo, sum)
		given += steps[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rems[a] > rems[b]:
			return -1
		case rems[a] < rems[b]:
			return 1
		}
		return 0
	})
	// Fewer steps are left than there are components.
	for k := 0; given < n; k++ {
		steps[order[k]]++
		given++
	}
	shares := make([]money.Amount, len(weights))
	for i, st := range steps {
		shares[i] = money.Amount(int64(st) * unit)
	}
	return shares
}

// ceilDiv is share ÷ quantity rounded up to the step the bundle was shared
// in, so that the line's discount is never negative.
func ceilDiv(share money.Amount, quantity int64, total money.Amount) money.Amount {
	unit := shareUnit(total)
	steps := int64(share) / unit
	up := steps / quantity
	if steps%quantity != 0 {
		up++
	}
	return money.Amount(up * unit)
}
