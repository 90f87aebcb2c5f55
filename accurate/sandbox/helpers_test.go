package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

const (
	testToken  = "tok-4f1c2a"
	testSecret = "sec-9b7e11"
)

// sandbox is a Server behind a real HTTP server, with a client that signs
// its requests as the Accurate client must.
type sandbox struct {
	t   *testing.T
	sb  *Server
	srv *httptest.Server
}

// start serves New(cfg) over HTTP; cfg gets the test token, secret and the
// default seed unless set.
func start(t *testing.T, cfg Config) *sandbox {
	t.Helper()
	if cfg.APIToken == "" {
		cfg.APIToken, cfg.SignatureSecret = testToken, testSecret
	}
	if cfg.Seed.Customers == nil {
		cfg.Seed = DefaultSeed()
	}
	sb := New(cfg)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &sandbox{t: t, sb: sb, srv: srv}
}

// signed sets the API-token headers with a Unix-millisecond timestamp.
func signed(req *http.Request, token, secret string, at time.Time) {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Api-Timestamp", ts)
	req.Header.Set("X-Api-Signature", hmacHex(ts, secret))
}

// hmacHex is the signature as CPSSoft's samples compute it, written here
// independently of the code under test.
func hmacHex(ts, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil))
}

// envelope is Accurate's answer, with d and r left raw.
type envelope struct {
	S     bool            `json:"s"`
	D     json.RawMessage `json:"d"`
	R     json.RawMessage `json:"r"`
	SP    *page           `json:"sp"`
	Error string          `json:"error"`
}

// messages reads d as a list of messages.
func (e envelope) messages(t *testing.T) []string {
	t.Helper()
	var m []string
	if err := json.Unmarshal(e.D, &m); err != nil {
		t.Fatalf("d is not a list of messages: %s", e.D)
	}
	return m
}

// request builds a signed request; body, when not nil, is sent as JSON.
func (s *sandbox) request(ctx context.Context, method, path string, body any) *http.Request {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.srv.URL+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	signed(req, testToken, testSecret, time.Now())
	return req
}

// send does req and decodes the answer.
func (s *sandbox) send(req *http.Request) (int, envelope) {
	s.t.Helper()
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	var e envelope
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &e); err != nil {
		s.t.Fatalf("%s %s answered %d with non-JSON %q", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return resp.StatusCode, e
}

// saveLost posts a save whose answer the sandbox loses: the caller gets a
// connection error, yet the sandbox holds wantStored fakturs and counts
// one lost answer.
func (s *sandbox) saveLost(t *testing.T, path string, body any, wantStored int) {
	t.Helper()
	resp, err := s.srv.Client().Do(s.request(context.Background(), http.MethodPost, path, body))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("HTTP %d, want a connection error", resp.StatusCode)
	}
	if n := len(s.sb.Invoices()); n != wantStored {
		t.Fatalf("%d fakturs stored, want %d", n, wantStored)
	}
	if c := s.sb.Calls(); c["lost"] != 1 {
		t.Errorf("calls %v; want one lost answer", c)
	}
}

func (s *sandbox) call(method, path string, body any) (int, envelope) {
	s.t.Helper()
	return s.send(s.request(context.Background(), method, path, body))
}

// mustSave saves a document (invoice or receipt) and returns what "r" says.
func (s *sandbox) mustSave(kind string, doc any) accurate.SavedDocument {
	s.t.Helper()
	status, e := s.call(http.MethodPost, "/accurate/api/"+kind+"/save.do", doc)
	if status != http.StatusOK || !e.S {
		s.t.Fatalf("save %s: HTTP %d, %s", kind, status, e.D)
	}
	var saved accurate.SavedDocument
	if err := json.Unmarshal(e.R, &saved); err != nil {
		s.t.Fatalf("r: %v in %s", err, e.R)
	}
	return saved
}

// refusal saves doc expecting "s": false and returns the messages.
func (s *sandbox) refusal(kind string, doc any) []string {
	s.t.Helper()
	status, e := s.call(http.MethodPost, "/accurate/api/"+kind+"/save.do", doc)
	if status != http.StatusOK || e.S {
		s.t.Fatalf("save %s: want HTTP 200 with s=false, got HTTP %d s=%v %s", kind, status, e.S, e.D)
	}
	return e.messages(s.t)
}

func rp(r int64) money.Amount { return money.Rupiah(r) }

func date(d, m, y int) accurate.Date { return accurate.Date{Year: y, Month: time.Month(m), Day: d} }

// The example documents of docs/accounting.md ("The examples, worked"), written out by
// hand.

func shopeeInvoice() accurate.SalesInvoice {
	return accurate.SalesInvoice{
		Number: "2411260AB12CD3", TransDate: date(26, 11, 2026), CustomerNo: "C-SHOPEE", BranchName: "Jakarta",
		Description: "Forstok INV/FS/2026/11/70001",
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", DetailName: "Kaos Polos Hitam L", Quantity: 2, UnitPrice: rp(89000), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", DetailName: "Topi Baseball", Quantity: 1, UnitPrice: rp(55000), WarehouseName: "Utama"},
		},
	}
}

func tokopediaInvoice() accurate.SalesInvoice {
	return accurate.SalesInvoice{
		Number: "INV/20261126/MPL/3819022331", TransDate: date(27, 11, 2026), CustomerNo: "C-TOKOPEDIA",
		CashDiscount: rp(5000),
		DetailItem: []accurate.InvoiceItem{
			{ItemNo: "KAOS-HTM-L", Quantity: 2, UnitPrice: rp(53477), ItemCashDiscount: rp(1), WarehouseName: "Utama"},
			{ItemNo: "BRG-TOPI-01", Quantity: 1, UnitPrice: rp(33047), WarehouseName: "Utama"},
			{ItemNo: "KAOS-PTH-M", Quantity: 1, UnitPrice: rp(95000), WarehouseName: "Utama"},
		},
		DetailExpense: []accurate.InvoiceExpense{{AccountNo: "410201", ExpenseAmount: rp(12000), ExpenseName: "Ongkos kirim"}},
	}
}

func shopeeReceipt() accurate.SalesReceipt {
	return accurate.SalesReceipt{
		Number: "FP-90001", TransDate: date(29, 11, 2026), CustomerNo: "C-SHOPEE", BankNo: "110201", BranchName: "Jakarta",
		ChequeAmount: rp(212350),
		DetailInvoice: []accurate.ReceiptInvoice{{
			InvoiceNo: "2411260AB12CD3", PaymentAmount: rp(233000),
			DetailDiscount: []accurate.ReceiptDiscount{
				{AccountNo: "610201", Amount: rp(10000)},
				{AccountNo: "610202", Amount: rp(11650)},
				{AccountNo: "610204", Amount: rp(1000)},
				{AccountNo: "410202", Amount: rp(-2000)},
			},
		}},
	}
}

func tokopediaReceipt() accurate.SalesReceipt {
	return accurate.SalesReceipt{
		Number: "FP-90002", TransDate: date(30, 11, 2026), CustomerNo: "C-TOKOPEDIA", BankNo: "110202",
		ChequeAmount: rp(229600),
		DetailInvoice: []accurate.ReceiptInvoice{{
			InvoiceNo: "INV/20261126/MPL/3819022331", PaymentAmount: rp(242000),
			DetailDiscount: []accurate.ReceiptDiscount{
				{AccountNo: "610202", Amount: rp(9400)},
				{AccountNo: "610203", Amount: rp(3000)},
			},
		}},
	}
}

// containsAll reports whether some message contains every one of parts.
func containsAll(msgs []string, parts ...string) bool {
	for _, m := range msgs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			return true
		}
	}
	return false
}
