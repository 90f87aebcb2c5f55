package money

import (
	"errors"
	"math"
	"math/bits"
)

// Max is the largest amount the books take: 999,999,999,999.99 rupiah.
// Accurate's numbers hold twelve integer digits (its API describes each
// amount and quantity as "Nilai maksimum: 999 miliar dengan 6 digit
// desimal"), so intake refuses a larger amount and a document whose total
// is larger fails for good rather than being sent.
const Max Amount = 99_999_999_999_999

// Overflow is what a total returns when the exact one cannot be computed
// (accurate's Total and Balance): it is above Max, so the check every
// document passes before it is sent (amount ≤ Max) refuses it, and an
// overflow never passes for a small, wrapped number.
const Overflow Amount = math.MaxInt64

// ErrOverflow means a sum or product of amounts is beyond what an Amount
// holds (about 92 quadrillion rupiah): far beyond Max, so never a document.
var ErrOverflow = errors.New("is too large to compute")

// Add is a + b, or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, ErrOverflow
	}
	return a + b, nil
}

// Sub is a − b, or ErrOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) {
		return 0, ErrOverflow
	}
	return a - b, nil
}

// Mul is a × n (an amount times a quantity), or ErrOverflow.
func (a Amount) Mul(n int64) (Amount, error) {
	neg := (a < 0) != (n < 0)
	hi, lo := bits.Mul64(abs(int64(a)), abs(n))
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // MinInt64
	}
	if hi != 0 || lo > limit {
		return 0, ErrOverflow
	}
	if neg && lo == 1<<63 {
		return math.MinInt64, nil
	}
	if neg {
		return -Amount(lo), nil
	}
	return Amount(lo), nil
}

// abs is |v| as a uint64, exact for MinInt64 too.
func abs(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// InBooks reports whether a is an amount the books take: |a| ≤ Max.
func (a Amount) InBooks() bool { return a >= -Max && a <= Max }

// Sum adds amounts, or returns ErrOverflow.
func Sum(amounts ...Amount) (Amount, error) {
	var t Amount
	for _, v := range amounts {
		var err error
		if t, err = t.Add(v); err != nil {
			return 0, err
		}
	}
	return t, nil
}
