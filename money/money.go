// Package money holds the one exact amount type that Forstok's payloads, the
// accounting and Accurate's documents share: rupiah counted in whole sen.
// Nothing on the money path ever passes through float64.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Amount is an exact amount of rupiah in sen (1/100 rupiah). It may be
// negative (a rebate booked as a negative discount); whether a negative value
// is allowed is for the caller to decide.
type Amount int64

// Rupiah is a convenience for whole rupiah amounts.
func Rupiah(r int64) Amount { return Amount(r * 100) }

// Errors returned by Parse; callers can test them with errors.Is.
var (
	ErrSyntax       = errors.New("is not a decimal number")
	ErrTooPrecise   = errors.New("has more than 2 decimal places")
	ErrOutOfRange   = errors.New("is too large")
	errEmptyLiteral = fmt.Errorf("empty: %w", ErrSyntax)
)

// maxDigits bounds the integer part so that sen always fit in an int64
// (9,223,372,036,854,775,807 sen is about 92 quadrillion rupiah).
const maxDigits = 16

// Parse reads a plain decimal literal: an optional minus sign, digits, and at
// most two decimal places ("150000", "150000.5", "-2000.00"). Trailing zeros
// beyond the second decimal place are accepted ("1.500"), other digits there
// are not. Exponents, "+", spaces and empty strings are refused.
func Parse(s string) (Amount, error) {
	if s == "" {
		return 0, errEmptyLiteral
	}
	neg := false
	body := s
	if body[0] == '-' {
		neg = true
		body = body[1:]
	}
	intPart, frac, hasPoint := strings.Cut(body, ".")
	if intPart == "" || (hasPoint && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return 0, ErrSyntax
	}
	if len(frac) > 2 {
		if strings.TrimRight(frac[2:], "0") != "" {
			return 0, ErrTooPrecise
		}
		frac = frac[:2]
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > maxDigits {
		return 0, ErrOutOfRange
	}
	var whole int64
	if intPart != "" {
		var err error
		if whole, err = strconv.ParseInt(intPart, 10, 64); err != nil {
			return 0, ErrOutOfRange
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	cents, _ := strconv.ParseInt(frac, 10, 64) // two digits, checked above
	sen := whole*100 + cents
	if neg {
		sen = -sen
	}
	return Amount(sen), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String writes the amount as a decimal literal with no trailing zero
// fraction: 15000000 sen is "150000", 15000050 is "150000.5", 15000005 is
// "150000.05".
func (a Amount) String() string {
	sign := ""
	v := int64(a)
	if v < 0 {
		sign = "-"
		if v == math.MinInt64 {
			return "-92233720368547758.08"
		}
		v = -v
	}
	whole, cents := v/100, v%100
	switch {
	case cents == 0:
		return fmt.Sprintf("%s%d", sign, whole)
	case cents%10 == 0:
		return fmt.Sprintf("%s%d.%d", sign, whole, cents/10)
	default:
		return fmt.Sprintf("%s%d.%02d", sign, whole, cents)
	}
}

// Format writes the amount for people, Indonesian style: "233.000" or
// "106.952,50".
func (a Amount) Format() string { return a.Group('.', ',') }

// Group writes the amount with a thousands separator and a decimal mark, the
// sen shown only when there are any: Group(',', '.') gives "106,952.50".
func (a Amount) Group(thousands, decimal byte) string {
	v := int64(a)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	digits := strconv.FormatInt(v/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(thousands)
		}
		b.WriteRune(d)
	}
	if cents := v % 100; cents != 0 {
		fmt.Fprintf(&b, "%c%02d", decimal, cents)
	}
	return b.String()
}

// MarshalJSON writes the amount as a JSON number, exactly.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalJSON reads a JSON number or a decimal string, exactly; null is 0.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*a = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := Parse(s)
	if err != nil {
		return fmt.Errorf("amount %q %w", s, err)
	}
	*a = v
	return nil
}
