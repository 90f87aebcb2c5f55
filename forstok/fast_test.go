package forstok

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/money"
)

// decodeBoth runs the careful path and the whole Decode on body and fails
// the test unless they agree exactly: same event, same error.
func decodeBoth(t *testing.T, d *Decoder, body []byte) (Event, bool) {
	t.Helper()
	fast, fastOK := d.decodeFast(body)
	careful, carefulErr := d.decodeCarefully(body)
	if typ, ok := fastType(body); ok {
		if first, ok := firstTry(typ, body); ok {
			if carefulErr != nil {
				t.Fatalf("the fast path's first try accepted a body the careful path refuses (%v):\n%s", carefulErr, body)
			}
			if !reflect.DeepEqual(first, careful) {
				t.Fatalf("the first try and the careful path disagree:\nfirst   %+v\ncareful %+v", first, careful)
			}
		}
	}
	if fastOK {
		if carefulErr != nil {
			t.Fatalf("the fast path accepted a body the careful path refuses (%v):\n%s", carefulErr, body)
		}
		if !reflect.DeepEqual(fast, careful) {
			t.Fatalf("the paths disagree:\nfast    %+v\ncareful %+v", fast, careful)
		}
	}
	ev, err := d.Decode(body)
	if !reflect.DeepEqual(ev, careful) || fmt.Sprint(err) != fmt.Sprint(carefulErr) {
		t.Fatalf("Decode = %+v, %v; the careful path = %+v, %v", ev, err, careful, carefulErr)
	}
	return ev, fastOK
}

func TestFastPathTakesOnlyWhatTheCarefulPathWouldAcceptTheSameWay(t *testing.T) {
	d := NewDecoder()
	valid := `{"type":"payment.received","timestamp":"2026-11-29T00:05:00+07:00","data":{"id":90001,"paid_at":"2026-11-29T00:00:00+07:00","store_id":1009,"amount_receive":1,"invoices":[{"id":1,"order":{"id":2,"local_name":"X"}}]}}`
	data := valid[strings.Index(valid, `{"id":90001`) : len(valid)-1]
	tests := []struct {
		name     string
		body     string
		wantFast bool
	}{
		{"a valid payment takes the fast path", valid, true},
		{"whitespace around the envelope's keys and values is fine", " {\n \"type\" :\t\"payment.received\" , \"data\" : " + data + " }\n", true},
		{"the type after the data is found", `{"data":` + data + `,"type":"payment.received"}`, true},
		{"an unknown top-level key is ignored by both", `{"type":"payment.received","extra":{"type":"invoice.created"},"data":` + data + `}`, true},
		{"a repeated data key goes the careful way (merge or replace must not matter)", `{"type":"payment.received","data":` + data + `,"data":{"id":5}}`, false},
		{"a repeated type goes the careful way", `{"type":"invoice.created","type":"payment.received","data":` + data + `}`, false},
		{"a key in another case goes the careful way", `{"type":"payment.received","DATA":` + data + `}`, false},
		{"a key matched by Unicode folding goes the careful way", `{"type":"payment.received","data":` + data + `,"timeſtamp":"x"}`, false},
		{"an escaped key is read as encoding/json reads it", `{"type":"payment.received","d\u0061ta":` + data + `}`, true},
		{"an escaped key in another case goes the careful way", `{"type":"payment.received","D\u0061ta":` + data + `}`, false},
		{"an escaped type key after the first goes the careful way", `{"type":"invoice.created","typ\u0065":"payment.received","data":` + data + `}`, false},
		{"an escaped type key first goes the careful way", `{"typ\u0065":"payment.received","data":` + data + `}`, false},
		{"an escaped type goes the careful way", `{"type":"payment.receiv\u0065d","data":` + data + `}`, false},
		{"a type that is not a string goes the careful way", `{"type":7,"data":` + data + `}`, false},
		{"a bad timestamp goes the careful way", strings.Replace(valid, "2026-11-29T00:05:00+07:00", "yesterday", 1), false},
		{"null data goes the careful way", `{"type":"payment.received","data":null}`, false},
		{"an invalid payload goes the careful way", strings.Replace(valid, `"store_id":1009`, `"store_id":0`, 1), false},
		{"trailing garbage goes the careful way", valid + "x", false},
		{"an array goes the careful way", `[` + valid + `]`, false},
		{"an unterminated string goes the careful way", `{"type":"payment.received`, false},
		// The fast path's decoder is not encoding/json: whatever encoding/json
		// refuses anywhere in the body, even in a key nobody reads, it must
		// refuse too, and what it takes it must read the same way.
		{"a missing array element in an ignored key goes the careful way", `{"x":[1,,2],` + valid[1:], false},
		{"a trailing comma in an ignored array goes the careful way", `{"x":[1,],` + valid[1:], false},
		{"a trailing comma in an ignored object goes the careful way", `{"x":{"a":1,},` + valid[1:], false},
		{"an ignored object without a colon goes the careful way", `{"x":{"a" 1},` + valid[1:], false},
		{"an ignored object with a number for a key goes the careful way", `{"x":{1:2},` + valid[1:], false},
		{"a misspelled true goes the careful way", `{"x":tru,` + valid[1:], false},
		{"a misspelled null goes the careful way", `{"x":nul,` + valid[1:], false},
		{"a number with a leading zero goes the careful way", `{"x":01,` + valid[1:], false},
		{"a number ending in its decimal point goes the careful way", `{"x":1.,` + valid[1:], false},
		{"a lone minus goes the careful way", `{"x":-,` + valid[1:], false},
		{"a number with a plus sign goes the careful way", `{"x":+1,` + valid[1:], false},
		{"an exponent without digits goes the careful way", `{"x":1e,` + valid[1:], false},
		{"an unknown string escape goes the careful way", `{"x":"a\qb",` + valid[1:], false},
		{"a raw tab in a string goes the careful way", "{\"x\":\"a\tb\"," + valid[1:], false},
		{"a closing brace too many goes the careful way", valid + "}", false},
		// The fast path's strict check leaves a repeated key to the decoder.
		{"a key repeated in an ignored object goes the careful way", `{"x":{"a":1,"a":1},` + valid[1:], false},
		{"a key repeated at the top goes the careful way", `{"x":1,"x":1,` + valid[1:], false},
		{"a key repeated in the data goes the careful way", strings.Replace(valid, `"store_id":1009`, `"store_id":1009,"store_id":1009`, 1), false},
		{"a key repeated in an ignored key's array goes the careful way", `{"x":[{"a":1,"a":2}],` + valid[1:], false},
		{"a byte order mark goes the careful way", "\xef\xbb\xbf" + valid, false},
		{"a fraction in an id goes the careful way", strings.Replace(valid, `"store_id":1009`, `"store_id":1009.0`, 1), false},
		{"an exponent in an id goes the careful way", strings.Replace(valid, `"store_id":1009`, `"store_id":1e3`, 1), false},
		{"an id past int64 goes the careful way", strings.Replace(valid, `"store_id":1009`, `"store_id":99999999999999999999`, 1), false},
		{"an id in quotes goes the careful way", strings.Replace(valid, `"store_id":1009`, `"store_id":"1009"`, 1), false},
		{"a number for a string goes the careful way", strings.Replace(valid, `"local_name":"X"`, `"local_name":"X"},"invoice_reference":1,"x":{`, 1), false},
		{"escapes in a string are read as encoding/json reads them", strings.Replace(valid, `"local_name":"X"`, `"local_name":"X\u00e9\/\""},"invoice_reference":"\ud800\u0041\ud83d\ude00","x":{`, 1), true},
		{"a lone surrogate is read as encoding/json reads it", strings.Replace(valid, `"local_name":"X"`, `"local_name":"X"},"invoice_reference":"\ud800","x":{`, 1), true},
		{"null for a string leaves it empty", strings.Replace(valid, `"local_name":"X"`, `"local_name":"X"},"invoice_reference":null,"x":{`, 1), true},
		{"an amount as a decimal string is read exactly", strings.Replace(valid, `"amount_receive":1`, `"amount_receive":"1234567.89"`, 1), true},
		{"an amount with an exponent is read as the careful path reads it", strings.Replace(valid, `"amount_receive":1`, `"amount_receive":1.5e2`, 1), false},
		{"white space around the body is fine", " \n\t" + valid + "\r\n ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, fast := decodeBoth(t, d, []byte(tt.body)); fast != tt.wantFast {
				t.Errorf("fast path taken = %v, want %v", fast, tt.wantFast)
			}
		})
	}
	t.Run("a key repeated in an address, kept as sent, goes the careful way", func(t *testing.T) {
		body := strings.Replace(string(readExample(t, shopee)), `"address": {"name": "Siti Rahma",`, `"address": {"name": "X", "name": "Siti Rahma",`, 1)
		if !strings.Contains(body, `"name": "X", "name"`) {
			t.Fatal("the example has no address to edit")
		}
		if _, fast := decodeBoth(t, d, []byte(body)); fast {
			t.Error("it took the fast path")
		}
	})
	for _, name := range []string{shopee, "invoice-created-tokopedia-bundle.json", payout, "payment-received-tokopedia.json"} {
		t.Run("the example "+name+" takes the fast path", func(t *testing.T) {
			if _, fast := decodeBoth(t, d, readExample(t, name)); !fast {
				t.Error("it went the careful way")
			}
		})
	}
}

// TestValidMatchesTheValidateTags changes one field at a time of each
// example in examples/, to the values that sit on either side of every rule in
// types.go (zero, negative, unreadable, empty, nil), and checks that the
// fast path's valid() says exactly what the validator says. A validate tag
// added or changed without valid() fails here.
func TestValidMatchesTheValidateTags(t *testing.T) {
	d := NewDecoder()
	examples, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	checked := 0
	for _, path := range examples {
		ev, err := d.decodeCarefully(readExample(t, filepath.Base(path)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		root := reflect.ValueOf(ev.Data())
		agree := func(what string) {
			t.Helper()
			checked++
			fast := root.Interface().(interface{ valid() bool }).valid()
			byTags := d.validate.Struct(root.Interface()) == nil
			if fast != byTags {
				t.Errorf("%s, %s: valid() = %v, the validator says %v", filepath.Base(path), what, fast, byTags)
			}
		}
		agree("unchanged")
		eachField(root.Elem(), "data", func(path string, f reflect.Value) {
			old := reflect.New(f.Type()).Elem()
			old.Set(f)
			for _, v := range edgeValues(f.Type()) {
				f.Set(v)
				agree(fmt.Sprintf("%s = %v", path, describe(v)))
			}
			f.Set(old)
		})
	}
	t.Logf("%d variants checked", checked)
	if checked < 200 {
		t.Errorf("only %d variants checked; the walk missed fields", checked)
	}
}

// eachField calls fn for every settable field under v (structs, slices and
// pointers followed), depth first.
func eachField(v reflect.Value, path string, fn func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			eachField(v.Elem(), path, fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			eachField(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Struct:
		if v.Type() == moneyType || v.Type() == timeType {
			return
		}
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			p := path + "." + jsonName(sf)
			fn(p, v.Field(i))
			eachField(v.Field(i), p, fn)
		}
	}
}

// edgeValues are the values each side of every rule a field of type t
// could have.
func edgeValues(t reflect.Type) []reflect.Value {
	var out []reflect.Value
	add := func(x any) { out = append(out, reflect.ValueOf(x).Convert(t)) }
	switch {
	case t == moneyType:
		for _, m := range []Money{{}, NewMoney(0), NewMoney(1), NewMoney(-1), NewMoney(money.Max), NewMoney(money.Max + 1), {present: true, problem: "is not a decimal number"}} {
			add(m)
		}
		return out
	case t == timeType:
		add(time.Time{})
		add(time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("WIB", 7*3600)))
		add(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
		return out
	}
	switch t.Kind() {
	case reflect.Int64:
		for _, n := range []int64{-1, 0, 1, MaxQuantity, MaxQuantity + 1} {
			add(n)
		}
	case reflect.String:
		add("")
		add(" ")
	case reflect.Bool:
		add(false)
	case reflect.Pointer:
		out = append(out, reflect.Zero(t))
		for _, e := range edgeValues(t.Elem()) {
			p := reflect.New(t.Elem())
			p.Elem().Set(e)
			out = append(out, p)
		}
	case reflect.Slice:
		out = append(out, reflect.Zero(t), reflect.MakeSlice(t, 0, 0))
	case reflect.Struct:
		out = append(out, reflect.Zero(t))
	}
	return out
}

func describe(v reflect.Value) string {
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil(), v.Kind() == reflect.Slice && v.IsNil():
		return "nil"
	case v.Kind() == reflect.Pointer:
		return "&" + describe(v.Elem())
	case v.Kind() == reflect.Slice:
		return fmt.Sprintf("%d elements", v.Len())
	case v.Type() == moneyType:
		m := v.Interface().(Money)
		return fmt.Sprintf("Money{%d present=%v problem=%q}", m.Amount, m.present, m.problem)
	}
	return fmt.Sprintf("%#v", v.Interface())
}

func TestFastPathErrorsAreNeverItsOwn(t *testing.T) {
	// Whatever the fast path declines, Decode's answer is the careful path's,
	// typed as before.
	d := NewDecoder()
	_, err := d.Decode([]byte(`{"type":"invoice.created","data":{"id":1}}`))
	var invalid *ValidationError
	if !errors.As(err, &invalid) || len(invalid.Fields) == 0 {
		t.Fatalf("Decode = %v, want the careful path's *ValidationError", err)
	}
}

func TestWholeRupiahReadsWhatMoneyParseReads(t *testing.T) {
	literals := []string{"0", "7", "007", "89000", "233000", "1234567890123456", "0000000000000001", "9999999999999999"}
	for n := int64(1); n < 1e16; n = n*7 + 3 {
		literals = append(literals, strconv.FormatInt(n, 10))
	}
	for _, lit := range literals {
		got, ok := wholeRupiah([]byte(lit))
		want, err := money.Parse(lit)
		if !ok || err != nil || got != want {
			t.Errorf("%s: wholeRupiah = %d %v, money.Parse = %d %v", lit, got, ok, want, err)
		}
	}
	for _, lit := range []string{"", "-1", "1.5", "1e3", "12345678901234567", " 1", "1 ", "+1", `"1"`, "１"} {
		if _, ok := wholeRupiah([]byte(lit)); ok {
			t.Errorf("%q: wholeRupiah took it; it must leave it to money.Parse", lit)
		}
	}
}

// minimalLines is an invoice whose order has n lines of the fewest fields a
// line needs, and bundles components of the fewest fields in its first.
func minimalLines(n, bundles int) string {
	var b strings.Builder
	b.WriteString(invoicePrefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":1,"sku":"A","price":1`)
		if i == 0 && bundles > 0 {
			b.WriteString(`,"bundle_info":[`)
			for j := range bundles {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"sku":"B","qty":1,"item_price":1}`)
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}}}`)
	return b.String()
}

func TestTheFirstTryTakesOnlyBodiesOfExactNamesAndBounds(t *testing.T) {
	d := NewDecoder()
	shopeeBody := string(readExample(t, shopee))
	deepAddress := func(arrays int) string {
		return strings.Replace(shopeeBody, `"address": {`, `"address": {"a":`+strings.Repeat("[", arrays)+"1"+strings.Repeat("]", arrays)+",", 1)
	}
	tests := []struct {
		name                string
		body                string
		wantFirst, wantFast bool
	}{
		{"an invoice of the examples is taken at the first try", shopeeBody, true, true},
		{"an invoice with a bundle is taken at the first try", string(readExample(t, "invoice-created-tokopedia-bundle.json")), true, true},
		{"a payout of the examples is taken at the first try", string(readExample(t, payout)), true, true},
		{"an unknown top-level key waits for the second try", strings.Replace(shopeeBody, `"data":`, `"extra":1,"data":`, 1), false, true},
		{"an unknown key in a line waits for the second try", strings.Replace(shopeeBody, `"sku": "TOPI-01",`, `"sku": "TOPI-01", "colour": "red",`, 1), false, true},
		{"an escaped key is read as its name", strings.Replace(shopeeBody, `"sku": "TOPI-01"`, `"s\u006bu": "TOPI-01"`, 1), true, true},
		{"a key in another case goes the careful way", strings.Replace(shopeeBody, `"sku": "TOPI-01"`, `"SKU": "TOPI-01"`, 1), false, false},
		{"a lone surrogate waits for the second try", strings.Replace(shopeeBody, `"name": "Topi Baseball"`, `"name": "Topi \ud800"`, 1), false, true},
		{"raw invalid UTF-8 goes the careful way", strings.Replace(shopeeBody, `"name": "Topi Baseball"`, "\"name\": \"Topi \xff\"", 1), false, false},
		{"as many lines as the tag allows are taken at the first try", minimalLines(1000, 0), true, true},
		{"one line more than the tag allows goes the careful way", minimalLines(1001, 0), false, false},
		{"as many bundle components as the tag allows are taken at the first try", minimalLines(1, 100), true, true},
		{"one bundle component more than the tag allows goes the careful way", minimalLines(1, 101), false, false},
		{"an address nested as deep as the strict check follows is taken at the first try", deepAddress(60), true, true},
		{"an address nested one level deeper goes the careful way", deepAddress(61), false, false},
		{"a body over exactMaxBody waits for the second try", strings.Replace(shopeeBody, `"address": {`, `"address": {"note":"`+strings.Repeat("x", exactMaxBody)+`",`, 1), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			typ, ok := fastType(body)
			if !ok {
				t.Fatal("the fast path cannot read the body's type")
			}
			if _, first := firstTry(typ, body); first != tt.wantFirst {
				t.Errorf("first try took it = %v, want %v", first, tt.wantFirst)
			}
			if _, fast := decodeBoth(t, d, body); fast != tt.wantFast {
				t.Errorf("fast path took it = %v, want %v", fast, tt.wantFast)
			}
		})
	}
}

// TestEveryArrayBoundIsCheckedOnTheFastPath finds every max= of a validate
// tag; valid() checks the ones it knows, so a new one fails here until it
// checks that too.
func TestEveryArrayBoundIsCheckedOnTheFastPath(t *testing.T) {
	checked := map[string]int{"Order.ItemLines": maxItemLines, "ItemLine.BundleInfo": maxBundleLines, "Payment.Invoices": maxPaymentInvoices}
	found := map[string]int{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if n := tagMax(f); n > 0 {
				found[typ.Name()+"."+f.Name] = n
			}
			walk(f.Type)
		}
	}
	for _, et := range eventTypes {
		walk(reflect.TypeOf(et.newData()))
	}
	if !reflect.DeepEqual(found, checked) {
		t.Errorf("the validate tags bound %v; valid() checks %v", found, checked)
	}
}
