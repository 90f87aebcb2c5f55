package forstok

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// replaceOnce edits an example's bytes as sent, so that what JSON encoding
// would normalise (a repeated key, a key's case, invalid UTF-8) survives.
func replaceOnce(t *testing.T, example, old, new string) []byte {
	t.Helper()
	b := readExample(t, example)
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", example, old)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

func TestDecodeIsStrictAboutKeysAndText(t *testing.T) {
	d := NewDecoder()
	tests := []struct {
		name string
		body []byte
		want FieldError
	}{
		{"a key in capitals is not read as the field",
			replaceOnce(t, shopee, `"sku"`, `"SKU"`),
			FieldError{"data.order.item_lines[0].SKU", `is not a field: field names are case-sensitive; write "sku"`}},
		{"a key with a long s (ſ), which Unicode folds to s, is not read as the field",
			replaceOnce(t, shopee, `"sku"`, `"ſku"`),
			FieldError{`data.order.item_lines[0]."\u017fku"`, `is not a field: field names are case-sensitive; write "sku"`}},
		{"an envelope key in another case is refused",
			replaceOnce(t, shopee, `"timestamp"`, `"TimeStamp"`),
			FieldError{"TimeStamp", `is not a field: field names are case-sensitive; write "timestamp"`}},
		{"a repeated key is refused rather than its last value winning",
			replaceOnce(t, payout, `"amount_receive":`, `"amount_receive": 1, "amount_receive":`),
			FieldError{"data.amount_receive", "appears twice in one object: send each key once"}},
		{"a key repeated through an escape is refused",
			replaceOnce(t, payout, `"amount_receive":`, `"amount_receive": 1, "amount_r\u0065ceive":`),
			FieldError{"data.amount_receive", "appears twice in one object: send each key once"}},
		{"a repeated key inside raw JSON (the address) is refused too",
			replaceOnce(t, shopee, `"address": {`, `"address": {"city": "x", "city": "y",`),
			FieldError{"data.order.address.city", "appears twice in one object: send each key once"}},
		{"invalid UTF-8 in a name is refused at its path",
			replaceOnce(t, shopee, `"name": "Kaos`, "\"name\": \"\xffKaos"),
			FieldError{"data.order.item_lines[0].name", "is not valid UTF-8: send text as UTF-8"}},
		{"invalid UTF-8 in a key is refused",
			replaceOnce(t, shopee, `"variant_name"`, "\"v\xc3riant_name\""),
			FieldError{`data.order.item_lines[0]."v\xc3riant_name"`, "is a key that is not valid UTF-8: send text as UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, fast := decodeBoth(t, d, tt.body)
			if fast {
				t.Error("the fast path took it")
			}
			_, err := d.Decode(tt.body)
			var invalid *ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("Decode = %+v, %v; want a *ValidationError", ev, err)
			}
			if !slices.Contains(invalid.Fields, tt.want) {
				t.Errorf("problems = %v; want %v among them", invalid.Fields, tt.want)
			}
			if ev.Type == "" {
				t.Error("the event type is lost; metrics need it")
			}
		})
	}

	t.Run("an unknown key in any case is still ignored", func(t *testing.T) {
		body := replaceOnce(t, shopee, `"sku"`, `"Extra": 1, "sku"`)
		if _, err := d.Decode(body); err != nil {
			t.Errorf("Decode: %v", err)
		}
	})
	t.Run("an escaped key spelled exactly is read", func(t *testing.T) {
		body := replaceOnce(t, shopee, `"sku"`, `"s\u006bu"`)
		if _, err := d.Decode(body); err != nil {
			t.Errorf("Decode: %v", err)
		}
	})
	t.Run("valid UTF-8 text in any script is read", func(t *testing.T) {
		body := replaceOnce(t, shopee, `"name": "Kaos`, `"name": "👕 ñ 日本 Kaos`)
		if _, err := d.Decode(body); err != nil {
			t.Errorf("Decode: %v", err)
		}
	})
	t.Run("a body nested deeper than any webhook is refused, not followed", func(t *testing.T) {
		deep := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
		body := replaceOnce(t, shopee, `"address": {`, `"address": {"deep": `+deep+`,`)
		_, err := d.Decode(body)
		var invalid *ValidationError
		if !errors.As(err, &invalid) || !strings.Contains(invalid.Error(), "nested more than") {
			t.Errorf("Decode = %v; want a problem saying it is nested too deeply", err)
		}
	})
	t.Run("a thousand repeated keys list the first hundred and count the rest", func(t *testing.T) {
		body := replaceOnce(t, shopee, `"address": {`, `"address": {`+strings.Repeat(`"k": 1,`, 1001))
		_, err := d.Decode(body)
		var invalid *ValidationError
		if !errors.As(err, &invalid) || len(invalid.Fields) != 100 || invalid.More != 900 {
			t.Fatalf("Decode = %v; want 100 problems listed and 900 more", err)
		}
		if !strings.HasSuffix(err.Error(), "and 900 more") {
			t.Errorf("message %q does not say how many more", err.Error())
		}
	})
}

func TestKeySetFindsEveryRepeat(t *testing.T) {
	for _, size := range []int{1, 2, 31, 32, 33, 80} {
		var k keySet
		for i := range size {
			if !k.add([]byte("key" + strings.Repeat("x", i))) {
				t.Fatalf("%d keys: key %d reported as a repeat; it is new", size, i)
			}
		}
		for _, i := range []int{0, size / 2, size - 1} {
			if k.add([]byte("key" + strings.Repeat("x", i))) {
				t.Errorf("%d keys: key %d added again was taken as new; want a repeat", size, i)
			}
		}
		if !k.add([]byte("other")) {
			t.Errorf("%d keys: a new key after the repeats was taken as a repeat", size)
		}
	}
}
