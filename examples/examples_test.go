package examples

import (
	"encoding/json"
	"testing"
)

// TestWebhooksComeInTheOrderOfASellersDay keeps Webhooks usable by demo:
// every listed body is embedded, and every payout pays invoices listed
// before it, so that replaying the list in order never waits for a faktur.
func TestWebhooksComeInTheOrderOfASellersDay(t *testing.T) {
	type envelope struct {
		Type string `json:"type"`
		Data struct {
			ID       int64 `json:"id"`
			Invoices []struct {
				ID int64 `json:"id"`
			} `json:"invoices"`
		} `json:"data"`
	}
	created := map[int64]string{}
	for _, name := range Webhooks {
		t.Run(name+" is embedded and pays only invoices listed before it", func(t *testing.T) {
			body, err := Files.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var env envelope
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			switch env.Type {
			case "invoice.created":
				created[env.Data.ID] = name
			case "payment.received":
				if len(env.Data.Invoices) == 0 {
					t.Fatal("a payout that pays no invoice")
				}
				for _, inv := range env.Data.Invoices {
					if _, ok := created[inv.ID]; !ok {
						t.Errorf("pays invoice %d, which no earlier example creates", inv.ID)
					}
				}
			default:
				t.Errorf("type %q: demo sends only invoice.created and payment.received", env.Type)
			}
		})
	}
	if _, err := Files.ReadFile("mapping.yaml"); err != nil {
		t.Errorf("the example mapping is not embedded: %v", err)
	}
}
