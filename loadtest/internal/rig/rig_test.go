package rig

import (
	"os"
	"testing"
	"time"

	"forstok-accurate-sync/forstok"
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
