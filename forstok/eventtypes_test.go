package forstok

import (
	"reflect"
	"strings"
	"testing"
)

// payloadsSet counts the Event's non-nil payload fields.
func payloadsSet(ev Event) int {
	n := 0
	v := reflect.ValueOf(ev)
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

func TestEveryEventTypeHasItsOwnPayloadField(t *testing.T) {
	seen := map[reflect.Type]string{}
	for _, typ := range eventTypes {
		ev := Event{Type: typ.name}
		typ.set(&ev, typ.newData())
		if n := payloadsSet(ev); n != 1 {
			t.Errorf("%s fills %d payload fields, want 1", typ.name, n)
		}
		pt := reflect.TypeOf(ev.Data())
		if other, dup := seen[pt]; dup {
			t.Errorf("%s and %s share the payload type %v", typ.name, other, pt)
		}
		seen[pt] = typ.name
	}
	if n := reflect.TypeFor[Event]().NumField() - 2; n != len(eventTypes) {
		t.Errorf("Event has %d payload fields for %d types: a field without a table row", n, len(eventTypes))
	}
}

func TestUnknownTypeErrorNamesEveryAcceptedType(t *testing.T) {
	_, err := NewDecoder().Decode([]byte(`{"type":"order.shipped","data":{}}`))
	if err == nil {
		t.Fatal("an unknown type was accepted")
	}
	for _, name := range TypeNames() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the refusal %q does not name %s", err, name)
		}
	}
}

func TestKeyIsTheTypeAndTheIDOfItsPayload(t *testing.T) {
	for _, tc := range []struct {
		ev   Event
		want string
	}{
		{Event{Type: TypeInvoiceCreated, Invoice: &Invoice{ID: 70001}}, "invoice.created:70001"},
		{Event{Type: TypePaymentReceived, Payment: &Payment{ID: 90001}}, "payment.received:90001"},
		{Event{Type: TypeInvoiceCreated}, ""},
		{Event{Type: "order.shipped", Invoice: &Invoice{ID: 1}}, ""},
	} {
		if got := tc.ev.Key(); got != tc.want {
			t.Errorf("Key of %+v = %q, want %q", tc.ev, got, tc.want)
		}
	}
}
