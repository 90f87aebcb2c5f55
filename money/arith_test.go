package money

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// TestArithmeticIsExactOrRefused checks Add, Sub and Mul against big.Int on
// the values either side of int64's ends: each gives the exact result or
// ErrOverflow, never a wrapped one.
func TestArithmeticIsExactOrRefused(t *testing.T) {
	values := []int64{0, 1, -1, 2, -2, 3, 100, -100, Max.int(), -Max.int(), 1 << 62, -(1 << 62),
		math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1, 3037000499, 3037000500, -3037000500,
		4611686018427387904, 92233720368547758}
	lo, hi := big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	check := func(op string, a, b int64, got Amount, err error, exact *big.Int) {
		t.Helper()
		fits := exact.Cmp(lo) >= 0 && exact.Cmp(hi) <= 0
		switch {
		case fits && (err != nil || int64(got) != exact.Int64()):
			t.Errorf("%d %s %d = %d, %v; want %s", a, op, b, got, err, exact)
		case !fits && !errors.Is(err, ErrOverflow):
			t.Errorf("%d %s %d = %d, %v; want ErrOverflow (exact %s)", a, op, b, got, err, exact)
		}
	}
	for _, a := range values {
		for _, b := range values {
			x, y := big.NewInt(a), big.NewInt(b)
			got, err := Amount(a).Add(Amount(b))
			check("+", a, b, got, err, new(big.Int).Add(x, y))
			got, err = Amount(a).Sub(Amount(b))
			check("-", a, b, got, err, new(big.Int).Sub(x, y))
			got, err = Amount(a).Mul(b)
			check("×", a, b, got, err, new(big.Int).Mul(x, y))
		}
	}
}

func (a Amount) int() int64 { return int64(a) }

func TestSum(t *testing.T) {
	t.Run("amounts add up exactly", func(t *testing.T) {
		if got, err := Sum(Rupiah(1), 50, Rupiah(-2)); err != nil || got != -50 {
			t.Errorf("Sum = %d, %v; want -50", got, err)
		}
	})
	t.Run("a sum that wraps back into range is refused, not returned", func(t *testing.T) {
		// 2^62 + 2^62 + 2^62 + 2^62 + 100 wraps to 100 in int64.
		q := Amount(1 << 62)
		if got, err := Sum(q, q, q, q, 100); !errors.Is(err, ErrOverflow) {
			t.Errorf("Sum = %d, %v; want ErrOverflow", got, err)
		}
	})
	t.Run("Max is 999,999,999,999.99 rupiah, twelve integer digits", func(t *testing.T) {
		if got := Max.String(); got != "999999999999.99" {
			t.Errorf("Max = %s", got)
		}
	})
}
