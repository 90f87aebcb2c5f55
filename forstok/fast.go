package forstok

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"forstok-accurate-sync/money"
)

// The fast path. Nearly every body the service sees is a valid webhook, and
// intake decodes every one of them, so Decode first tries a path that reads
// the body as few times as it can: the type is read from the body's first
// key (or, when it is not first, from a byte scan of the top level), and one
// decode (encoding/json v2, github.com/go-json-experiment/json) fills the
// typed payload, which a hand-written check validates in place of the
// validator. That decode first runs with exactOptions: a Forstok webhook
// holds only the names of its fields, and a decode that refuses any other
// name and invalid UTF-8, followed by a count of the arrays' elements and
// a look at how deep a value kept as sent goes, has checked all that the
// strict check (strict.go) would, without its scan of the whole body. A
// body with some other key (ignored, as encoding/json ignores it) gets a
// second try: the strict check in its quick form, then the decode with
// lenientOptions. Anything unusual (a key
// spelled in another case or repeated, an escaped "type", a type that is
// not a plain string, any decode error, any invalid value) drops to the
// careful path, which decodes again with encoding/json and names every
// problem, so every 4xx is worded as before. The fast path may only accept
// what the careful path accepts, with the same result: FuzzDecode holds
// both tries to that, and TestValidMatchesTheValidateTags makes a change to
// a validate tag fail until valid() below is changed with it.

// decodeFast returns the event and true when body is a valid webhook of the
// usual shape; false means "ask the careful path", never "invalid".
func (d *Decoder) decodeFast(body []byte) (Event, bool) {
	t, ok := fastType(body)
	if !ok {
		return Event{}, false
	}
	if ev, ok := firstTry(t, body); ok {
		return ev, true
	}
	if !passesStrictCheck(body, t.shape) {
		return Event{}, false
	}
	return decodeOnce(t, body, lenientOptions)
}

// fastType is the event type named by body's "type" when the fast path can
// read it.
func fastType(body []byte) (eventType, bool) {
	typ, ok := leadingType(body)
	if !ok {
		typ, ok = topLevelType(body)
	}
	if !ok {
		return eventType{}, false
	}
	return lookupType(typ)
}

// firstTry decodes a body of at most exactMaxBody bytes holding only its
// fields' exact names.
func firstTry(t eventType, body []byte) (Event, bool) {
	if len(body) > exactMaxBody {
		return Event{}, false
	}
	return decodeOnce(t, body, exactOptions)
}

// decodeOnce is one try of the fast path's decode.
func decodeOnce(t eventType, body []byte, opts jsonv2.Options) (Event, bool) {
	payload, raw, ok := t.fast(body, opts)
	if !ok {
		return Event{}, false
	}
	ev := Event{Type: t.name}
	t.set(&ev, payload)
	if !isAbsent(raw) && ev.Timestamp.UnmarshalJSON(raw) != nil {
		return Event{}, false
	}
	return ev, true
}

// exactOptions are the first try's: encoding/json v2's defaults (names
// matched exactly, a repeated name an error, invalid UTF-8 refused, even a
// lone surrogate escape, which the second try reads), and a key that is
// not a field's exact name refused. The rest of what the
// strict check refuses the first try checks itself: an array longer than
// its validate tag allows in valid(), a value kept as sent that is nested
// too deep in shallow(), and the memory a body of countless empty elements
// would take by trying only bodies of at most exactMaxBody bytes.
var exactOptions = jsonv2.RejectUnknownMembers(true)

// exactMaxBody is the largest body the first try decodes: a webhook with a
// few dozen lines (an invoice of one line is 1.8 kB). It bounds what a
// decode of many elements allocates before valid() counts them (at most
// some 11,000 empty lines of 328 bytes each) where the strict check refuses
// such a body unread.
const exactMaxBody = 32 << 10

// The bounds the validate tags put on arrays, read from the tags so that
// valid() cannot drift from them (TestEveryArrayBoundIsCheckedOnTheFastPath
// finds a bound added elsewhere).
var (
	maxItemLines       = fieldMax[Order]("ItemLines")
	maxBundleLines     = fieldMax[ItemLine]("BundleInfo")
	maxPaymentInvoices = fieldMax[Payment]("Invoices")
)

// orderDepth is how deep an invoice's order sits in a body (data.order).
const orderDepth = 2

func fieldMax[T any](name string) int {
	f, ok := reflect.TypeFor[T]().FieldByName(name)
	n := tagMax(f)
	if !ok || n == 0 {
		panic("forstok: " + reflect.TypeFor[T]().Name() + "." + name + " has no max= in its validate tag")
	}
	return n
}

// shallow reports whether a value kept as sent (an address), found depth
// levels into the body, holds nothing deeper than the strict check follows:
// every open bracket counts as a level, at least as many as the check
// counts, so nothing it refuses is taken.
func shallow(raw json.RawMessage, depth int) bool {
	open := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			if open++; depth+open > maxDepth {
				return false
			}
		case '}', ']':
			open--
		case '"':
			_, _, next := scanString(raw, i)
			if next < 0 {
				return false
			}
			i = next - 1
		}
	}
	return true
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
	if len(o.ItemLines) == 0 || len(o.ItemLines) > maxItemLines || !shallow(o.Address, orderDepth+1) || !shallow(o.CustomerInfo, orderDepth+1) {
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
	if len(l.BundleInfo) > maxBundleLines {
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
		!p.AmountReceive.required() || !p.AmountReceive.valid() || len(p.Invoices) == 0 || len(p.Invoices) > maxPaymentInvoices {
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
