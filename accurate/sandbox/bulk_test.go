package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
)

// bulkAnswer reads a bulk-save.do answer's per-record entries.
type bulkAnswer struct {
	S bool `json:"s"`
	D []struct {
		S bool            `json:"s"`
		D json.RawMessage `json:"d"`
		R json.RawMessage `json:"r"`
	} `json:"d"`
}

func (s *sandbox) bulk(kind string, docs ...any) (int, bulkAnswer) {
	s.t.Helper()
	status, e := s.call(http.MethodPost, "/accurate/api/"+kind+"/bulk-save.do", map[string]any{"data": docs})
	a := bulkAnswer{S: e.S}
	if err := json.Unmarshal(e.D, &a.D); err != nil {
		s.t.Fatalf("bulk: HTTP %d, d is not one entry per record: %s", status, e.D)
	}
	return status, a
}

// numberedInvoice is the Shopee example faktur under another number.
func numberedInvoice(n string) accurate.SalesInvoice {
	inv := shopeeInvoice()
	inv.Number = n
	return inv
}

func TestBulkSave(t *testing.T) {
	t.Run("each record is saved or refused on its own, in order, and one refusal does not stop the others", func(t *testing.T) {
		s := start(t, Config{})
		s.mustSave("sales-invoice", numberedInvoice("B-EXISTS"))
		unknownItem := numberedInvoice("B-BAD")
		unknownItem.DetailItem[0].ItemNo = "NO-SUCH-ITEM"
		status, a := s.bulk("sales-invoice",
			numberedInvoice("B-1"), unknownItem, numberedInvoice("B-EXISTS"), numberedInvoice("B-2"), numberedInvoice("B-2"))
		if status != http.StatusOK || a.S {
			t.Fatalf("HTTP %d s=%v, want 200 with s=false (some records refused)", status, a.S)
		}
		want := []struct {
			saved bool
			msg   string
		}{
			{true, ""},
			{false, `Barang "NO-SUCH-ITEM" tidak ditemukan atau sudah dihapus`},
			{false, `Sudah ada data lain dengan No Faktur "B-EXISTS"`},
			{true, ""},
			{false, `Sudah ada data lain dengan No Faktur "B-2"`},
		}
		if len(a.D) != len(want) {
			t.Fatalf("%d entries, want %d", len(a.D), len(want))
		}
		for i, w := range want {
			e := a.D[i]
			if e.S != w.saved {
				t.Errorf("record %d: s=%v, want %v (%s)", i, e.S, w.saved, e.D)
				continue
			}
			if w.saved {
				var doc accurate.SavedDocument
				if err := json.Unmarshal(e.R, &doc); err != nil || doc.ID == 0 || doc.TotalAmount != rp(233000) {
					t.Errorf("record %d: r = %s", i, e.R)
				}
				continue
			}
			if !strings.Contains(string(e.D), strings.ReplaceAll(w.msg, `"`, `\"`)) {
				t.Errorf("record %d: d = %s, want %q", i, e.D, w.msg)
			}
		}
		var numbers []string
		for _, inv := range s.sb.Invoices() {
			numbers = append(numbers, inv.Number)
		}
		if got := strings.Join(numbers, ","); got != "B-EXISTS,B-1,B-2" {
			t.Errorf("stored %s, want B-EXISTS,B-1,B-2", got)
		}
		if c := s.sb.Calls(); c["sales-invoice/bulk-save"] != 1 {
			t.Errorf("calls %v", c)
		}
	})

	t.Run("when every record is saved the top-level s is true", func(t *testing.T) {
		s := start(t, Config{})
		if _, a := s.bulk("sales-invoice", numberedInvoice("A"), numberedInvoice("B")); !a.S || len(a.D) != 2 {
			t.Fatalf("answer %+v", a)
		}
	})

	t.Run("penerimaan settle the fakturs saved before them, those of an earlier bulk included", func(t *testing.T) {
		s := start(t, Config{})
		s.bulk("sales-invoice", shopeeInvoice(), tokopediaInvoice())
		over := shopeeReceipt()
		over.Number = "FP-OVER"
		_, a := s.bulk("sales-receipt", shopeeReceipt(), tokopediaReceipt(), over)
		if !a.D[0].S || !a.D[1].S || a.D[2].S {
			t.Fatalf("answer %+v", a)
		}
		if !strings.Contains(string(a.D[2].D), "melebihi sisa piutang") {
			t.Errorf("third: %s, want the faktur already settled", a.D[2].D)
		}
		for _, inv := range s.sb.Invoices() {
			if inv.Status != StatusPaid {
				t.Errorf("faktur %s is %s", inv.Number, inv.Status)
			}
		}
	})

	t.Run("more than 100 records, none, or a body that is not {data: [...]} are refused whole and save nothing", func(t *testing.T) {
		s := start(t, Config{})
		docs := make([]any, 101)
		for i := range docs {
			docs[i] = numberedInvoice(fmt.Sprint("N-", i))
		}
		for name, body := range map[string]any{
			"101 records": map[string]any{"data": docs},
			"no records":  map[string]any{"data": []any{}},
			"a bare list": []any{numberedInvoice("X")},
		} {
			status, e := s.call(http.MethodPost, "/accurate/api/sales-invoice/bulk-save.do", body)
			if status != http.StatusOK || e.S {
				t.Errorf("%s: HTTP %d s=%v", name, status, e.S)
			}
			if msgs := e.messages(t); len(msgs) != 1 {
				t.Errorf("%s: messages %q", name, msgs)
			}
		}
		if n := len(s.sb.Invoices()); n != 0 {
			t.Fatalf("%d fakturs stored", n)
		}
	})

	t.Run("a 5xx fault hits the whole request and saves none of it", func(t *testing.T) {
		s := start(t, Config{Faults: Faults{ErrorRate: 1}})
		status, _ := s.call(http.MethodPost, "/accurate/api/sales-invoice/bulk-save.do",
			map[string]any{"data": []any{numberedInvoice("A"), numberedInvoice("B")}})
		if status < 500 {
			t.Fatalf("HTTP %d", status)
		}
		if n := len(s.sb.Invoices()); n != 0 {
			t.Fatalf("%d fakturs stored", n)
		}
	})

	t.Run("a lost answer drops the answer of every record, and those saved stay saved", func(t *testing.T) {
		s := start(t, Config{Faults: Faults{LoseRate: 1}})
		body := map[string]any{"data": []any{numberedInvoice("A"), numberedInvoice("B")}}
		s.saveLost(t, "/accurate/api/sales-invoice/bulk-save.do", body, 2)
	})

	t.Run("one bulk request counts once against the rate limit", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		s := start(t, Config{RateLimit: 2, Now: clock})
		docs := make([]any, 100)
		for i := range docs {
			docs[i] = numberedInvoice(fmt.Sprint("R-", i))
		}
		if status, _ := s.call(http.MethodPost, "/accurate/api/sales-invoice/bulk-save.do", map[string]any{"data": docs}); status != http.StatusOK {
			t.Fatalf("bulk: HTTP %d", status)
		}
		if status, _ := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do", nil); status != http.StatusOK {
			t.Fatalf("second request: HTTP %d, want 200 (the bulk was one)", status)
		}
		if status, _ := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do", nil); status != http.StatusTooManyRequests {
			t.Fatalf("third request: HTTP %d, want 429", status)
		}
		if n := len(s.sb.Invoices()); n != 100 {
			t.Fatalf("%d fakturs stored", n)
		}
	})
}

func TestListFiltersOnSeveralNumbers(t *testing.T) {
	s := start(t, Config{})
	s.bulk("sales-invoice", numberedInvoice("A"), numberedInvoice("B"), numberedInvoice("C"))
	for name, q := range map[string]url.Values{
		"indexed values":  {"filter.number.op": {"EQUAL"}, "filter.number.val[0]": {"A"}, "filter.number.val[1]": {"C"}, "filter.number.val[2]": {"Z"}},
		"repeated values": {"filter.number.op": {"EQUAL"}, "filter.number.val": {"A", "C", "Z"}},
	} {
		t.Run("the list holds exactly the numbers that exist, given as "+name, func(t *testing.T) {
			_, e := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do?"+q.Encode(), nil)
			var rows []struct{ Number string }
			if err := json.Unmarshal(e.D, &rows); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.Number)
			}
			if strings.Join(got, ",") != "A,C" {
				t.Fatalf("listed %v, want A,C", got)
			}
		})
	}
}
