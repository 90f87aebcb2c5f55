package mapping

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// SoldLine is one order line as its faktur sold it: the faktur lines it
// became (one, or one per bundle component), for all of its units. A
// return gives back a share of each, at the faktur's own prices.
type SoldLine struct {
	Key   string // "line:<order line id>", or "item:<item no>" when read from Accurate
	SKU   string
	Units int64
	Parts []accurate.InvoiceItem
}

// Sold is what a faktur sold, the source of a retur's prices.
type Sold struct {
	Lines        []SoldLine
	CashDiscount money.Amount // the order's discount on the faktur
}

// SoldByInvoice is what the faktur of inv sold, line by line, as
// SalesInvoice posts it (bundles exploded the same way).
func (s *Settings) SoldByInvoice(inv *forstok.Invoice) (Sold, error) {
	if inv == nil || inv.Order == nil {
		return Sold{}, dataError("the invoice of this return has no order")
	}
	sold := Sold{CashDiscount: inv.Order.DiscountAmount.Amount}
	for _, l := range inv.Order.ItemLines {
		line := SoldLine{Key: "line:" + strconv.FormatInt(l.ID, 10), SKU: l.SKU, Units: l.Units()}
		if len(l.BundleInfo) == 0 {
			line.Parts = []accurate.InvoiceItem{{ItemNo: s.itemNo(l.SKU), DetailName: strings.TrimSpace(l.Name + " " + l.VariantName),
				Quantity: l.Units(), UnitPrice: l.UnitPrice()}}
		} else {
			parts, err := explodeBundle(l)
			if err != nil {
				return Sold{}, dataError("invoice %d line %d (bundle %s): %v", inv.ID, l.ID, l.SKU, err)
			}
			for _, p := range parts {
				line.Parts = append(line.Parts, accurate.InvoiceItem{ItemNo: s.itemNo(p.sku), DetailName: p.name,
					Quantity: p.quantity, UnitPrice: p.unitPrice, ItemCashDiscount: p.discount})
			}
		}
		sold.Lines = append(sold.Lines, line)
	}
	return sold, nil
}

// SoldByDetail is what a faktur this service did not post sold, from
// sales-invoice/detail.do: each faktur line stands for itself, found by
// its item no (bundles cannot be told apart there).
func SoldByDetail(d accurate.InvoiceDetail) Sold {
	sold := Sold{CashDiscount: d.CashDiscount}
	seen := map[string]bool{}
	for _, l := range d.DetailItem {
		if seen[l.ItemNo] {
			continue // the first line of an item answers for it
		}
		seen[l.ItemNo] = true
		sold.Lines = append(sold.Lines, SoldLine{Key: "item:" + l.ItemNo, SKU: l.ItemNo, Units: l.Quantity, Parts: []accurate.InvoiceItem{l}})
	}
	return sold
}

// Returned is what one retur gave back, by sold line: what later returns
// of the same faktur need to know.
type Returned struct {
	Lines map[string]ReturnedLine `json:"lines"`
	Whole bool                    `json:"whole,omitempty"` // it carried the order's cash discount
}

// ReturnedLine is the units of a sold line a retur gave back, and the
// discount of each of its parts.
type ReturnedLine struct {
	Units     int64          `json:"units"`
	Discounts []money.Amount `json:"discounts"`
}

// ReturPrefix begins the number of every retur the service posts.
const ReturPrefix = "RJ-"

// ReturNumber is the number of the retur penjualan a Forstok return
// becomes: RJ-<return id>.
func ReturNumber(returnID int64) string { return ReturPrefix + strconv.FormatInt(returnID, 10) }

// SalesReturn translates a return.created into its retur penjualan, against
// what the faktur sold and what earlier returns (prior) gave back. Prices
// come from the faktur; each part's discount is returned pro rata, rounded
// down, and the return that completes a line takes the remainder, so that
// all the returns of a line reverse it to the sen. The return that
// completes the whole order also carries its cash discount.
func (s *Settings) SalesReturn(r *forstok.Return, sold Sold, prior []Returned) (accurate.SalesReturn, Returned, error) {
	o := r.Order
	store, err := s.store(o.StoreID, "")
	if err != nil {
		return accurate.SalesReturn{}, Returned{}, err
	}
	warehouse, err := s.warehouse(o.WarehouseID, "")
	if err != nil {
		return accurate.SalesReturn{}, Returned{}, err
	}
	before := map[string]ReturnedLine{}
	whole := false
	for _, p := range prior {
		whole = whole || p.Whole
		for k, l := range p.Lines {
			b := before[k]
			b.Units += l.Units
			for i, d := range l.Discounts {
				for len(b.Discounts) <= i {
					b.Discounts = append(b.Discounts, 0)
				}
				sum, err := b.Discounts[i].Add(d)
				if err != nil || !sum.InBooks() {
					return accurate.SalesReturn{}, Returned{}, dataError("the earlier returns of faktur %s give back discounts beyond %s, the most Accurate holds: "+
						"their records are wrong; check the returs of faktur %s in Accurate", o.LocalName, rp(money.Max), o.LocalName)
				}
				b.Discounts[i] = sum
			}
			before[k] = b
		}
	}

	ref := r.ReturnReference
	if ref == "" {
		ref = "return " + strconv.FormatInt(r.ID, 10)
	}
	doc := accurate.SalesReturn{
		Number:        ReturNumber(r.ID),
		TransDate:     accurate.DateOf(r.ReturnedAt, s.Location()),
		CustomerNo:    store.CustomerNo,
		BranchName:    store.Branch,
		Description:   strings.TrimSpace(fmt.Sprintf("Forstok %s, order %s: %s", ref, o.LocalName, r.Reason)),
		ReturnType:    accurate.ReturnTypeInvoice,
		InvoiceNumber: o.LocalName,
	}
	this := Returned{Lines: map[string]ReturnedLine{}}
	asked := map[string]int64{}
	for _, rl := range r.ItemLines {
		line, ok := findSold(sold, rl, s)
		if !ok {
			return accurate.SalesReturn{}, Returned{}, dataError("return %d line %d (SKU %s) is not a line of faktur %s: correct the return in Forstok",
				r.ID, rl.OrderItemLineID, rl.SKU, o.LocalName)
		}
		asked[line.Key] += rl.Quantity
		left := line.Units - before[line.Key].Units
		if asked[line.Key] > left {
			return accurate.SalesReturn{}, Returned{}, dataError("return %d line %d (SKU %s) returns %d, but the order has %d left to return (%d sold, %d returned before): correct the return in Forstok",
				r.ID, rl.OrderItemLineID, rl.SKU, asked[line.Key], left, line.Units, before[line.Key].Units)
		}
	}
	for _, line := range sold.Lines {
		q := asked[line.Key]
		if q == 0 {
			continue
		}
		done := before[line.Key].Units+q == line.Units
		got := ReturnedLine{Units: q, Discounts: make([]money.Amount, len(line.Parts))}
		for i, p := range line.Parts {
			var disc money.Amount
			var priorDisc money.Amount
			if i < len(before[line.Key].Discounts) {
				priorDisc = before[line.Key].Discounts[i]
			}
			if done {
				// The completing return takes what the earlier ones left.
				left, err := p.ItemCashDiscount.Sub(priorDisc)
				if err != nil || left < 0 {
					return accurate.SalesReturn{}, Returned{}, dataError("return %d: the earlier returns of faktur %s gave back %s of item %s's discount, more than the faktur's %s: "+
						"check the returs of faktur %s in Accurate", r.ID, o.LocalName, rp(priorDisc), p.ItemNo, rp(p.ItemCashDiscount), o.LocalName)
				}
				disc = left
			} else {
				disc = proRata(p.ItemCashDiscount, q, line.Units)
			}
			got.Discounts[i] = disc
			doc.DetailItem = append(doc.DetailItem, accurate.InvoiceItem{
				ItemNo:           p.ItemNo,
				DetailName:       p.DetailName,
				Quantity:         p.Quantity / line.Units * q,
				UnitPrice:        p.UnitPrice,
				ItemCashDiscount: disc,
				WarehouseName:    warehouse,
				UseTax1:          s.Tax.Enabled,
			})
		}
		this.Lines[line.Key] = got
	}
	if !whole && sold.CashDiscount > 0 && allReturned(sold, before, asked) {
		doc.CashDiscount = sold.CashDiscount
		this.Whole = true
	}
	if ship := r.ShippingRefund.Amount; ship > 0 {
		if s.Amounts.ShippingFee == "" {
			return accurate.SalesReturn{}, Returned{}, mappingError("amounts.shipping_fee",
				"return %d refunds shipping %s but amounts.shipping_fee is not mapped: add amounts.shipping_fee", r.ID, rp(ship))
		}
		doc.DetailExpense = []accurate.InvoiceExpense{{AccountNo: s.Amounts.ShippingFee, ExpenseAmount: ship, ExpenseName: "Ongkos kirim dikembalikan"}}
	}
	return doc, this, nil
}

// findSold finds the sold line a returned line comes from: by its order
// line id, or by its item no when the faktur was read from Accurate.
func findSold(sold Sold, rl forstok.ReturnLine, s *Settings) (SoldLine, bool) {
	for _, l := range sold.Lines {
		if l.Key == "line:"+strconv.FormatInt(rl.OrderItemLineID, 10) || l.Key == "item:"+s.itemNo(rl.SKU) {
			return l, true
		}
	}
	return SoldLine{}, false
}

func allReturned(sold Sold, before map[string]ReturnedLine, asked map[string]int64) bool {
	for _, l := range sold.Lines {
		if before[l.Key].Units+asked[l.Key] != l.Units {
			return false
		}
	}
	return true
}

// proRata is d × q ÷ n rounded down, in sen, without overflow.
func proRata(d money.Amount, q, n int64) money.Amount {
	x := new(big.Int).Mul(big.NewInt(int64(d)), big.NewInt(q))
	return money.Amount(x.Quo(x, big.NewInt(n)).Int64())
}
