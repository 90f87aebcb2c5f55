package forstok

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/money"
)

// examplesDir holds the repository's sample webhooks.
const examplesDir = "../examples"

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatalf("reading the example: %v", err)
	}
	return b
}

func TestDecodeExamples(t *testing.T) {
	d := NewDecoder()

	t.Run("the Shopee invoice decodes with its lines and amounts", func(t *testing.T) {
		ev, err := d.Decode(readExample(t, "invoice-created-shopee.json"))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if got := ev.Key(); got != "invoice.created:70001" {
			t.Errorf("Key = %q", got)
		}
		wantTS := time.Date(2026, 11, 26, 2, 30, 5, 0, time.UTC)
		if !ev.Timestamp.Equal(wantTS) {
			t.Errorf("Timestamp = %v, want %v", ev.Timestamp, wantTS)
		}
		if ev.Payment != nil || ev.Invoice == nil {
			t.Fatalf("want only Invoice set, got %+v", ev)
		}
		o := ev.Invoice.Order
		if !o.IsCashless() || o.ShippingPrice.Amount != money.Rupiah(15000) || len(o.ItemLines) != 3 {
			t.Errorf("order = cashless %v, shipping %v, %d lines", o.IsCashless(), o.ShippingPrice, len(o.ItemLines))
		}
		line := o.ItemLines[2]
		if line.Price.Amount != 5_500_000 || !line.Price.Present() {
			t.Errorf(`"55000.00" price = %d sen (present %v), want 5,500,000`, line.Price.Amount, line.Price.Present())
		}
		if line.SalePrice.Present() || line.UnitPrice() != 5_500_000 {
			t.Errorf("null sale_price: present %v, unit price %v", line.SalePrice.Present(), line.UnitPrice())
		}
		if got := o.ItemLines[0].UnitPrice(); got != money.Rupiah(89000) {
			t.Errorf("unit price of line 1 = %v, want the sale price 89000", got)
		}
	})

	t.Run("the Tokopedia invoice decodes with its bundle", func(t *testing.T) {
		ev, err := d.Decode(readExample(t, "invoice-created-tokopedia-bundle.json"))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if got := ev.Key(); got != "invoice.created:70002" {
			t.Errorf("Key = %q", got)
		}
		o := ev.Invoice.Order
		if o.IsCashless() || o.DiscountAmount.Amount != money.Rupiah(5000) {
			t.Errorf("cashless %v, discount %v", o.IsCashless(), o.DiscountAmount)
		}
		bundle := o.ItemLines[0].BundleInfo
		if len(bundle) != 2 || bundle[0].Qty != 2 || bundle[0].ItemPrice.Amount != money.Rupiah(89000) {
			t.Errorf("bundle = %+v", bundle)
		}
		if got := o.ItemLines[1].UnitPrice(); got != money.Rupiah(95000) {
			t.Errorf("sale_price 0 must fall back to price: unit price %v", got)
		}
	})

	for _, tt := range []struct {
		file, key string
		received  money.Amount
	}{
		{"payment-received-shopee.json", "payment.received:90001", money.Rupiah(212350)},
		{"payment-received-tokopedia.json", "payment.received:90002", money.Rupiah(229600)},
	} {
		t.Run("the payout "+tt.file+" decodes", func(t *testing.T) {
			ev, err := d.Decode(readExample(t, tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Key() != tt.key || ev.Invoice != nil {
				t.Errorf("Key = %q, Invoice %v", ev.Key(), ev.Invoice)
			}
			if got := ev.Payment.AmountReceive.Amount; got != tt.received {
				t.Errorf("amount_receive = %v, want %v", got, tt.received)
			}
			if n := len(ev.Payment.Invoices); n != 1 || ev.Payment.Invoices[0].Order.LocalName == "" {
				t.Errorf("invoices = %+v", ev.Payment.Invoices)
			}
		})
	}

	t.Run("the Shopee payout keeps its fees exact", func(t *testing.T) {
		ev, err := d.Decode(readExample(t, "payment-received-shopee.json"))
		if err != nil {
			t.Fatal(err)
		}
		inv := ev.Payment.Invoices[0]
		got := []money.Amount{inv.VoucherSeller.Amount, inv.ServiceFee.Amount, inv.CashlessShippingDifference.Amount, inv.PlatformRebate.Amount}
		want := []money.Amount{money.Rupiah(10000), money.Rupiah(11650), money.Rupiah(1000), money.Rupiah(2000)}
		if !slices.Equal(got, want) {
			t.Errorf("fees = %v, want %v", got, want)
		}
	})
}

// mutate decodes an example, lets change edit it as a generic tree (numbers
// kept as written) and encodes it again.
func mutate(t *testing.T, example string, change func(root map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readExample(t, example)))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatal(err)
	}
	change(root)
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at walks a generic tree: at(root, "data", "order", "item_lines", 0).
func at(v any, path ...any) map[string]any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

func order(root map[string]any) map[string]any { return at(root, "data", "order") }
func line(root map[string]any, i int) map[string]any {
	return at(root, "data", "order", "item_lines", i)
}

const (
	shopee    = "invoice-created-shopee.json"
	tokopedia = "invoice-created-tokopedia-bundle.json"
	payout    = "payment-received-shopee.json"
)

func TestDecodeReportsEveryProblemWithItsPath(t *testing.T) {
	d := NewDecoder()
	tests := []struct {
		name    string
		example string
		change  func(root map[string]any)
		want    []FieldError
	}{
		{"an empty SKU is required", shopee,
			func(r map[string]any) { line(r, 0)["sku"] = "" },
			[]FieldError{{"data.order.item_lines[0].sku", "required"}}},
		{"a negative price must not be negative", shopee,
			func(r map[string]any) { line(r, 1)["price"] = json.Number("-1") },
			[]FieldError{{"data.order.item_lines[1].price", "must not be negative"}}},
		{"a negative amount written as a string must not be negative", shopee,
			func(r map[string]any) { order(r)["shipping_price"] = "-5.00" },
			[]FieldError{{"data.order.shipping_price", "must not be negative"}}},
		{"a price with 3 decimal places is refused", shopee,
			func(r map[string]any) { line(r, 2)["price"] = "55000.123" },
			[]FieldError{{"data.order.item_lines[2].price", "has more than 2 decimal places"}}},
		{"a 20-digit amount is too large", payout,
			func(r map[string]any) { at(r, "data")["amount_receive"] = json.Number("12345678901234567890") },
			[]FieldError{{"data.amount_receive", "is too large"}}},
		{"an amount in exponent form is not a decimal number", payout,
			func(r map[string]any) { at(r, "data", "invoices", 0)["service_fee"] = json.Number("1.165e4") },
			[]FieldError{{"data.invoices[0].service_fee", "is not a decimal number"}}},
		{"an amount that is a boolean is not a decimal number", shopee,
			func(r map[string]any) { line(r, 0)["voucher_seller"] = true },
			[]FieldError{{"data.order.item_lines[0].voucher_seller", "is not a decimal number"}}},
		{"a blank local_name, the faktur number, is refused", shopee,
			func(r map[string]any) { order(r)["local_name"] = " \t\u00a0" },
			[]FieldError{{"data.order.local_name", "must not be blank"}}},
		{"an empty local_name is required", shopee,
			func(r map[string]any) { order(r)["local_name"] = "" },
			[]FieldError{{"data.order.local_name", "required"}}},
		{"a blank local_name of a paid invoice is refused", payout,
			func(r map[string]any) { at(r, "data", "invoices", 0, "order")["local_name"] = "   " },
			[]FieldError{{"data.invoices[0].order.local_name", "must not be blank"}}},
		{"an amount above what Accurate holds is refused", payout,
			func(r map[string]any) { at(r, "data", "invoices", 0)["service_fee"] = json.Number("1000000000000") },
			[]FieldError{{"data.invoices[0].service_fee", "is more than 999,999,999,999.99, the most Accurate holds"}}},
		{"an amount above what Accurate holds, written as a string, is refused", shopee,
			func(r map[string]any) { line(r, 0)["price"] = "9223372036854775.00" },
			[]FieldError{{"data.order.item_lines[0].price", "is more than 999,999,999,999.99, the most Accurate holds"}}},
		{"the largest amount Accurate holds is read", payout,
			func(r map[string]any) { at(r, "data", "invoices", 0)["total"] = "999999999999.99" },
			nil},
		{"a quantity of 2^63−1 is refused", shopee,
			func(r map[string]any) { line(r, 0)["quantity"] = json.Number("9223372036854775807") },
			[]FieldError{{"data.order.item_lines[0].quantity", "must be at most 1000000"}}},
		{"a bundle component's qty above the bound is refused", tokopedia,
			func(r map[string]any) {
				at(r, "data", "order", "item_lines", 0, "bundle_info", 0)["qty"] = json.Number("1000001")
			},
			[]FieldError{{"data.order.item_lines[0].bundle_info[0].qty", "must be at most 1000000"}}},
		{"a missing price is required", shopee,
			func(r map[string]any) { delete(line(r, 0), "price") },
			[]FieldError{{"data.order.item_lines[0].price", "required"}}},
		{"a null price is required", shopee,
			func(r map[string]any) { line(r, 0)["price"] = nil },
			[]FieldError{{"data.order.item_lines[0].price", "required"}}},
		{"a price of 0 is valid", shopee,
			func(r map[string]any) { line(r, 0)["price"] = json.Number("0") },
			nil},
		{"a missing local_name is required", shopee,
			func(r map[string]any) { delete(order(r), "local_name") },
			[]FieldError{{"data.order.local_name", "required"}}},
		{"a missing cashless is required", shopee,
			func(r map[string]any) { delete(order(r), "cashless") },
			[]FieldError{{"data.order.cashless", "required"}}},
		{"cashless false is a value, not a missing field", shopee,
			func(r map[string]any) { order(r)["cashless"] = false },
			nil},
		{"a missing order is required", shopee,
			func(r map[string]any) { delete(at(r, "data"), "order") },
			[]FieldError{{"data.order", "required"}}},
		{"a missing created_at is required", shopee,
			func(r map[string]any) { delete(at(r, "data"), "created_at") },
			[]FieldError{{"data.created_at", "required"}}},
		{"an item line id of 0 must be greater than 0", shopee,
			func(r map[string]any) { line(r, 1)["id"] = json.Number("0") },
			[]FieldError{{"data.order.item_lines[1].id", "must be greater than 0"}}},
		{"a negative store id must be greater than 0", payout,
			func(r map[string]any) { at(r, "data")["store_id"] = json.Number("-1009") },
			[]FieldError{{"data.store_id", "must be greater than 0"}}},
		{"a missing invoice id is required", shopee,
			func(r map[string]any) { delete(at(r, "data"), "id") },
			[]FieldError{{"data.id", "required"}}},
		{"a quantity of 0 must be greater than 0", shopee,
			func(r map[string]any) { line(r, 0)["quantity"] = json.Number("0") },
			[]FieldError{{"data.order.item_lines[0].quantity", "must be greater than 0"}}},
		{"an id written as a string must be an integer", shopee,
			func(r map[string]any) { line(r, 2)["id"] = "3" },
			[]FieldError{{"data.order.item_lines[2].id", "must be an integer"}}},
		{"a fractional id must be an integer", payout,
			func(r map[string]any) { at(r, "data", "invoices", 0, "order")["id"] = json.Number("35001.5") },
			[]FieldError{{"data.invoices[0].order.id", "must be an integer"}}},
		{"an id beyond int64 is too large", shopee,
			func(r map[string]any) { order(r)["warehouse_id"] = json.Number("99999999999999999999") },
			[]FieldError{{"data.order.warehouse_id", "is too large"}}},
		{"cashless written as a string must be true or false", shopee,
			func(r map[string]any) { order(r)["cashless"] = "true" },
			[]FieldError{{"data.order.cashless", "must be true or false"}}},
		{"a SKU written as a number must be a string", shopee,
			func(r map[string]any) { line(r, 1)["sku"] = json.Number("42") },
			[]FieldError{{"data.order.item_lines[1].sku", "must be a string"}}},
		{"item_lines written as an object must be an array", shopee,
			func(r map[string]any) { order(r)["item_lines"] = map[string]any{} },
			[]FieldError{{"data.order.item_lines", "must be an array"}}},
		{"an item line that is not an object speaks for its fields", shopee,
			func(r map[string]any) { order(r)["item_lines"].([]any)[1] = "KAOS-HTM-L" },
			[]FieldError{{"data.order.item_lines[1]", "must be an object"}}},
		{"no item lines is refused", shopee,
			func(r map[string]any) { order(r)["item_lines"] = []any{} },
			[]FieldError{{"data.order.item_lines", "must not be empty"}}},
		{"a payout without invoices is required", payout,
			func(r map[string]any) { delete(at(r, "data"), "invoices") },
			[]FieldError{{"data.invoices", "required"}}},
		{"a payout invoice without its order is required", payout,
			func(r map[string]any) { delete(at(r, "data", "invoices", 0), "order") },
			[]FieldError{{"data.invoices[0].order", "required"}}},
		{"a created_at that is not RFC 3339 is refused", shopee,
			func(r map[string]any) { at(r, "data")["created_at"] = "26/11/2026 09:30" },
			[]FieldError{{"data.created_at", "must be an RFC 3339 time"}}},
		{"an ordered_at written as a number is refused", shopee,
			func(r map[string]any) { order(r)["ordered_at"] = json.Number("1764124364") },
			[]FieldError{{"data.order.ordered_at", "must be an RFC 3339 time"}}},
		{"an envelope timestamp that is not RFC 3339 is refused", shopee,
			func(r map[string]any) { r["timestamp"] = "yesterday" },
			[]FieldError{{"timestamp", "must be an RFC 3339 time"}}},
		{"a missing envelope timestamp is allowed", shopee,
			func(r map[string]any) { delete(r, "timestamp") },
			nil},
		{"a bundle component without item_price or qty reports both", tokopedia,
			func(r map[string]any) {
				c := at(r, "data", "order", "item_lines", 0, "bundle_info", 1)
				delete(c, "item_price")
				c["qty"] = json.Number("0")
			},
			[]FieldError{
				{"data.order.item_lines[0].bundle_info[1].qty", "must be greater than 0"},
				{"data.order.item_lines[0].bundle_info[1].item_price", "required"},
			}},
		{"fields Forstok may add later are ignored", shopee,
			func(r map[string]any) {
				at(r, "data")["marketplace_fee_breakdown"] = map[string]any{"x": 1}
				line(r, 0)["warranty"] = "none"
			},
			nil},
		{"every problem of one payload is listed at once", shopee,
			func(r map[string]any) {
				at(r, "data")["id"] = "70001"
				at(r, "data")["created_at"] = "not a time"
				delete(order(r), "channel")
				line(r, 0)["sku"] = ""
				line(r, 1)["price"] = "1.001"
				line(r, 2)["id"] = json.Number("0")
				line(r, 2)["sale_price"] = json.Number("-3")
			},
			[]FieldError{
				{"data.id", "must be an integer"},
				{"data.created_at", "must be an RFC 3339 time"},
				{"data.order.channel", "required"},
				{"data.order.item_lines[0].sku", "required"},
				{"data.order.item_lines[1].price", "has more than 2 decimal places"},
				{"data.order.item_lines[2].id", "must be greater than 0"},
				{"data.order.item_lines[2].sale_price", "must not be negative"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := mutate(t, tt.example, tt.change)
			ev, err := d.Decode(body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if ev.Key() == "" {
					t.Error("a valid event has no key")
				}
				return
			}
			var invalid *ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("Decode: %v (%T), want *ValidationError", err, err)
			}
			if !slices.Equal(invalid.Fields, tt.want) {
				t.Errorf("Fields =\n  %v\nwant\n  %v", invalid.Fields, tt.want)
			}
			if ev.Invoice != nil || ev.Payment != nil {
				t.Error("an invalid event still carries its payload")
			}
		})
	}
}

func TestDecodeRefusesWhatIsNotAWebhook(t *testing.T) {
	d := NewDecoder()
	tests := []struct {
		name    string
		body    string
		want    any    // *SyntaxError or *UnknownTypeError
		mention string // part of the message
	}{
		{"an empty body is a syntax error", ``, &SyntaxError{}, "empty"},
		{"truncated JSON is a syntax error", `{"type":"invoice.created","data":{`, &SyntaxError{}, "not valid JSON"},
		{"plain text is a syntax error", `hello`, &SyntaxError{}, "not valid JSON"},
		{"a JSON array is a syntax error", `[{"type":"invoice.created"}]`, &SyntaxError{}, "JSON object"},
		{"data that is a string is a syntax error", `{"type":"invoice.created","data":"70001"}`, &SyntaxError{}, "data must be a JSON object"},
		{"data that is missing is a syntax error", `{"type":"payment.received"}`, &SyntaxError{}, "data"},
		{"an unknown type is refused, naming the accepted ones", `{"type":"order.shipped","data":{}}`, &UnknownTypeError{}, "invoice.created, payment.received, invoice.voided, return.created"},
		{"a missing type is refused", `{"data":{"id":1}}`, &UnknownTypeError{}, "missing"},
		{"a type that is not a string is refused", `{"type":7,"data":{}}`, &UnknownTypeError{}, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Decode([]byte(tt.body))
			switch tt.want.(type) {
			case *SyntaxError:
				var target *SyntaxError
				if !errors.As(err, &target) {
					t.Fatalf("Decode: %v (%T), want *SyntaxError", err, err)
				}
			case *UnknownTypeError:
				var target *UnknownTypeError
				if !errors.As(err, &target) {
					t.Fatalf("Decode: %v (%T), want *UnknownTypeError", err, err)
				}
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("message %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestMoneyUnmarshal(t *testing.T) {
	tests := []struct {
		literal string
		amount  money.Amount
		present bool
		problem string
	}{
		{`150000`, 15_000_000, true, ""},
		{`150000.5`, 15_000_050, true, ""},
		{`"150000.00"`, 15_000_000, true, ""},
		{`0`, 0, true, ""},
		{`"1.500"`, 150, true, ""},
		{`"\u0031\u0030"`, 1000, true, ""},
		{`null`, 0, false, ""},
		{`-1`, 0, true, "must not be negative"},
		{`"0.001"`, 0, true, "has more than 2 decimal places"},
		{`12345678901234567`, 0, true, "is too large"},
		{`1e3`, 0, true, "is not a decimal number"},
		{`""`, 0, true, "is not a decimal number"},
		{`"12,50"`, 0, true, "is not a decimal number"},
		{`{"amount":1}`, 0, true, "is not a decimal number"},
		{`[1]`, 0, true, "is not a decimal number"},
		{`false`, 0, true, "is not a decimal number"},
	}
	for _, tt := range tests {
		t.Run("the literal "+tt.literal+" reads as expected", func(t *testing.T) {
			var m Money
			if err := json.Unmarshal([]byte(tt.literal), &m); err != nil {
				t.Fatalf("Unmarshal must never fail on the value: %v", err)
			}
			if m.Amount != tt.amount || m.Present() != tt.present || m.Problem() != tt.problem {
				t.Errorf("got %d sen, present %v, problem %q; want %d, %v, %q",
					m.Amount, m.Present(), m.Problem(), tt.amount, tt.present, tt.problem)
			}
		})
	}

	t.Run("a Money marshals as the exact JSON number", func(t *testing.T) {
		b, err := json.Marshal(NewMoney(15_000_050))
		if err != nil || string(b) != "150000.5" {
			t.Errorf("Marshal = %s, %v", b, err)
		}
	})
}

func TestFieldErrorJSONShape(t *testing.T) {
	b, err := json.Marshal(FieldError{Field: "data.order.item_lines[0].sku", Problem: "required"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"field":"data.order.item_lines[0].sku","error":"required"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

// Every Money field must be validated, or a malformed amount would pass
// silently as zero. This guards fields added later.
func TestEveryMoneyFieldIsValidated(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ == moneyType {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			if f.Type == moneyType && !slices.Contains(strings.Split(f.Tag.Get("validate"), ","), "money") {
				t.Errorf("%s.%s has no money validation", typ.Name(), f.Name)
			}
			check(f.Type)
		}
	}
	check(reflect.TypeFor[Invoice]())
	check(reflect.TypeFor[Payment]())
}

// BenchmarkDecode decodes and validates the Shopee invoice: Decode as
// intake calls it (the fast path), and the careful path it falls back to,
// which is what every body cost before the fast path.
func BenchmarkDecode(b *testing.B) {
	body := readExample(b, shopee)
	d := NewDecoder()
	for _, bm := range []struct {
		name   string
		decode func([]byte) (Event, error)
	}{{"Decode", d.Decode}, {"careful path", d.decodeCarefully}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
