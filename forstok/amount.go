package forstok

import (
	"bytes"
	"encoding/json"
	"errors"
	"forstok-accurate-sync/money"
)

// NewMoney is a Money present in the payload with the given amount, for
// code and tests that build payloads by hand.
func NewMoney(a money.Amount) Money { return Money{Amount: a, present: true} }

// Present reports whether the field was in the payload with a non-null value.
func (m Money) Present() bool { return m.present }

// Problem is why the value could not be read ("has more than 2 decimal
// places", ...), or "" when it was read.
func (m Money) Problem() string { return m.problem }

// UnmarshalJSON accepts a JSON number, a decimal string or null (absent). It
// never fails: a value it cannot read is kept as a problem for validation to
// report with the field's path, so one bad amount does not hide the others.
// The literal goes to money.Parse as written, never through float64.
func (m *Money) UnmarshalJSON(b []byte) error {
	*m = Money{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	m.present = true
	if sen, ok := wholeRupiah(b); ok {
		m.Amount = sen // the usual case, without money.Parse's string copies
		if sen > money.Max {
			m.Amount, m.problem = 0, problemTooLarge
		}
		return nil
	}
	var lit string
	switch c := b[0]; {
	case c == '"' && bytes.IndexByte(b, '\\') < 0:
		lit = string(b[1 : len(b)-1]) // no escapes: the decoder checked the literal
	case c == '"':
		if err := json.Unmarshal(b, &lit); err != nil {
			m.problem = money.ErrSyntax.Error()
			return nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		lit = string(b)
	default: // true, false, an object or an array
		m.problem = money.ErrSyntax.Error()
		return nil
	}
	a, err := money.Parse(lit)
	switch {
	case err != nil:
		m.problem = amountProblem(err)
	case a < 0:
		m.problem = "must not be negative" // Forstok's amounts never are
	case a > money.Max:
		m.problem = problemTooLarge
	default:
		m.Amount = a
	}
	return nil
}

// problemTooLarge words an amount beyond money.Max. Bounding every amount
// here keeps every sum of a payload's amounts far inside int64, and a
// document within what Accurate holds.
var problemTooLarge = "is more than " + money.Max.Group(',', '.') + ", the most Accurate holds"

// MaxQuantity bounds a line's quantity and a bundle component's qty: far
// above any marketplace order, and small enough that quantity × price
// stays exact (mapping checks that the totals fit Accurate).
const MaxQuantity = 1_000_000

// wholeRupiah reads a bare JSON integer of at most 16 digits (money's own
// bound), which money.Parse would read the same way, as sen.
func wholeRupiah(b []byte) (money.Amount, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return money.Amount(n * 100), true
}

// amountProblem turns a money.Parse error into the words a FieldError uses.
func amountProblem(err error) string {
	for _, known := range []error{money.ErrTooPrecise, money.ErrOutOfRange, money.ErrSyntax} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return money.ErrSyntax.Error()
}
