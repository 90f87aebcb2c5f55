package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	cmd := exec.Command(binary(t), "demo")
	out, err := cmd.CombinedOutput()
	printed := strings.Join(strings.Fields(string(out)), " ")

	t.Run("the demo exits 0", func(t *testing.T) {
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
	})
	// What examples/README.md says Accurate must receive, as the demo prints it.
	want := []struct{ name, pattern string }{
		{"the Shopee faktur's header", `2411260AB12CD3 26/11/2026 customer C-SHOPEE branch Jakarta status LUNAS`},
		{"its shirts", `KAOS-HTM-L 2 89\.000 0 178\.000`},
		{"its cap under the mapped item no", `BRG-TOPI-01 1 55\.000 0 55\.000 total 233\.000`},
		{"the Tokopedia faktur's header", `INV/20261126/MPL/3819022331 27/11/2026 customer C-TOKOPEDIA status LUNAS`},
		{"the bundle's shirts with the rounding discount", `KAOS-HTM-L 2 53\.477 1 106\.953`},
		{"the bundle's cap", `BRG-TOPI-01 1 33\.047 0 33\.047`},
		{"the other shirt", `KAOS-PTH-M 1 95\.000 0 95\.000`},
		{"the order discount and the shipping line", `cash discount -5\.000 Ongkos kirim Tokopedia \(410201\) 12\.000 total 242\.000`},
		{"the Shopee penerimaan", `FP-90001 29/11/2026 customer C-SHOPEE bank 110201 cheque 212\.350 faktur 2411260AB12CD3 payment 233\.000 discount to account 610201 10\.000 discount to account 610202 11\.650 discount to account 610204 1\.000 discount to account 410202 -2\.000 balance \(payments - discounts\) 212\.350`},
		{"the voided order's events", `invoice.created:70003 synced .* invoice.voided:70003 synced 1 2411280XY99ZZ1`},
		{"the retur of the bundle", `RJ-95001 03/12/2026 customer C-TOKOPEDIA against faktur INV/20261126/MPL/3819022331 .* KAOS-HTM-L → Utama 2 53\.477 1 106\.953 BRG-TOPI-01 → Utama 1 33\.047 0 33\.047 total 140\.000`},
		{"the Tokopedia penerimaan", `FP-90002 30/11/2026 customer C-TOKOPEDIA bank 110202 cheque 229\.600 faktur INV/20261126/MPL/3819022331 payment 242\.000 discount to account 610202 9\.400 discount to account 610203 3\.000 balance \(payments - discounts\) 229\.600`},
	}
	for _, w := range want {
		t.Run("the demo prints "+w.name, func(t *testing.T) {
			if !regexp.MustCompile(w.pattern).MatchString(printed) {
				t.Errorf("output lacks %q:\n%s", w.pattern, out)
			}
		})
	}
	t.Run("the voided order's faktur is no longer in Accurate", func(t *testing.T) {
		if strings.Contains(printed, "2411280XY99ZZ1 28/11/2026") {
			t.Errorf("the voided faktur is still listed:\n%s", out)
		}
	})
	t.Run("the demo prints each document once", func(t *testing.T) {
		for _, number := range []string{"FP-90001 29/11", "FP-90002 30/11", "2411260AB12CD3 26/11", "INV/20261126/MPL/3819022331 27/11", "RJ-95001 03/12"} {
			if n := strings.Count(printed, number); n != 1 {
				t.Errorf("%s printed %d times", number, n)
			}
		}
	})
}
