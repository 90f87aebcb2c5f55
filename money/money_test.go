package money

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Amount
		err  error
	}{
		{"150000", 15000000, nil},
		{"150000.5", 15000050, nil},
		{"150000.05", 15000005, nil},
		{"150000.00", 15000000, nil},
		{"1.500", 150, nil},
		{"-2000", -200000, nil},
		{"0", 0, nil},
		{"0007", 700, nil},
		{"9999999999999999.99", 999999999999999999, nil},
		{"100000.005", 0, ErrTooPrecise},
		{"12345678901234567890", 0, ErrOutOfRange},
		{"", 0, ErrSyntax},
		{"1e5", 0, ErrSyntax},
		{"+5", 0, ErrSyntax},
		{"5.", 0, ErrSyntax},
		{".5", 0, ErrSyntax},
		{"1,000", 0, ErrSyntax},
		{" 5", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
	}
	for _, tc := range cases {
		t.Run("parsing "+tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("Parse(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	cases := []struct {
		a           Amount
		str, people string
	}{
		{15000000, "150000", "150.000"},
		{15000050, "150000.5", "150.000,50"},
		{15000005, "150000.05", "150.000,05"},
		{-200000, "-2000", "-2.000"},
		{0, "0", "0"},
		{10695300, "106953", "106.953"},
		{123456789012, "1234567890.12", "1.234.567.890,12"},
	}
	for _, tc := range cases {
		t.Run(tc.str+" reads back as itself", func(t *testing.T) {
			if got := tc.a.String(); got != tc.str {
				t.Errorf("String() = %s; want %s", got, tc.str)
			}
			if got := tc.a.Format(); got != tc.people {
				t.Errorf("Format() = %s; want %s", got, tc.people)
			}
			back, err := Parse(tc.a.String())
			if err != nil || back != tc.a {
				t.Errorf("Parse(String()) = %d, %v; want %d", back, err, tc.a)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	t.Run("numbers, strings and null decode exactly", func(t *testing.T) {
		var v struct{ A, B, C, D Amount }
		if err := json.Unmarshal([]byte(`{"A":55000.5,"B":"55000.00","C":null,"D":0.1}`), &v); err != nil {
			t.Fatal(err)
		}
		if v.A != 5500050 || v.B != 5500000 || v.C != 0 || v.D != 10 {
			t.Errorf("decoded %+v", v)
		}
	})
	t.Run("amounts encode as exact JSON numbers", func(t *testing.T) {
		b, _ := json.Marshal(struct{ A, B Amount }{10695300, -50})
		if string(b) != `{"A":106953,"B":-0.5}` {
			t.Errorf("encoded %s", b)
		}
	})
	t.Run("three decimals are refused", func(t *testing.T) {
		var a Amount
		if err := json.Unmarshal([]byte(`1.005`), &a); !errors.Is(err, ErrTooPrecise) {
			t.Errorf("Unmarshal(1.005) = %v; want ErrTooPrecise", err)
		}
	})
}
