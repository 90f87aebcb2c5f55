// Package examples carries the sample webhooks and mapping inside the
// binary, so that `forstok-accurate-sync demo` and `send` run with nothing
// but Go. docs/accounting.md works them through rupiah by rupiah.
package examples

import (
	"embed"
	"fmt"
	"strings"
)

// Files holds mapping.yaml and the sample webhook bodies.
//
//go:embed *.json mapping.yaml
var Files embed.FS

// Webhooks lists the sample bodies in the order a seller's day produces them:
// both invoices, then both payouts.
var Webhooks = []string{
	"invoice-created-shopee.json",
	"invoice-created-tokopedia-bundle.json",
	"payment-received-shopee.json",
	"payment-received-tokopedia.json",
}

// Lifecycle lists the sample bodies of the rest of an order's life, each
// after the one it follows: an invoice that is then voided, and a return of
// the Tokopedia bundle (after the Tokopedia invoice of Webhooks).
var Lifecycle = []string{
	"invoice-created-shopee-cancelled.json",
	"invoice-voided-shopee.json",
	"return-created-tokopedia.json",
}

// MappingWithoutStore is mapping.yaml with store's entry (its key line and
// the lines indented under it) taken out: the example of a seller whose
// mapping does not know a store yet. It fails when there is no such store.
func MappingWithoutStore(store string) ([]byte, error) {
	b, err := Files.ReadFile("mapping.yaml")
	if err != nil {
		return nil, err
	}
	var kept []string
	skipping, removed := false, false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == `"`+store+`":` {
			skipping, removed = true, true
			continue
		}
		if skipping && strings.HasPrefix(line, "    ") {
			continue
		}
		skipping = false
		kept = append(kept, line)
	}
	if !removed {
		return nil, fmt.Errorf("the example mapping has no store %s to take out", store)
	}
	return []byte(strings.Join(kept, "\n")), nil
}
