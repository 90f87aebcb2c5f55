package forstok

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"forstok-accurate-sync/money"
)

func TestDecodeLifecycleExamples(t *testing.T) {
	d := NewDecoder()
	t.Run("the void names the invoice, its order and when", func(t *testing.T) {
		ev, err := d.Decode(readExample(t, "invoice-voided-shopee.json"))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Key() != "invoice.voided:70003" || ev.Void == nil || payloadsSet(ev) != 1 {
			t.Fatalf("key %q, event %+v", ev.Key(), ev)
		}
		want := VoidOrder{ID: 35003, LocalName: "2411280XY99ZZ1", StoreID: 1009}
		if ev.Void.Order != want || !ev.Void.VoidedAt.Equal(time.Date(2026, 11, 28, 11, 45, 0, 0, time.UTC)) {
			t.Errorf("void = %+v", ev.Void)
		}
	})
	t.Run("the return names its lines in units and a zero shipping refund", func(t *testing.T) {
		ev, err := d.Decode(readExample(t, "return-created-tokopedia.json"))
		if err != nil {
			t.Fatal(err)
		}
		r := ev.Return
		if ev.Key() != "return.created:95001" || r == nil || payloadsSet(ev) != 1 {
			t.Fatalf("key %q, event %+v", ev.Key(), ev)
		}
		if !reflect.DeepEqual(r.ItemLines, []ReturnLine{{OrderItemLineID: 11, SKU: "PAKET-HEMAT", Quantity: 1}}) ||
			r.Order.WarehouseID != 78 || r.ShippingRefund.Amount != 0 || !r.ShippingRefund.Present() {
			t.Errorf("return = %+v", r)
		}
	})
	t.Run("the cancelled invoice is an ordinary invoice.created", func(t *testing.T) {
		ev, err := d.Decode(readExample(t, "invoice-created-shopee-cancelled.json"))
		if err != nil || ev.Key() != "invoice.created:70003" {
			t.Fatalf("%q %v", ev.Key(), err)
		}
		if got := ev.Invoice.Order.ItemLines[0].UnitPrice(); got != money.Rupiah(89000) {
			t.Errorf("unit price %v", got)
		}
	})
}

func TestDecodeLifecycleNamesEveryBadFieldByItsPath(t *testing.T) {
	d := NewDecoder()
	tests := []struct {
		name string
		body string
		want []FieldError
	}{
		{"an empty void names every required field",
			`{"type":"invoice.voided","data":{}}`,
			[]FieldError{{"data.id", "required"}, {"data.voided_at", "required"}, {"data.order", "required"}}},
		{"a void's order without its number or store",
			`{"type":"invoice.voided","data":{"id":70003,"voided_at":"2026-11-28T18:45:00+07:00","order":{"id":35003}}}`,
			[]FieldError{{"data.order.local_name", "required"}, {"data.order.store_id", "required"}}},
		{"a void with wrong types",
			`{"type":"invoice.voided","data":{"id":"70003","voided_at":"yesterday","order":{"id":35003,"local_name":"X","store_id":1009}}}`,
			[]FieldError{{"data.id", "must be an integer"}, {"data.voided_at", "must be an RFC 3339 time"}}},
		{"a return without lines",
			`{"type":"return.created","data":{"id":1,"returned_at":"2026-12-03T10:00:00+07:00","order":{"id":2,"local_name":"X","store_id":3,"warehouse_id":78},"item_lines":[]}}`,
			[]FieldError{{"data.item_lines", "must not be empty"}}},
		{"a return line with no sku, a zero quantity and a negative refund",
			`{"type":"return.created","data":{"id":1,"returned_at":"2026-12-03T10:00:00+07:00","order":{"id":2,"local_name":"X","store_id":3,"warehouse_id":78},"item_lines":[{"order_item_line_id":11,"sku":"","quantity":0}],"shipping_refund":"-5"}}`,
			[]FieldError{{"data.item_lines[0].sku", "required"}, {"data.item_lines[0].quantity", "must be greater than 0"}, {"data.shipping_refund", "must not be negative"}}},
		{"a return whose order has no warehouse and a line with a fractional quantity",
			`{"type":"return.created","data":{"id":1,"returned_at":"2026-12-03T10:00:00+07:00","order":{"id":2,"local_name":"X","store_id":3},"item_lines":[{"order_item_line_id":11,"sku":"A","quantity":1.5}]}}`,
			[]FieldError{{"data.item_lines[0].quantity", "must be an integer"}, {"data.order.warehouse_id", "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decodeBoth(t, d, []byte(tt.body))
			ev, err := d.Decode([]byte(tt.body))
			var invalid *ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("Decode = %+v, %v; want a ValidationError", ev, err)
			}
			if !sameProblems(invalid.Fields, tt.want) {
				t.Errorf("problems %v, want %v", invalid.Fields, tt.want)
			}
			if ev.Data() != nil {
				t.Errorf("an invalid payload came back: %+v", ev)
			}
		})
	}
}

// sameProblems compares two lists of problems in any order.
func sameProblems(got, want []FieldError) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[FieldError]int{}
	for _, f := range got {
		seen[f]++
	}
	for _, f := range want {
		if seen[f] == 0 {
			return false
		}
		seen[f]--
	}
	return true
}

func TestEveryEventTypeNamesItsOrderForTheSearch(t *testing.T) {
	d := NewDecoder()
	for file, want := range map[string][]string{
		"invoice-created-shopee.json":     {"2411260AB12CD3"},
		"payment-received-tokopedia.json": {"INV/20261126/MPL/3819022331"},
		"invoice-voided-shopee.json":      {"2411280XY99ZZ1"},
		"return-created-tokopedia.json":   {"INV/20261126/MPL/3819022331"},
	} {
		t.Run(file+" is found by its order number", func(t *testing.T) {
			ev, err := d.Decode(readExample(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.OrderNumbers(); !reflect.DeepEqual(got, want) {
				t.Errorf("order numbers = %q; want %q", got, want)
			}
		})
	}
}
