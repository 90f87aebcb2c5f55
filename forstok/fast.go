package forstok

import (
	"bytes"
	"strings"
	"time"

	"forstok-accurate-sync/money"
)

// The fast path. Nearly every body the service sees is a valid webhook, and
// intake decodes every one of them, so Decode first tries a path that reads
// the body as few times as it can: the type is read from the body's first
// key (or, when it is not first, from a byte scan of the top level), the
// strict check (strict.go) runs in its quick form, one decode (encoding/json
// v2, github.com/go-json-experiment/json, which refuses a repeated name
// itself) fills the typed payload, and a hand-written check stands in for
// the validator. Anything unusual (a key spelled in another case or
// repeated, an escaped "type", a type that is not a plain string, any
// decode error, any invalid value) drops to the careful path, which decodes
// again with encoding/json and names every problem, so every 4xx is worded
// as before. The fast path may only accept what the careful path accepts,
// with the same result: FuzzDecode holds it to that, and
// TestValidateTagsMatchTheFastCheck makes a change to a validate tag fail
// until valid() below is changed with it.

// decodeFast returns the event and true when body is a valid webhook of the
// usual shape; false means "ask the careful path", never "invalid".
func (d *Decoder) decodeFast(body []byte) (Event, bool) {
	typ, ok := leadingType(body)
	if !ok {
		typ, ok = topLevelType(body)
	}
	if !ok {
		return Event{}, false
	}
	t, ok := lookupType(typ)
	if !ok {
		return Event{}, false
	}
	if !passesStrictCheck(body, t.shape) {
		return Event{}, false
	}
	payload, raw, ok := t.fast(body)
	if !ok {
		return Event{}, false
	}
	ev := Event{Type: typ}
	t.set(&ev, payload)
	if !isAbsent(raw) && ev.Timestamp.UnmarshalJSON(raw) != nil {
		return Event{}, false
	}
	return ev, true
}

// leadingType is the value of "type" when it is the body's first key,
// written exactly, with a plain string: how every Forstok webhook starts.
// Such a body needs no scan of its top level: a "type" repeated later is
// refused by the decoder, a "Type" by the strict check (both against the
// whole body), and a type that is not what the decoder reads is not taken.
func leadingType(body []byte) (string, bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return "", false
	}
	i = skipSpace(body, i+1)
	if !bytes.HasPrefix(body[i:], []byte(`"type"`)) {
		return "", false
	}
	typ, _, ok := plainStringValue(body, i+len(`"type"`))
	return typ, ok
}

// envelopeKeys are the envelope's JSON names, in the order topLevelType
// tracks them.
var envelopeKeys = [...]string{"type", "timestamp", "data"}

// topLevelType scans the top level of what should be a JSON object and
// returns the value of "type" when it is a plain string and every key that
// encoding/json would match to an envelope field (case-insensitively) is
// written exactly and only once: then one decode of the whole body sees the
// same type, timestamp and data as the careful path's envelope does. It
// trusts nothing else: the decode checks the body after it.
func topLevelType(body []byte) (string, bool) {
	var (
		seen      [len(envelopeKeys)]bool
		typ       string
		depth     int
		expectKey bool
	)
	for i := 0; i < len(body); {
		switch c := body[i]; c {
		case '{', '[':
			depth++
			if depth == 1 {
				if c != '{' {
					return "", false
				}
				expectKey = true
			}
			i++
		case '}', ']':
			depth--
			i++
		case ',':
			if depth == 1 {
				expectKey = true
			}
			i++
		case '"':
			s, escaped, next := scanString(body, i)
			if next < 0 {
				return "", false
			}
			i = next
			if depth != 1 || !expectKey {
				continue
			}
			expectKey = false
			if escaped {
				return "", false // an escaped key might spell an envelope key
			}
			k := envelopeKey(s)
			if k < 0 {
				continue
			}
			if seen[k] || string(s) != envelopeKeys[k] {
				return "", false
			}
			seen[k] = true
			if k == 0 {
				v, next, ok := plainStringValue(body, i)
				if !ok {
					return "", false
				}
				typ, i = v, next
			}
		default:
			i++
		}
	}
	return typ, typ != ""
}

// envelopeKey is the index in envelopeKeys of the name encoding/json would
// match to key (bytes.EqualFold is its rule), or -1.
func envelopeKey(key []byte) int {
	for k, name := range envelopeKeys {
		if bytes.EqualFold(key, []byte(name)) {
			return k
		}
	}
	return -1
}

// scanString reads the string starting at body[at] == '"': its raw content,
// whether it holds escapes, and the index after its closing quote (-1 when
// unterminated).
func scanString(body []byte, at int) (content []byte, escaped bool, next int) {
	for j := at + 1; j < len(body); j++ {
		switch body[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return body[at+1 : j], escaped, j + 1
		}
	}
	return nil, false, -1
}

// plainStringValue reads `: "value"` after a key, allowing JSON whitespace,
// when the value is a string without escapes.
func plainStringValue(body []byte, at int) (string, int, bool) {
	i := skipSpace(body, at)
	if i >= len(body) || body[i] != ':' {
		return "", 0, false
	}
	i = skipSpace(body, i+1)
	if i >= len(body) || body[i] != '"' {
		return "", 0, false
	}
	s, escaped, next := scanString(body, i)
	if next < 0 || escaped {
		return "", 0, false
	}
	return string(s), next, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// The valid methods say what the validate tags of types.go say, in plain
// Go: "required" is a non-zero value (a non-nil pointer or slice), "gt=0"
// is > 0, "min=1" is at least one element, "money" is a readable, non-negative
// amount. They answer only "certainly valid"; the validator has the last
// word, and the words, whenever they say no.

func (m Money) valid() bool { return m.problem == "" && m.Amount >= 0 && m.Amount <= money.Max }

// visible is the "ordernumber" validation's condition.
func visible(s string) bool {
	i, _ := invisible(s)
	return i < 0
}

func (m Money) required() bool { return m != Money{} }

func (inv *Invoice) valid() bool {
	return inv.ID > 0 && inv.InvoiceReference != "" && inv.CreatedAt != (time.Time{}) &&
		inv.Order != nil && inv.Order.valid()
}

func (o *Order) valid() bool {
	if o.ID <= 0 || strings.TrimSpace(o.LocalName) == "" || !visible(o.LocalName) || o.Channel == "" || o.ChannelID <= 0 || o.StoreID <= 0 ||
		o.WarehouseID <= 0 || o.Cashless == nil {
		return false
	}
	if !o.ShippingPrice.valid() || !o.DiscountAmount.valid() || !o.Subtotal.valid() ||
		!o.TotalPrice.valid() || !o.TaxPrice.valid() {
		return false
	}
	if len(o.ItemLines) == 0 {
		return false
	}
	for i := range o.ItemLines {
		if !o.ItemLines[i].valid() {
			return false
		}
	}
	return true
}

func (l *ItemLine) valid() bool {
	if l.ID <= 0 || l.SKU == "" || !l.Price.required() || (l.Quantity != nil && (*l.Quantity <= 0 || *l.Quantity > MaxQuantity)) {
		return false
	}
	if !l.Price.valid() || !l.SalePrice.valid() || !l.VoucherAmount.valid() || !l.VoucherSeller.valid() ||
		!l.VoucherPlatform.valid() || !l.TaxPrice.valid() || !l.TotalPrice.valid() {
		return false
	}
	for i := range l.BundleInfo {
		if !l.BundleInfo[i].valid() {
			return false
		}
	}
	return true
}

func (c *BundleComponent) valid() bool {
	return c.SKU != "" && c.Qty > 0 && c.Qty <= MaxQuantity && c.ItemPrice.required() && c.ItemPrice.valid()
}

func (p *Payment) valid() bool {
	if p.ID <= 0 || p.PaidAt == (time.Time{}) || p.StoreID <= 0 ||
		!p.AmountReceive.required() || !p.AmountReceive.valid() || len(p.Invoices) == 0 {
		return false
	}
	for i := range p.Invoices {
		if !p.Invoices[i].valid() {
			return false
		}
	}
	return true
}

func (pi *PaymentInvoice) valid() bool {
	return pi.ID > 0 && pi.Order != (PaymentOrder{}) && pi.Order.ID > 0 && strings.TrimSpace(pi.Order.LocalName) != "" && visible(pi.Order.LocalName) &&
		pi.Total.valid() && pi.VoucherSeller.valid() && pi.ServiceFee.valid() && pi.FulfillmentFee.valid() &&
		pi.CashlessShippingDifference.valid() && pi.PlatformRebate.valid()
}

func (v *Void) valid() bool {
	o := v.Order
	return v.ID > 0 && v.VoidedAt != (time.Time{}) && o != (VoidOrder{}) && o.ID > 0 && o.LocalName != "" && visible(o.LocalName) && o.StoreID > 0
}

func (r *Return) valid() bool {
	o := r.Order
	if r.ID <= 0 || r.ReturnedAt == (time.Time{}) || o == (ReturnOrder{}) || o.ID <= 0 || o.LocalName == "" || !visible(o.LocalName) ||
		o.StoreID <= 0 || o.WarehouseID <= 0 || len(r.ItemLines) == 0 || !r.ShippingRefund.valid() {
		return false
	}
	for _, l := range r.ItemLines {
		if l.OrderItemLineID <= 0 || l.SKU == "" || l.Quantity <= 0 {
			return false
		}
	}
	return true
}
