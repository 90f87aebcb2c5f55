package forstok

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode: any body gives either a valid event with a key and exactly one
// payload, or one of the three typed errors, and never panics; and the fast
// path, when it takes a body, gives exactly what the careful path gives.
func FuzzDecode(f *testing.F) {
	examples, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil || len(examples) == 0 {
		f.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	for _, name := range examples {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"invoice.created","data":{"id":"1","order":{"item_lines":[{"price":"1.001"}]}}}`))
	f.Add([]byte(`{"type":"payment.received","data":{"invoices":{},"amount_receive":true}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"type":"payment.received","data":{"id":1},"data":{"id":2}}`))
	f.Add([]byte(`{"Type":"invoice.created","type":"payment.received","data":{}}`))
	// What the strict check refuses: keys in another case or repeated, text
	// that is not UTF-8, deep nesting.
	shopeeBody, err := os.ReadFile(filepath.Join(examplesDir, "invoice-created-shopee.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, edit := range [][2]string{
		{`"sku"`, `"SKU"`}, {`"sku"`, `"ſku"`}, {`"sku"`, `"s\u006bu"`}, {`"id": 1,`, `"id": 1, "id": 1,`},
		{`"name": "Kaos`, "\"name\": \"\xff"}, {`"local_name": "`, `"local_name": " `},
		{`"address": {`, `"address": {"a":[[[[{"b":{"c":[1]}}]]]],`},
	} {
		f.Add(bytes.Replace(shopeeBody, []byte(edit[0]), []byte(edit[1]), 1))
	}

	d := NewDecoder()
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeBoth(t, d, body)
		ev, err := d.Decode(body)
		if err == nil {
			if ev.Key() == "" {
				t.Fatalf("valid event without a key: %+v", ev)
			}
			if n := payloadsSet(ev); n != 1 || ev.Data() == nil {
				t.Fatalf("want exactly one payload, the type's, got %d: %+v", n, ev)
			}
			if !strings.HasPrefix(ev.Key(), ev.Type+":") {
				t.Fatalf("key %q does not start with the type %q", ev.Key(), ev.Type)
			}
			return
		}
		var (
			syntax  *SyntaxError
			unknown *UnknownTypeError
			invalid *ValidationError
		)
		switch {
		case errors.As(err, &syntax), errors.As(err, &unknown):
		case errors.As(err, &invalid):
			if len(invalid.Fields) == 0 {
				t.Fatal("a ValidationError lists no field")
			}
			for _, fe := range invalid.Fields {
				if fe.Field == "" || fe.Problem == "" {
					t.Fatalf("incomplete field error %+v", fe)
				}
			}
		default:
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}

// FuzzVerify: a message signed with the verifier's own secret verifies, the
// same signature over any other body does not, and a garbage signature
// header is a typed refusal.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, vectorTimestamp, []byte(vectorBody), []byte(`{"test": 2432232315}`))
	f.Add("msg_1", int64(-1), []byte{}, []byte("v1,AAAA v1a,x"))
	v := newVerifier(f, vectorSecret+" "+otherSecret)
	f.Fuzz(func(t *testing.T, id string, skew int64, body, other []byte) {
		if id == "" {
			id = "msg"
		}
		// The clock is a real one; the sender's timestamp is within the
		// tolerance of it, either way.
		now := vectorTime
		ts := vectorTimestamp + skew%300
		tsText := strconv.FormatInt(ts, 10)
		sig, err := Sign(otherSecret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(id, tsText, sig, body, now); err != nil {
			t.Fatalf("Verify of its own signature: %v", err)
		}
		if string(other) != string(body) {
			if err := v.Verify(id, tsText, sig, other, now); err == nil {
				t.Fatal("the signature verified another body")
			}
		}
		if err := v.Verify(id, tsText, string(other), body, now); err != nil {
			var sigErr *SignatureError
			if !errors.As(err, &sigErr) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}
