package sandbox

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
)

func TestServerErrorFaults(t *testing.T) {
	t.Run("with an error rate of 1 every data call fails 5xx and saves nothing", func(t *testing.T) {
		s := start(t, Config{Faults: Faults{ErrorRate: 1}})
		for range 10 {
			status, _ := s.call(http.MethodPost, "/accurate/api/sales-invoice/save.do", shopeeInvoice())
			if status != http.StatusInternalServerError && status != http.StatusBadGateway && status != http.StatusServiceUnavailable {
				t.Fatalf("HTTP %d, want 500, 502 or 503", status)
			}
		}
		if n := len(s.sb.Invoices()); n != 0 {
			t.Fatalf("%d fakturs saved", n)
		}
		if c := s.sb.Calls(); c["fault_5xx"] != 10 || c["sales-invoice/save"] != 0 {
			t.Errorf("calls %v", c)
		}
	})
	t.Run("host discovery is not a data call and keeps working", func(t *testing.T) {
		s := start(t, Config{Faults: Faults{ErrorRate: 1, Latency: time.Hour}})
		if status, e := s.call(http.MethodGet, "/api/api-token.do", nil); status != http.StatusOK {
			t.Fatalf("HTTP %d %s", status, e.D)
		}
	})
	t.Run("a seeded source fails the same share of calls on every run", func(t *testing.T) {
		outcomes := func() string {
			s := start(t, Config{Faults: Faults{ErrorRate: 0.5}, Rand: rand.New(rand.NewPCG(7, 7))})
			var b strings.Builder
			for range 40 {
				status, _ := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do", nil)
				b.WriteString(map[bool]string{true: "+", false: "-"}[status == http.StatusOK])
			}
			return b.String()
		}
		first, second := outcomes(), outcomes()
		if first != second {
			t.Fatalf("runs differ: %s vs %s", first, second)
		}
		if ok := strings.Count(first, "+"); ok < 10 || ok > 30 {
			t.Fatalf("%d of 40 succeeded at rate 0.5: %s", ok, first)
		}
	})
}

func TestLostResponses(t *testing.T) {
	s := start(t, Config{Faults: Faults{LoseRate: 1}})
	t.Run("a save whose answer is lost fails at the caller but the faktur is stored", func(t *testing.T) {
		s.saveLost(t, "/accurate/api/sales-invoice/save.do", shopeeInvoice(), 1)
	})
	t.Run("the faktur saved is then found by its number", func(t *testing.T) {
		q := url.Values{"filter.number.op": {"EQUAL"}, "filter.number.val": {"2411260AB12CD3"}}
		_, e := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do?"+q.Encode(), nil)
		if !strings.Contains(string(e.D), "2411260AB12CD3") {
			t.Fatalf("list %s", e.D)
		}
	})
	t.Run("a refused save is answered, not lost", func(t *testing.T) {
		if msgs := s.refusal("sales-invoice", shopeeInvoice()); !containsAll(msgs, "Sudah ada data lain dengan No Faktur") {
			t.Fatalf("messages %q", msgs)
		}
	})
	t.Run("look-ups are never lost", func(t *testing.T) {
		if status, _ := s.call(http.MethodGet, "/accurate/api/sales-invoice/detail.do?number=2411260AB12CD3", nil); status != http.StatusOK {
			t.Fatalf("HTTP %d", status)
		}
	})
}

func TestMovedHost(t *testing.T) {
	const newHost = "https://zeus.accurate.id"
	s := start(t, Config{Faults: Faults{MoveHostTo: newHost + "/"}})
	client := *s.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	t.Run("a data call answers 308 to the same path and query on the new host", func(t *testing.T) {
		path := "/accurate/api/sales-invoice/list.do?filter.number.op=EQUAL&filter.number.val=A%2FB"
		resp, err := client.Do(s.request(context.Background(), http.MethodGet, path, nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != newHost+path {
			t.Fatalf("HTTP %d Location %q, want 308 to %s", resp.StatusCode, resp.Header.Get("Location"), newHost+path)
		}
	})
	t.Run("a save is redirected too, and not stored here", func(t *testing.T) {
		resp, err := client.Do(s.request(context.Background(), http.MethodPost, "/accurate/api/sales-invoice/save.do", shopeeInvoice()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || len(s.sb.Invoices()) != 0 {
			t.Fatalf("HTTP %d, %d stored", resp.StatusCode, len(s.sb.Invoices()))
		}
	})
	t.Run("host discovery names the new host", func(t *testing.T) {
		_, e := s.call(http.MethodGet, "/api/api-token.do", nil)
		if !strings.Contains(string(e.D), `"host":"`+newHost+`"`) {
			t.Fatalf("d = %s", e.D)
		}
	})
	t.Run("the redirect is counted as moved", func(t *testing.T) {
		if c := s.sb.Calls(); c["moved"] != 2 {
			t.Fatalf("calls %v", c)
		}
	})
}

func TestInspectionRoutes(t *testing.T) {
	s := start(t, Config{Faults: Faults{Latency: 5 * time.Millisecond}})
	s.mustSave("sales-invoice", shopeeInvoice())
	s.mustSave("sales-receipt", shopeeReceipt())
	get := func(t *testing.T, path string, v any) {
		t.Helper()
		resp, err := http.Get(s.srv.URL + path) // no signature needed
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	post := func(t *testing.T, path, body string) int {
		t.Helper()
		resp, err := http.Post(s.srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("state shows the documents, the calls and the faults", func(t *testing.T) {
		var st State
		get(t, "/sandbox/state", &st)
		if len(st.Invoices) != 1 || st.Invoices[0].PrimeOwing != 0 || st.Invoices[0].TotalAmount != rp(233000) {
			t.Errorf("invoices %+v", st.Invoices)
		}
		if len(st.Receipts) != 1 || len(st.Receipts[0].DetailInvoice[0].DetailDiscount) != 4 {
			t.Errorf("receipts %+v", st.Receipts)
		}
		if st.Calls["sales-invoice/save"] != 1 || st.Calls["sales-receipt/save"] != 1 {
			t.Errorf("calls %v", st.Calls)
		}
		if st.Faults.Latency != 5*time.Millisecond {
			t.Errorf("faults %+v", st.Faults)
		}
	})
	t.Run("posted faults take effect, written in snake_case or camelCase", func(t *testing.T) {
		for _, body := range []string{`{"latency":"0s","error_rate":1}`, `{"errorRate":1,"moveHostTo":""}`} {
			if st := post(t, "/sandbox/faults", body); st != http.StatusOK {
				t.Fatalf("POST %s: HTTP %d", body, st)
			}
			if got := s.sb.CurrentFaults(); got != (Faults{ErrorRate: 1}) {
				t.Fatalf("after %s faults are %+v", body, got)
			}
			if status, _ := s.call(http.MethodGet, "/accurate/api/sales-invoice/list.do", nil); status < 500 {
				t.Fatalf("a data call answered %d under error_rate 1", status)
			}
		}
	})
	for _, body := range []string{`{"latency":100}`, `{"error_rate":2}`, `{"eror_rate":0.5}`, `{"move_host_to":"ftp://x"}`, `nope`} {
		t.Run("faults "+body+" are refused and change nothing", func(t *testing.T) {
			if st := post(t, "/sandbox/faults", body); st != http.StatusBadRequest {
				t.Fatalf("HTTP %d, want 400", st)
			}
			if got := s.sb.CurrentFaults(); got != (Faults{ErrorRate: 1}) {
				t.Fatalf("faults became %+v", got)
			}
		})
	}
	t.Run("reset forgets documents and calls and restores the configured faults", func(t *testing.T) {
		if st := post(t, "/sandbox/reset", ""); st != http.StatusOK {
			t.Fatalf("HTTP %d", st)
		}
		var st State
		get(t, "/sandbox/state", &st)
		if len(st.Invoices) != 0 || len(st.Receipts) != 0 || len(st.Calls) != 0 || st.Faults.Latency != 5*time.Millisecond || st.Faults.ErrorRate != 0 {
			t.Fatalf("state after reset %+v", st)
		}
		s.mustSave("sales-invoice", shopeeInvoice()) // the number is free again
	})
	t.Run("an unknown sandbox route is 404", func(t *testing.T) {
		if st := post(t, "/sandbox/nope", "{}"); st != http.StatusNotFound {
			t.Fatalf("HTTP %d", st)
		}
	})
}

func TestFaultsJSONRoundTrip(t *testing.T) {
	f := Faults{Latency: 150 * time.Millisecond, ErrorRate: 0.1, LoseRate: 0.05, MoveHostTo: "http://b:8081"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"latency":"150ms","error_rate":0.1,"lose_rate":0.05,"move_host_to":"http://b:8081"}`; string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	var back Faults
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Fatalf("unmarshal = %+v, %v", back, err)
	}
}

func TestReceiptDetailWithoutInvoices(t *testing.T) {
	s := start(t, Config{})
	s.mustSave("sales-invoice", shopeeInvoice())
	s.mustSave("sales-receipt", shopeeReceipt())
	detail := func() map[string]json.RawMessage {
		status, e := s.call(http.MethodGet, "/accurate/api/sales-receipt/detail.do?number="+url.QueryEscape(shopeeReceipt().Number), nil)
		if status != http.StatusOK || !e.S {
			t.Fatalf("detail.do: HTTP %d %s", status, e.D)
		}
		var d map[string]json.RawMessage
		if err := json.Unmarshal(e.D, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("without the fault the answer lists the fakturs the penerimaan settles", func(t *testing.T) {
		if d := detail(); !strings.Contains(string(d["detailInvoice"]), shopeeInvoice().Number) {
			t.Fatalf("detailInvoice %s", d["detailInvoice"])
		}
	})
	t.Run("with the fault the answer leaves detailInvoice out and keeps the rest", func(t *testing.T) {
		s.sb.SetFaults(Faults{ReceiptDetailWithoutInvoices: true})
		d := detail()
		if _, ok := d["detailInvoice"]; ok {
			t.Fatalf("detailInvoice %s is in the answer", d["detailInvoice"])
		}
		if string(d["number"]) != `"`+shopeeReceipt().Number+`"` {
			t.Errorf("number %s", d["number"])
		}
		if n := len(s.sb.Receipts()[0].DetailInvoice); n != 1 {
			t.Errorf("the stored penerimaan lost its fakturs: %d left", n)
		}
	})
	t.Run("the fault reads from and writes to JSON", func(t *testing.T) {
		var f Faults
		if err := json.Unmarshal([]byte(`{"receipt_detail_without_invoices":true}`), &f); err != nil || !f.ReceiptDetailWithoutInvoices {
			t.Fatalf("%+v %v", f, err)
		}
		if b, _ := json.Marshal(f); !strings.Contains(string(b), `"receipt_detail_without_invoices":true`) {
			t.Errorf("marshal = %s", b)
		}
	})
}

func TestEditReceiptChangesWhatDetailAnswers(t *testing.T) {
	s := start(t, Config{})
	s.mustSave("sales-invoice", shopeeInvoice())
	s.mustSave("sales-receipt", shopeeReceipt())
	if s.sb.EditReceipt("FP-NOPE", func(*accurate.SalesReceipt) {}) {
		t.Error("an unknown penerimaan was edited")
	}
	if !s.sb.EditReceipt(shopeeReceipt().Number, func(r *accurate.SalesReceipt) {
		r.DetailInvoice = append(r.DetailInvoice, accurate.ReceiptInvoice{InvoiceNo: "SI-BY-HAND", PaymentAmount: rp(1)})
	}) {
		t.Fatal("the penerimaan was not found")
	}
	_, e := s.call(http.MethodGet, "/accurate/api/sales-receipt/detail.do?number="+url.QueryEscape(shopeeReceipt().Number), nil)
	if !strings.Contains(string(e.D), "SI-BY-HAND") {
		t.Fatalf("detail.do does not show the edit: %s", e.D)
	}
}
