package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestDocumentListsByDate(t *testing.T) {
	s := start(t, Config{})
	inv := shopeeInvoice() // 26/11/2026
	s.mustSave("sales-invoice", inv)
	later := tokopediaInvoice() // 27/11/2026
	s.mustSave("sales-invoice", later)

	list := func(t *testing.T, query string) (int, envelope, []map[string]any) {
		t.Helper()
		code, e := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do?"+query, nil)
		var rows []map[string]any
		if e.S {
			if err := json.Unmarshal(e.D, &rows); err != nil {
				t.Fatalf("d is not a list: %s", e.D)
			}
		}
		return code, e, rows
	}
	t.Run("BETWEEN takes both ends and only the fields asked for come back", func(t *testing.T) {
		_, e, rows := list(t, "fields=id,number,totalAmount&filter.transDate.op=BETWEEN&filter.transDate.val[0]=26/11/2026&filter.transDate.val[1]=27/11/2026")
		if !e.S || len(rows) != 2 {
			t.Fatalf("s=%v, %d rows: %s", e.S, len(rows), e.D)
		}
		for _, r := range rows {
			if len(r) != 3 || r["number"] == nil || r["totalAmount"] == nil {
				t.Errorf("row %v, want exactly id, number, totalAmount", r)
			}
		}
	})
	t.Run("a range that ends before the second day lists the first only", func(t *testing.T) {
		_, _, rows := list(t, "filter.transDate.op=BETWEEN&filter.transDate.val[0]=25/11/2026&filter.transDate.val[1]=26/11/2026")
		if len(rows) != 1 || rows[0]["number"] != inv.Number {
			t.Errorf("rows %v, want %s alone", rows, inv.Number)
		}
	})
	t.Run("a malformed date or a BETWEEN with one value is refused in Accurate's words", func(t *testing.T) {
		for _, q := range []string{
			"filter.transDate.op=BETWEEN&filter.transDate.val[0]=2026-11-26&filter.transDate.val[1]=27/11/2026",
			"filter.transDate.op=BETWEEN&filter.transDate.val[0]=26/11/2026",
		} {
			code, e, _ := list(t, q)
			if code != http.StatusOK || e.S {
				t.Errorf("%s: %d s=%v, want 200 with s=false", q, code, e.S)
			}
		}
	})
	t.Run("the demo deletes and edits a document by hand over HTTP", func(t *testing.T) {
		post := func(path, body string) int {
			resp, err := http.Post(s.srv.URL+path, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := post("/sandbox/documents/sales-invoice/"+later.Number+"/edit", `{"total":"1000.00"}`); code != http.StatusOK {
			t.Fatalf("edit: %d", code)
		}
		if code := post("/sandbox/documents/sales-invoice/"+inv.Number+"/delete", ``); code != http.StatusOK {
			t.Fatalf("delete: %d", code)
		}
		if code := post("/sandbox/documents/sales-invoice/"+inv.Number+"/delete", ``); code != http.StatusNotFound {
			t.Errorf("deleting it again: %d, want 404", code)
		}
		_, _, rows := list(t, "fields=number,totalAmount")
		if len(rows) != 1 || rows[0]["number"] != later.Number || rows[0]["totalAmount"] != 1000.0 {
			t.Errorf("rows %v, want %s at 1000", rows, later.Number)
		}
	})
}
