package reconcile

import (
	"strconv"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// Filing is where an accepted event goes in the day book: the day of its
// document (yyyy-mm-dd in the mapping's time zone, the document's
// transDate) and the document it posts or would post. ok is false for
// events that post no document of their own (voids). A faktur's total is
// the mapping's own; a retur's is known once its worker maps it (it
// depends on the faktur and earlier returns), so Filing leaves it unknown.
func Filing(m *mapping.Settings, key string, ev forstok.Event) (day string, line events.DayLine, ok bool) {
	loc := m.Location()
	dayOf := func(t time.Time) string { return t.In(loc).Format(time.DateOnly) }
	switch {
	case ev.Invoice != nil && ev.Invoice.Order != nil:
		inv := ev.Invoice
		line = events.DayLine{Key: key, Kind: events.DocInvoice, Number: inv.Order.LocalName,
			Store: strconv.FormatInt(inv.Order.StoreID, 10), Invoice: inv.ID}
		if doc, err := m.SalesInvoice(inv); err == nil {
			if t := doc.Total(); t != money.Overflow {
				line.TotalSen, line.Known = int64(t), true
			}
		}
		return dayOf(inv.CreatedAt), line, true
	case ev.Payment != nil:
		p := ev.Payment
		return dayOf(p.PaidAt), events.DayLine{Key: key, Kind: events.DocPayout, Number: "FP-" + strconv.FormatInt(p.ID, 10),
			Store: strconv.FormatInt(p.StoreID, 10), TotalSen: int64(p.AmountReceive.Amount), Known: true}, true
	case ev.Return != nil:
		r := ev.Return
		return dayOf(r.ReturnedAt), events.DayLine{Key: key, Kind: events.DocReturn, Number: mapping.ReturNumber(r.ID),
			Store: strconv.FormatInt(r.Order.StoreID, 10)}, true
	}
	return "", events.DayLine{}, false
}

// ReturnFiling is a retur's line once its worker mapped the document.
func ReturnFiling(m *mapping.Settings, key string, r *forstok.Return, doc accurate.SalesReturn) (day string, line events.DayLine) {
	day = r.ReturnedAt.In(m.Location()).Format(time.DateOnly)
	line = events.DayLine{Key: key, Kind: events.DocReturn, Number: doc.Number, Store: strconv.FormatInt(r.Order.StoreID, 10)}
	if t := doc.Total(); t != money.Overflow {
		line.TotalSen, line.Known = int64(t), true
	}
	return day, line
}
