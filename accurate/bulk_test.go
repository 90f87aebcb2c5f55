package accurate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
)

func invoiceRecord(number string) accurate.Record {
	inv := shopeeInvoice()
	inv.Number = number
	return accurate.Record{Number: number, Doc: inv}
}

func TestBulkSaveClassifiesEachRecord(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	if _, err := c.SaveSalesInvoice(ctx, invoiceRecord("EXISTS").Doc.(*accurate.SalesInvoice)); err != nil {
		t.Fatal(err)
	}
	badItem := invoiceRecord("BAD-ITEM")
	badItem.Doc.(*accurate.SalesInvoice).DetailItem[0].ItemNo = "NO-SUCH-ITEM"
	noDate := invoiceRecord("NO-DATE")
	noDate.Doc.(*accurate.SalesInvoice).TransDate = accurate.Date{}

	results, err := c.BulkSave(ctx, accurate.KindSalesInvoice, []accurate.Record{invoiceRecord("NEW"), badItem, invoiceRecord("EXISTS"), noDate})
	if err != nil {
		t.Fatalf("BulkSave: %v", err)
	}
	want := []struct {
		number  string
		outcome accurate.Outcome
		class   accurate.Class
		msg     string
	}{
		{"NEW", accurate.OutcomeSaved, accurate.ClassNone, ""},
		{"BAD-ITEM", accurate.OutcomeRefused, accurate.ClassNotFound, "NO-SUCH-ITEM"},
		{"EXISTS", accurate.OutcomeExists, accurate.ClassDuplicate, "Sudah ada data lain"},
		{"NO-DATE", accurate.OutcomeRefused, accurate.ClassValidation, "Tanggal faktur harus diisi"},
	}
	if len(results) != len(want) {
		t.Fatalf("%d results", len(results))
	}
	for i, w := range want {
		r := results[i]
		t.Run(fmt.Sprintf("record %s is %s", w.number, w.outcome), func(t *testing.T) {
			if r.Number != w.number || r.Outcome != w.outcome {
				t.Fatalf("got %s %s (%v)", r.Number, r.Outcome, r.Err)
			}
			if w.outcome == accurate.OutcomeSaved {
				if r.Err != nil || r.Doc.ID == 0 || r.Doc.Number != w.number || !r.Synced() {
					t.Fatalf("saved: %+v err %v", r.Doc, r.Err)
				}
				return
			}
			if r.Err == nil || r.Err.Class != w.class || !strings.Contains(strings.Join(r.Err.Messages, "|"), w.msg) {
				t.Fatalf("err %v, want class %s with %q", r.Err, w.class, w.msg)
			}
			if r.Synced() != (w.outcome == accurate.OutcomeExists) {
				t.Fatalf("Synced() = %v", r.Synced())
			}
		})
	}
	if c := sb.Calls(); c["sales-invoice/bulk-save"] != 1 {
		t.Errorf("calls %v", c)
	}
}

func TestBulkSaveWholeCallFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("a 5xx is a transient, ambiguous error with no per-record results", func(t *testing.T) {
		_, srv := testaccurate.Serve(t, sandbox.Config{Faults: sandbox.Faults{ErrorRate: 1}})
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
		results, err := c.BulkSave(ctx, accurate.KindSalesInvoice, []accurate.Record{invoiceRecord("A")})
		if results != nil || accurate.ClassOf(err) != accurate.ClassTransient || !accurate.IsAmbiguous(err) {
			t.Fatalf("results %v err %v", results, err)
		}
	})
	t.Run("a lost answer is ambiguous, and Existing then tells which numbers were saved", func(t *testing.T) {
		sb, srv := testaccurate.Serve(t, sandbox.Config{Faults: sandbox.Faults{LoseRate: 1}})
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
		bad := invoiceRecord("B")
		bad.Doc.(*accurate.SalesInvoice).CustomerNo = "C-NOBODY"
		_, err := c.BulkSave(ctx, accurate.KindSalesInvoice, []accurate.Record{invoiceRecord("A"), bad, invoiceRecord("C")})
		if !accurate.IsAmbiguous(err) {
			t.Fatalf("err %v, want ambiguous", err)
		}
		sb.SetFaults(sandbox.Faults{})
		found, err := c.Existing(ctx, accurate.KindSalesInvoice, []string{"A", "B", "C"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := found["B"]; ok || len(found) != 2 || found["A"].ID == 0 || found["C"].ID == 0 {
			t.Fatalf("found %v, want A and C", found)
		}
	})
	t.Run("more than 100 records are refused before anything is sent", func(t *testing.T) {
		sb, srv := testaccurate.Serve(t, sandbox.Config{})
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
		recs := make([]accurate.Record, 101)
		for i := range recs {
			recs[i] = invoiceRecord(fmt.Sprint("N", i))
		}
		if _, err := c.BulkSave(ctx, accurate.KindSalesInvoice, recs); accurate.ClassOf(err) != accurate.ClassValidation {
			t.Fatalf("err %v", err)
		}
		if n := sb.Calls()["sales-invoice/bulk-save"]; n != 0 {
			t.Fatalf("%d calls", n)
		}
	})
}

func TestExistingAsksOncePerHundredNumbers(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	ctx := context.Background()
	var numbers, saved []string
	for i := range 150 {
		numbers = append(numbers, fmt.Sprintf("E-%03d", i))
	}
	for from := 0; from < 150; from += 100 {
		var recs []accurate.Record
		for _, n := range numbers[from:min(from+100, 150)] {
			if n[len(n)-1] != '7' { // leave out every number ending in 7
				recs = append(recs, invoiceRecord(n))
				saved = append(saved, n)
			}
		}
		if _, err := c.BulkSave(ctx, accurate.KindSalesInvoice, recs); err != nil {
			t.Fatal(err)
		}
	}
	before := sb.Calls()["sales-invoice/list"]
	found, err := c.Existing(ctx, accurate.KindSalesInvoice, numbers)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := range found {
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, saved) {
		t.Fatalf("found %d numbers, want the %d saved", len(got), len(saved))
	}
	if n := sb.Calls()["sales-invoice/list"] - before; n != 2 {
		t.Fatalf("%d list.do calls for 150 numbers, want 2", n)
	}
}
