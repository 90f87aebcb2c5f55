package main

import (
	"fmt"
	"strings"
)

// The generated events. Order n of store 1009 sells one shirt (KAOS-HTM-L)
// at 89,000; its payment pays 84,550 after a 4,450 service fee. Each event
// has its own id (its idempotency key) and order number (the faktur's
// number).

func invoiceID(n int) int64 { return 800000 + int64(n) }
func paymentID(n int) int64 { return 900000 + int64(n) }

func invoiceNumber(n int) string { return fmt.Sprintf("REL-%06d", n) }
func receiptNumber(n int) string { return fmt.Sprintf("FP-%d", paymentID(n)) }

func invoiceKey(n int) string { return fmt.Sprintf("invoice.created:%d", invoiceID(n)) }
func paymentKey(n int) string { return fmt.Sprintf("payment.received:%d", paymentID(n)) }

// invoiceBody is invoice.created for order n with one line of sku.
func invoiceBody(n int, sku string) []byte {
	return fmt.Appendf(nil, `{"type":"invoice.created","timestamp":"2026-11-26T10:00:00+07:00","data":{
 "id":%d,"invoice_reference":"INV/REL/%d","status":"Unpaid","created_at":"2026-11-26T10:00:00+07:00",
 "order":{"id":%d,"local_id":"REL%d","local_name":%q,"channel":"Shopee","channel_id":12,
  "store_id":1009,"store_name":"Toko Maju Shopee","warehouse_id":78,"cashless":true,"shipping_price":0,"discount_amount":0,
  "item_lines":[{"id":%d,"sku":%q,"name":"Kaos Polos","variant_name":"Hitam L","price":100000,"sale_price":89000}]}}}`,
		invoiceID(n), n, 500000+n, n, invoiceNumber(n), n+1, sku)
}

// paymentBody is payment.received paying invoiceBody(n).
func paymentBody(n int) []byte {
	return fmt.Appendf(nil, `{"type":"payment.received","timestamp":"2026-11-29T10:00:00+07:00","data":{
 "id":%d,"reference":"PAYOUT-%d","paid_at":"2026-11-29T10:00:00+07:00","store_id":1009,"amount_receive":"84550.00",
 "invoices":[{"id":%d,"order":{"id":%d,"local_name":%q,"store_id":1009},"total":89000,"service_fee":4450}]}}`,
		paymentID(n), n, invoiceID(n), 500000+n, invoiceNumber(n))
}

// Tokopedia orders of store 1010, shaped as
// examples/invoice-created-tokopedia-bundle.json: a bundle split into two items, an
// unbundled line, an order discount and shipping the seller charged.

func tokopediaID(n int) int64      { return 700000 + int64(n) }
func tokopediaKey(n int) string    { return fmt.Sprintf("invoice.created:%d", tokopediaID(n)) }
func tokopediaNumber(n int) string { return fmt.Sprintf("INV/20261126/MPL/%010d", 3819000000+n) }
func tokopediaBody(n int) (b []byte) {
	return fmt.Appendf(nil, `{"type":"invoice.created","timestamp":"2026-11-27T00:30:04+07:00","data":{
 "id":%d,"invoice_reference":"INV/FS/2026/11/%d","status":"Unpaid","created_at":"2026-11-27T00:30:00+07:00",
 "order":{"id":%d,"local_id":"%d","local_name":%q,"channel":"Tokopedia","channel_id":15,
  "store_id":1010,"store_name":"Toko Maju Tokopedia","warehouse_id":78,"warehouse_name":"Primary Warehouse",
  "cashless":false,"shipping_price":12000,"discount_amount":5000,
  "item_lines":[
   {"id":%d,"sku":"PAKET-HEMAT","name":"Paket Hemat Kaos + Topi","price":150000,"sale_price":140000,
    "bundle_info":[{"sku":"KAOS-HTM-L","name":"Kaos Polos Hitam L","qty":2,"item_price":89000},
                   {"sku":"TOPI-01","name":"Topi Baseball","qty":1,"item_price":55000}]},
   {"id":%d,"sku":"KAOS-PTH-M","name":"Kaos Polos","variant_name":"Putih M","price":95000,"sale_price":0}]}}}`,
		tokopediaID(n), tokopediaID(n), 600000+n, 3819000000+n, tokopediaNumber(n), 2*n+1, 2*n+2)
}

// bigPayment is one payment of store 1009 settling the invoices of orders
// 0..n-1 (invoiceBody), written as tightly as the schema allows so that as
// many as possible fit in 1 MiB.
func bigPayment(id int64, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"payment.received","data":{"id":%d,"paid_at":"2026-11-29T10:00:00+07:00","store_id":1009,"amount_receive":%d,"invoices":[`, id, 84550*n)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"order":{"id":%d,"local_name":%q},"service_fee":4450}`, invoiceID(i), 500000+i, invoiceNumber(i))
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}
