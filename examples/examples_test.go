package examples

import (
	"encoding/json"
	"strings"
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

func TestMappingWithoutStore(t *testing.T) {
	t.Run("the store's entry goes and every other line stays", func(t *testing.T) {
		full, _ := Files.ReadFile("mapping.yaml")
		got, err := MappingWithoutStore("1010")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), `"1010":`) || strings.Contains(string(got), "C-TOKOPEDIA") {
			t.Errorf("store 1010 is still there:\n%s", got)
		}
		if !strings.Contains(string(got), `"1009":`) {
			t.Errorf("store 1009 went too:\n%s", got)
		}
		if removed := strings.Count(string(full), "\n") - strings.Count(string(got), "\n"); removed != 4 {
			t.Errorf("%d lines taken out; want store 1010's 4", removed)
		}
	})
	t.Run("a store the mapping does not have is an error", func(t *testing.T) {
		if _, err := MappingWithoutStore("9999"); err == nil || !strings.Contains(err.Error(), "9999") {
			t.Errorf("error = %v; want one naming store 9999", err)
		}
	})
}
