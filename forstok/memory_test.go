package forstok

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// emptyElements is a body whose array at the end of prefix holds n empty
// objects (each missing every required field), closed by suffix.
func emptyElements(prefix string, n int, suffix string) []byte {
	var b bytes.Buffer
	b.WriteString(prefix)
	b.WriteString("{}")
	b.WriteString(strings.Repeat(",{}", n-1))
	b.WriteString(suffix)
	return b.Bytes()
}

const (
	invoicePrefix = `{"type":"invoice.created","data":{"id":1,"invoice_reference":"R","created_at":"2026-11-26T09:30:00+07:00","order":{"id":1,"local_name":"X","channel":"Shopee","channel_id":1,"store_id":1,"warehouse_id":1,"cashless":true,"item_lines":[`
	paymentPrefix = `{"type":"payment.received","data":{"id":1,"paid_at":"2026-11-29T00:00:00+07:00","store_id":1,"amount_receive":1,"invoices":[`
)

// TestHostileBodiesAreAnsweredInBoundedMemory decodes bodies of empty lines
// and measures what each decode allocates in all (an upper bound of what it
// holds at once). A 1 MiB body of 350,000 empty lines once took 3.8 GB and
// five minutes and answered a million problems.
func TestHostileBodiesAreAnsweredInBoundedMemory(t *testing.T) {
	d := NewDecoder()
	tests := []struct {
		name    string
		body    []byte
		field   string // the first problem's path
		listed  int
		more    bool
		limitMB uint64
	}{
		{"a 1 MiB invoice of 350,000 empty lines is refused for its length, unread",
			emptyElements(invoicePrefix, 349_000, `]}}}`), "data.order.item_lines", 1, false, 8},
		{"an invoice of 1,000 empty lines lists 100 problems and counts the rest",
			emptyElements(invoicePrefix, 1000, `]}}}`), "data.order.item_lines[0].id", maxListed, true, 64},
		{"a payment of 10,000 empty invoices lists 100 problems and counts the rest",
			emptyElements(paymentPrefix, 10_000, `]}}`), "data.invoices[0].id", maxListed, true, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := d.Decode(tt.body)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			var invalid *ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("Decode = %v; want a *ValidationError", err)
			}
			t.Logf("%d-byte body: %d kB allocated; %d problems listed, %d more", len(tt.body), allocated>>10, len(invalid.Fields), invalid.More)
			if len(invalid.Fields) != tt.listed || (invalid.More > 0) != tt.more || invalid.Fields[0].Field != tt.field {
				t.Errorf("problems %v … (%d listed, %d more); want %d listed from %s, more: %v",
					invalid.Fields[0], len(invalid.Fields), invalid.More, tt.listed, tt.field, tt.more)
			}
			if limit := tt.limitMB << 20; allocated > limit {
				t.Errorf("decoding allocated %d MB; want at most %d MB", allocated>>20, tt.limitMB)
			}
		})
	}
}

func BenchmarkDecodeEmptyLines(b *testing.B) {
	d := NewDecoder()
	body := emptyElements(invoicePrefix, 1000, `]}}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_, _ = d.Decode(body)
	}
}

func TestManyWrongTypesAreAnsweredQuickly(t *testing.T) {
	// 10,000 invoices that are numbers: each a type problem, and each
	// nulled invoice then fails validation, which must not compare every
	// failure with every type problem.
	d := NewDecoder()
	var b bytes.Buffer
	b.WriteString(paymentPrefix + "1")
	b.WriteString(strings.Repeat(",1", 9_999))
	b.WriteString("]}}")
	_, err := d.Decode(b.Bytes())
	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Fields[0] != (FieldError{"data.invoices[0]", "must be an object"}) || invalid.More != 9_900 {
		t.Fatalf("Decode = %v; want 100 of the 10,000 wrong types listed, the rest counted", err)
	}
}
