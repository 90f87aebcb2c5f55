package accurate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testToken  = "aat.TEST-token-6f1c2d"
	testSecret = "sig-secret-0a9b8c7d"
)

// checkAuth fails the request as Accurate would when the token or signature
// is wrong, so that every fake below also proves the headers.
func checkAuth(w http.ResponseWriter, r *http.Request) bool {
	ts := r.Header.Get("X-Api-Timestamp")
	if r.Header.Get("Authorization") != "Bearer "+testToken || ts == "" || r.Header.Get("X-Api-Signature") != Sign(ts, testSecret) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_token"}`)
		return false
	}
	return true
}

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.APIToken, cfg.SignatureSecret = testToken, testSecret
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAnswersAreClassifiedBySAndStatus(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		class     Class
		message   string
		ambiguous bool
	}{
		{"a duplicate number is ClassDuplicate", 200, `{"s":false,"d":["Sudah ada data lain dengan No Faktur \"F-1\""]}`, ClassDuplicate, `Sudah ada data lain dengan No Faktur "F-1"`, false},
		{"an unknown customer is ClassNotFound", 200, `{"s":false,"d":["Pelanggan \"C-X\" tidak ditemukan atau sudah dihapus"]}`, ClassNotFound, `Pelanggan "C-X" tidak ditemukan atau sudah dihapus`, false},
		{"an unknown faktur worded tidak ditemukan alone is ClassNotFound too", 200, `{"s":false,"d":["Faktur Penjualan \"INV-9\" tidak ditemukan"]}`, ClassNotFound, `Faktur Penjualan "INV-9" tidak ditemukan`, false},
		{"any other refusal is ClassValidation", 200, `{"s":false,"d":["Nilai Pembayaran tidak mencukupi"]}`, ClassValidation, "Nilai Pembayaran tidak mencukupi", false},
		{"a refusal given as one string is read", 200, `{"s":false,"d":"Tanggal wajib diisi"}`, ClassValidation, "Tanggal wajib diisi", false},
		{"a refusal given as an object is read", 200, `{"s":false,"d":{"number":"Nomor wajib diisi"}}`, ClassValidation, "Nomor wajib diisi", false},
		{"the rate-limit message is ClassRateLimited", 200, `{"s":false,"d":["Maksimal 8 request per detik"]}`, ClassRateLimited, "request per detik", false},
		{"HTTP 429 is ClassRateLimited", 429, `{"s":false,"d":["Terlalu banyak request per detik"]}`, ClassRateLimited, "request per detik", false},
		{"HTTP 429 without a body is ClassRateLimited", 429, ``, ClassRateLimited, "", false},
		{"HTTP 401 is ClassAuth", 401, `{"error":"invalid_token","error_description":"token ` + testToken + ` is revoked"}`, ClassAuth, "invalid_token", false},
		{"HTTP 403 is ClassAuth", 403, `{"error":"insufficient_scope"}`, ClassAuth, "insufficient_scope", false},
		{"HTTP 500 is transient and may have saved", 500, `<html>oops</html>`, ClassTransient, "", true},
		{"HTTP 503 with s:false is still transient", 503, `{"s":false,"d":["Sedang maintenance"]}`, ClassTransient, "Sedang maintenance", true},
		{"an answer that is not JSON is transient", 200, `<html>proxy</html>`, ClassTransient, "", true},
		{"an answer without s is transient", 200, `{"d":[]}`, ClassTransient, "", true},
		{"s:false with the secret echoed keeps it out", 200, `{"s":false,"d":["bad signature ` + testSecret + `"]}`, ClassValidation, "bad signature [redacted]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newTestClient(t, Config{Host: srv.URL})
			_, err := c.SaveSalesInvoice(context.Background(), &SalesInvoice{Number: "F-1", CustomerNo: "C-X"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Class != tt.class || ClassOf(err) != tt.class {
				t.Errorf("class = %q, want %q (%v)", e.Class, tt.class, err)
			}
			if e.Status != tt.status {
				t.Errorf("status = %d, want %d", e.Status, tt.status)
			}
			if e.Endpoint != "sales-invoice/save" {
				t.Errorf("endpoint = %q", e.Endpoint)
			}
			if e.Ambiguous != tt.ambiguous {
				t.Errorf("ambiguous = %v, want %v", e.Ambiguous, tt.ambiguous)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Error() = %q, want it to keep %q", err, tt.message)
			}
			assertNoSecrets(t, err)
		})
	}
}

func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{testToken, testSecret} {
		if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
			t.Errorf("error %q reveals a secret", err)
		}
	}
}

func TestTransportFailures(t *testing.T) {
	t.Run("a refused connection is transient and surely not saved", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		c := newTestClient(t, Config{Host: "http://" + addr})
		_, err = c.SaveSalesInvoice(context.Background(), &SalesInvoice{Number: "F-1"})
		if ClassOf(err) != ClassTransient || IsAmbiguous(err) {
			t.Fatalf("err = %v (class %q, ambiguous %v), want transient and not ambiguous", err, ClassOf(err), IsAmbiguous(err))
		}
		assertNoSecrets(t, err)
	})
	t.Run("a connection closed after the request is transient and ambiguous", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		c := newTestClient(t, Config{Host: srv.URL})
		_, err := c.SaveSalesInvoice(context.Background(), &SalesInvoice{Number: "F-1"})
		if ClassOf(err) != ClassTransient || !IsAmbiguous(err) {
			t.Fatalf("err = %v (class %q, ambiguous %v), want transient and ambiguous", err, ClassOf(err), IsAmbiguous(err))
		}
		assertNoSecrets(t, err)
	})
	t.Run("a call slower than Timeout is transient, ambiguous and a deadline", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		c := newTestClient(t, Config{Host: srv.URL, Timeout: 100 * time.Millisecond})
		_, err := c.SaveSalesInvoice(context.Background(), &SalesInvoice{Number: "F-1"})
		if ClassOf(err) != ClassTransient || !IsAmbiguous(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v (class %q, ambiguous %v), want a transient, ambiguous deadline", err, ClassOf(err), IsAmbiguous(err))
		}
		assertNoSecrets(t, err)
	})
	t.Run("a nil error has no class", func(t *testing.T) {
		if ClassOf(nil) != ClassNone {
			t.Fatal("ClassOf(nil) is not ClassNone")
		}
	})
	t.Run("a foreign error counts as transient", func(t *testing.T) {
		if ClassOf(io.EOF) != ClassTransient {
			t.Fatal("ClassOf(io.EOF) is not ClassTransient")
		}
	})
}

// fakeAccurate is an account server and a data host with one faktur, for
// the request shapes the client sends.
type fakeAccurate struct {
	mu       sync.Mutex
	calls    map[string]int
	bodies   []string
	hostKey  string // "database" or "data usaha"
	dataHost string
}

func (f *fakeAccurate) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func (f *fakeAccurate) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func (f *fakeAccurate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !checkAuth(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[r.URL.Path]++
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	switch r.URL.Path {
	case "/api/api-token.do":
		_ = json.NewEncoder(w).Encode(map[string]any{"s": true, "d": map[string]any{f.hostKey: map[string]any{"host": f.dataHost + "/"}}})
	case "/accurate/api/sales-invoice/save.do":
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"s":true,"d":["Faktur Penjualan berhasil disimpan"],"r":{"id":71,"number":"F-1","totalAmount":233000}}`)
	case "/accurate/api/sales-invoice/list.do":
		if q.Get("fields") != "id,number,totalAmount" || q.Get("filter.number.op") != "EQUAL" {
			http.Error(w, "unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		// Lists a neighbour too, as a server ignoring the filter would.
		rows := `{"id":70,"number":"F-10","totalAmount":"5000"}`
		if q.Get("filter.number.val") == "F-1" {
			rows += `,{"id":71,"number":"F-1","totalAmount":233000}`
		}
		_, _ = io.WriteString(w, `{"s":true,"d":[`+rows+`]}`)
	case "/accurate/api/sales-invoice/detail.do":
		if q.Get("number") != "F-1" {
			_, _ = io.WriteString(w, `{"s":false,"d":["Faktur Penjualan tidak ditemukan atau sudah dihapus"]}`)
			return
		}
		_, _ = io.WriteString(w, `{"s":true,"d":{"id":71,"number":"F-1","transDate":"26/11/2026","totalAmount":233000,"primeOwing":"233000.00"}}`)
	default:
		http.NotFound(w, r)
	}
}

func TestDiscoveryFindsTheHostOnceAndSignsEveryCall(t *testing.T) {
	for _, key := range []string{"database", "data usaha"} {
		t.Run("the host is read from d."+key, func(t *testing.T) {
			data := &fakeAccurate{}
			dataSrv := httptest.NewServer(data)
			defer dataSrv.Close()
			account := &fakeAccurate{hostKey: key, dataHost: dataSrv.URL}
			accountSrv := httptest.NewServer(account)
			defer accountSrv.Close()

			var observed []string
			var mu sync.Mutex
			c := newTestClient(t, Config{AccountURL: accountSrv.URL, Observe: func(endpoint, outcome string, took time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				observed = append(observed, endpoint+"="+outcome)
			}})
			ctx := context.Background()
			saved, err := c.SaveSalesInvoice(ctx, &SalesInvoice{Number: "F-1", CustomerNo: "C-SHOPEE"})
			if err != nil {
				t.Fatal(err)
			}
			if saved.ID != 71 || saved.Number != "F-1" || saved.TotalAmount != 233000*100 {
				t.Errorf("saved = %+v", saved)
			}
			if _, err := c.SalesInvoiceDetail(ctx, "F-1"); err != nil {
				t.Fatal(err)
			}
			if n := account.count("/api/api-token.do"); n != 1 {
				t.Errorf("api-token.do asked %d times, want once", n)
			}
			if n := data.count("/accurate/api/sales-invoice/save.do"); n != 1 {
				t.Errorf("save.do reached %d times, want once", n)
			}
			want := []string{"api-token=ok", "sales-invoice/save=ok", "sales-invoice/detail=ok"}
			if fmt.Sprint(observed) != fmt.Sprint(want) {
				t.Errorf("observed %v, want %v", observed, want)
			}
		})
	}
	t.Run("a refused token at discovery is ClassAuth", func(t *testing.T) {
		account := httptest.NewServer(&fakeAccurate{hostKey: "database", dataHost: "http://unused"})
		defer account.Close()
		c, err := New(Config{AccountURL: account.URL, APIToken: "wrong-token", SignatureSecret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.FindSalesInvoice(context.Background(), "F-1")
		if ClassOf(err) != ClassAuth {
			t.Fatalf("err = %v, want ClassAuth", err)
		}
		if strings.Contains(err.Error(), "wrong-token") || strings.Contains(err.Error(), testSecret) {
			t.Errorf("error %q reveals a secret", err)
		}
	})
	t.Run("an answer without a host is transient", func(t *testing.T) {
		account := httptest.NewServer(&fakeAccurate{hostKey: "elsewhere", dataHost: "http://unused"})
		defer account.Close()
		c := newTestClient(t, Config{AccountURL: account.URL})
		if _, _, err := c.FindSalesInvoice(context.Background(), "F-1"); ClassOf(err) != ClassTransient {
			t.Fatalf("err = %v, want ClassTransient", err)
		}
	})
}

func TestLookups(t *testing.T) {
	srv := httptest.NewServer(&fakeAccurate{})
	defer srv.Close()
	c := newTestClient(t, Config{Host: srv.URL})
	ctx := context.Background()

	t.Run("a listed number is found, not its neighbour", func(t *testing.T) {
		doc, ok, err := c.FindSalesInvoice(ctx, "F-1")
		if err != nil || !ok || doc.ID != 71 || doc.TotalAmount != 233000*100 {
			t.Fatalf("Find = %+v, %v, %v", doc, ok, err)
		}
	})
	t.Run("an unlisted number is not found, without error", func(t *testing.T) {
		doc, ok, err := c.FindSalesInvoice(ctx, "F-1X")
		if err != nil || ok {
			t.Fatalf("Find = %+v, %v, %v", doc, ok, err)
		}
	})
	t.Run("detail reads totals written as strings", func(t *testing.T) {
		d, err := c.SalesInvoiceDetail(ctx, "F-1")
		if err != nil || d.PrimeOwing != 233000*100 || d.TransDate != (Date{2026, 11, 26}) {
			t.Fatalf("Detail = %+v, %v", d, err)
		}
	})
	t.Run("detail of an unknown number is ClassNotFound", func(t *testing.T) {
		if _, err := c.SalesInvoiceDetail(ctx, "NOPE"); ClassOf(err) != ClassNotFound {
			t.Fatalf("err = %v, want ClassNotFound", err)
		}
	})
	t.Run("an empty number is refused before any call", func(t *testing.T) {
		if _, _, err := c.FindSalesReceipt(ctx, ""); ClassOf(err) != ClassValidation {
			t.Fatalf("err = %v, want ClassValidation", err)
		}
	})
}

func TestRedirects(t *testing.T) {
	t.Run("a 308 is followed with the body and a fresh signature, and a fixed host moves", func(t *testing.T) {
		b := &fakeAccurate{}
		srvB := httptest.NewServer(b)
		defer srvB.Close()
		var movedCalls atomic.Int32
		srvA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			movedCalls.Add(1)
			http.Redirect(w, r, srvB.URL+r.URL.RequestURI(), http.StatusPermanentRedirect)
		}))
		defer srvA.Close()
		c := newTestClient(t, Config{Host: srvA.URL})
		ctx := context.Background()
		saved, err := c.SaveSalesInvoice(ctx, &SalesInvoice{Number: "F-1", CustomerNo: "C-SHOPEE"})
		if err != nil || saved.ID != 71 {
			t.Fatalf("save = %+v, %v", saved, err)
		}
		if bodies := b.received(); len(bodies) != 1 || !strings.Contains(bodies[0], `"customerNo":"C-SHOPEE"`) {
			t.Fatalf("B received %q, want the faktur", bodies)
		}
		if _, _, err := c.FindSalesInvoice(ctx, "F-1"); err != nil {
			t.Fatal(err)
		}
		if n := movedCalls.Load(); n != 1 {
			t.Errorf("the old host was asked %d times, want once (then the new host is used)", n)
		}
	})
	t.Run("a 308 with a bare host keeps the path, and discovery runs again", func(t *testing.T) {
		b := &fakeAccurate{}
		srvB := httptest.NewServer(b)
		defer srvB.Close()
		srvA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", srvB.URL)
			w.WriteHeader(http.StatusPermanentRedirect)
		}))
		defer srvA.Close()
		account := &fakeAccurate{hostKey: "database", dataHost: srvA.URL}
		srvAccount := httptest.NewServer(account)
		defer srvAccount.Close()
		c := newTestClient(t, Config{AccountURL: srvAccount.URL})
		ctx := context.Background()
		for range 2 {
			if _, ok, err := c.FindSalesInvoice(ctx, "F-1"); err != nil || !ok {
				t.Fatalf("find = %v, %v", ok, err)
			}
		}
		if n := b.count("/accurate/api/sales-invoice/list.do"); n != 2 {
			t.Errorf("B served %d lists, want 2", n)
		}
		if n := account.count("/api/api-token.do"); n != 2 {
			t.Errorf("api-token.do asked %d times, want 2 (the move forgets the host)", n)
		}
	})
	t.Run("a redirect loop ends in a transient error", func(t *testing.T) {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, srv.URL+r.URL.RequestURI(), http.StatusPermanentRedirect)
		}))
		defer srv.Close()
		c := newTestClient(t, Config{Host: srv.URL})
		if _, _, err := c.FindSalesInvoice(context.Background(), "F-1"); ClassOf(err) != ClassTransient {
			t.Fatalf("err = %v, want ClassTransient", err)
		}
	})
}

func TestListReadsEveryPage(t *testing.T) {
	var lastFields atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !checkAuth(w, r) {
			return
		}
		q := r.URL.Query()
		lastFields.Store(q.Get("fields"))
		var page, size int
		_, _ = fmt.Sscan(q.Get("sp.page"), &page)
		_, _ = fmt.Sscan(q.Get("sp.pageSize"), &size)
		const total = 230
		var rows []string
		for i := (page - 1) * size; i < min(page*size, total); i++ {
			if strings.HasPrefix(r.URL.Path, "/accurate/api/customer/") {
				rows = append(rows, fmt.Sprintf(`{"id":%d,"customerNo":"C-%03d","name":"Customer %d"}`, i+1, i, i))
			} else {
				rows = append(rows, fmt.Sprintf(`{"id":%d,"no":"%d","name":"Akun %d"}`, i+1, 610000+i, i))
			}
		}
		fmt.Fprintf(w, `{"s":true,"d":[%s],"sp":{"page":%d,"pageSize":%d,"pageCount":%d,"rowCount":%d}}`,
			strings.Join(rows, ","), page, size, (total+size-1)/size, total)
	}))
	defer srv.Close()
	c := newTestClient(t, Config{Host: srv.URL})

	t.Run("all GL accounts across three pages", func(t *testing.T) {
		got, err := c.List(context.Background(), ListGLAccounts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 230 || got[229].No != "610229" || got[0].Name != "Akun 0" {
			t.Fatalf("got %d rows, last %+v", len(got), got[len(got)-1])
		}
	})
	t.Run("customers' numbers come from customerNo", func(t *testing.T) {
		got, err := c.List(context.Background(), ListCustomers)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 230 || got[5].No != "C-005" {
			t.Fatalf("got %d rows, row 5 %+v", len(got), got[5])
		}
		if f := lastFields.Load(); f != "id,customerNo,name" {
			t.Errorf("fields = %q", f)
		}
	})
	t.Run("an unknown kind is refused", func(t *testing.T) {
		if _, err := c.List(context.Background(), "vendor"); ClassOf(err) != ClassValidation {
			t.Fatalf("err = %v, want ClassValidation", err)
		}
	})
}

func TestReadsAreRetriedInPlace(t *testing.T) {
	// failFirst answers 503 to the first n requests, then a list with F-1.
	failFirst := func(n int32) (*httptest.Server, *atomic.Int32) {
		var seen atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !checkAuth(w, r) {
				return
			}
			if seen.Add(1) <= n {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"s":false,"d":["Service Unavailable"]}`)
				return
			}
			_, _ = io.WriteString(w, `{"s":true,"d":[{"id":7,"number":"F-1","totalAmount":1000}]}`)
		}))
		t.Cleanup(srv.Close)
		return srv, &seen
	}
	ctx := context.Background()
	t.Run("a look-up that meets two 5xx answers is tried again and succeeds", func(t *testing.T) {
		srv, seen := failFirst(2)
		c := newTestClient(t, Config{Host: srv.URL, ReadRetryBase: time.Millisecond})
		doc, ok, err := c.FindSalesInvoice(ctx, "F-1")
		if err != nil || !ok || doc.ID != 7 {
			t.Fatalf("doc %+v ok %v err %v", doc, ok, err)
		}
		if n := seen.Load(); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
	})
	t.Run("a look-up failing every time gives up after ReadAttempts tries", func(t *testing.T) {
		srv, seen := failFirst(100)
		c := newTestClient(t, Config{Host: srv.URL, ReadAttempts: 4, ReadRetryBase: time.Millisecond})
		if _, _, err := c.FindSalesInvoice(ctx, "F-1"); ClassOf(err) != ClassTransient {
			t.Fatalf("err %v", err)
		}
		if n := seen.Load(); n != 4 {
			t.Fatalf("%d requests, want 4", n)
		}
	})
	t.Run("a save is never retried in place", func(t *testing.T) {
		srv, seen := failFirst(1)
		c := newTestClient(t, Config{Host: srv.URL, ReadRetryBase: time.Millisecond})
		if _, err := c.SaveSalesInvoice(ctx, &SalesInvoice{Number: "F-1"}); ClassOf(err) != ClassTransient {
			t.Fatalf("err %v", err)
		}
		if n := seen.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})
	t.Run("a read Accurate refused is not retried", func(t *testing.T) {
		var seen atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			_, _ = io.WriteString(w, `{"s":false,"d":["Data Faktur Penjualan dengan No \"F-9\" tidak ditemukan atau sudah dihapus"]}`)
		}))
		defer srv.Close()
		c := newTestClient(t, Config{Host: srv.URL, ReadRetryBase: time.Millisecond})
		if _, err := c.SalesInvoiceDetail(ctx, "F-9"); ClassOf(err) != ClassNotFound {
			t.Fatalf("err %v", err)
		}
		if n := seen.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})
	t.Run("a cancelled context stops the retries at once", func(t *testing.T) {
		srv, seen := failFirst(100)
		c := newTestClient(t, Config{Host: srv.URL, ReadAttempts: 10, ReadRetryBase: time.Hour})
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			for seen.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		if _, _, err := c.FindSalesInvoice(cctx, "F-1"); err == nil {
			t.Fatal("no error")
		}
		if n := seen.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})
}
