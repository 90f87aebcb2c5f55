package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEventTypesShowEveryTypeAtZeroBeforeItsFirstEvent(t *testing.T) {
	m := New(nil)
	m.EventTypes([]string{"invoice.created", "return.created"}, []string{"accepted"}, []string{"synced"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`fas_webhooks_total{outcome="accepted",type="return.created"} 0`,
		`fas_event_attempts_total{state="synced",type="invoice.created"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestSellersLabelTheEventSeries(t *testing.T) {
	m := NewForSellers(nil)
	m.SellerEventTypes("toko-a", []string{"invoice.created"}, []string{"accepted"}, []string{"synced"})
	m.Webhook("toko-b", "invoice.created", "accepted")
	m.Seller("toko-b").EventFinished("invoice.created", "failed")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`fas_webhooks_total{outcome="accepted",seller="toko-a",type="invoice.created"} 0`,
		`fas_webhooks_total{outcome="accepted",seller="toko-b",type="invoice.created"} 1`,
		`fas_event_attempts_total{seller="toko-b",state="failed",type="invoice.created"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
