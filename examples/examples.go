// Package examples carries the sample webhooks and mapping inside the
// binary, so that `forstok-accurate-sync demo` and `send` run with nothing
// but Go. docs/accounting.md works them through rupiah by rupiah.
package examples

import "embed"

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
