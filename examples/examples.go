// Package examples carries the contract's sample webhooks and mapping inside
// the binary, so that `forstok-accurate-sync demo` runs with nothing but Go.
// A test keeps these copies identical to the contract's.
package examples

import "embed"

// Files holds mapping.yaml and the four sample webhook bodies.
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
