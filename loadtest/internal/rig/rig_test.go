package rig

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/sellers"
)

func TestBodies(t *testing.T) {
	b, err := NewBodies("t1")
	if err != nil {
		t.Fatal(err)
	}
	d := forstok.NewDecoder()
	seen := map[string]bool{}
	for n := range 3 {
		inv, err := d.Decode(b.Invoice(n))
		if err != nil {
			t.Fatalf("invoice %d: %v", n, err)
		}
		pay, err := d.Decode(b.Payment(n))
		if err != nil {
			t.Fatalf("payment %d: %v", n, err)
		}
		t.Run("invoice and payment "+inv.Key()+" are distinct events and the payment pays the invoice", func(t *testing.T) {
			if seen[inv.Key()] || seen[pay.Key()] {
				t.Errorf("keys repeat: %s, %s", inv.Key(), pay.Key())
			}
			seen[inv.Key()], seen[pay.Key()] = true, true
			if inv.Invoice.ID != InvoiceID(n) || pay.Payment.ID != PaymentID(n) {
				t.Errorf("ids %d, %d; want %d, %d", inv.Invoice.ID, pay.Payment.ID, InvoiceID(n), PaymentID(n))
			}
			pi := pay.Payment.Invoices[0]
			if pi.ID != inv.Invoice.ID || pi.Order.LocalName != b.OrderNumber(n) || inv.Invoice.Order.LocalName != b.OrderNumber(n) {
				t.Errorf("payment pays %d/%s; want %d/%s", pi.ID, pi.Order.LocalName, inv.Invoice.ID, b.OrderNumber(n))
			}
		})
	}
}

func TestSignedDeliveryVerifies(t *testing.T) {
	creds := NewCredentials()
	v, err := forstok.NewVerifier(creds.Webhook, forstok.DefaultTolerance)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d, err := Sign(creds.Webhook, "msg_1", now, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(d.ID, d.Timestamp, d.Signature, d.Body, now); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestProcReadings(t *testing.T) {
	m, err := ProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.Now <= 0 || m.Peak < m.Now {
		t.Errorf("memory = %+v; want 0 < VmRSS <= VmHWM", m)
	}
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
	if c, err := MachineCPU(); err != nil || c <= 0 {
		t.Errorf("MachineCPU = %v, %v", c, err)
	}
}

func TestQuantile(t *testing.T) {
	r := Result{Latencies: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	for q, want := range map[float64]time.Duration{0: 1, 0.5: 5, 0.99: 9, 1: 10} {
		if got := r.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestWriteSellers(t *testing.T) {
	mappingYAML := fixtures.MappingYAML(t)
	creds := NewCredentials()
	for _, inline := range []bool{false, true} {
		name := "sellers naming one shared mapping_file are all valid, each with its own secret and token"
		if inline {
			name = "sellers with the mapping inline are all valid, each with its own secret and token"
		}
		t.Run(name, func(t *testing.T) {
			s, err := WriteSellers(t.TempDir(), creds, SellersOptions{N: 3, Mapping: mappingYAML, InlineMapping: inline, OwnDatabases: true})
			if err != nil {
				t.Fatal(err)
			}
			reg, err := sellers.Open(sellers.Config{Dir: s.Env["SELLERS_DIR"], Getenv: func(k string) string { return s.Env[k] },
				Defaults: sellers.Defaults{SignatureSecret: creds.Signature, AccountURL: "http://127.0.0.1:1", RateLimit: 8, MaxConcurrency: 8}})
			if err != nil {
				t.Fatal(err)
			}
			if got := reg.IDs(); !slices.Equal(got, s.IDs) || len(got) != 3 {
				t.Fatalf("valid sellers %v (status %+v), want %v", got, reg.Status(), s.IDs)
			}
			tokens := map[string]bool{}
			for _, id := range s.IDs {
				seller, _ := reg.Get(id)
				if seller.Accurate.APIToken != s.Tokens[id] || seller.Mapping == nil {
					t.Errorf("%s: token %q, mapping %v; want %q and a mapping", id, seller.Accurate.APIToken, seller.Mapping, s.Tokens[id])
				}
				tokens[seller.Accurate.APIToken] = true
				d, err := Sign(s.Secrets[id], "msg_1", time.Now(), []byte(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				if err := seller.Verifier.Verify(d.ID, d.Timestamp, d.Signature, d.Body, time.Now()); err != nil {
					t.Errorf("%s does not verify its own secret's signature: %v", id, err)
				}
			}
			if len(tokens) != 3 || !maps.Equal(s.Databases(), s.Tokens) {
				t.Errorf("tokens %v, databases %v: want one database per seller", tokens, s.Databases())
			}
		})
	}
}

func TestLoadSendsEachDeliveryToItsSellersURL(t *testing.T) {
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	deliveries := []Delivery{{Seller: "s0001"}, {Seller: "s0002"}, {Seller: "s0001"}, {}}
	load := &Load{Client: NewClient(2), URLs: []string{srv.URL + "/webhooks/forstok"}, Conns: 2, Deliveries: deliveries}
	res, _ := load.Run(context.Background(), 10*time.Second, 0)
	want := map[string]int{"/webhooks/forstok/s0001": 2, "/webhooks/forstok/s0002": 1, "/webhooks/forstok": 1}
	if res.Accepted != 4 || !maps.Equal(paths, want) {
		t.Errorf("accepted %d, paths %v; want 4 and %v", res.Accepted, paths, want)
	}
	t.Run("a paced run sends the same deliveries to the same URLs", func(t *testing.T) {
		clear(paths)
		load.Rate = 1000
		if res, _ := load.Run(context.Background(), 10*time.Second, 0); res.Accepted != 4 || !maps.Equal(paths, want) {
			t.Errorf("accepted %d, paths %v; want 4 and %v", res.Accepted, paths, want)
		}
	})
}

func TestTwoResultsAddUpAsOneRun(t *testing.T) {
	a := Result{Elapsed: 2 * time.Second, Sent: 10, Accepted: 8, Statuses: map[int]int{500: 2}, Latencies: []time.Duration{1, 5}}
	b := Result{Elapsed: 3 * time.Second, Sent: 12, Accepted: 12, Statuses: map[int]int{500: 1, 429: 4}, Errors: 1, FirstErr: "reset",
		Latencies: []time.Duration{2, 9}, RanOut: true}
	got := a.Add(b)
	if got.Elapsed != 5*time.Second || got.Sent != 22 || got.Accepted != 20 || got.Errors != 1 || got.FirstErr != "reset" || !got.RanOut {
		t.Errorf("sum = %+v", got)
	}
	if got.Statuses[500] != 3 || got.Statuses[429] != 4 {
		t.Errorf("statuses = %v; want 500×3, 429×4", got.Statuses)
	}
	if !slices.Equal(got.Latencies, []time.Duration{1, 2, 5, 9}) {
		t.Errorf("latencies = %v; want both runs', sorted", got.Latencies)
	}
	if got.PerSecond() != 4 {
		t.Errorf("per second = %v; want 20 in 5 s", got.PerSecond())
	}
	if a.Statuses[429] != 0 || len(a.Latencies) != 2 {
		t.Error("Add changed its receiver")
	}
}
