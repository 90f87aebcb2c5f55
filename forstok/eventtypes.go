package forstok

import (
	"encoding/json"
	"reflect"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Event types the service accepts.
const (
	TypeInvoiceCreated  = "invoice.created"
	TypePaymentReceived = "payment.received"
	TypeInvoiceVoided   = "invoice.voided"
	TypeReturnCreated   = "return.created"
)

// eventTypes is the one table of every event type the service accepts: its
// name, the Go type of its data (which carries the validation in its tags
// and its fast check), the id its idempotency key is built from, and the
// Event field it fills. Decoding, the admin filters, metrics and the
// worker's dispatch all read it, so a new type is one entry here.
var eventTypes = []eventType{
	newEventType(TypeInvoiceCreated, func(e *Event) **Invoice { return &e.Invoice }),
	newEventType(TypePaymentReceived, func(e *Event) **Payment { return &e.Payment }),
	newEventType(TypeInvoiceVoided, func(e *Event) **Void { return &e.Void }),
	newEventType(TypeReturnCreated, func(e *Event) **Return { return &e.Return }),
}

// TypeNames lists the accepted event types, in the table's order.
func TypeNames() []string {
	names := make([]string, len(eventTypes))
	for i, t := range eventTypes {
		names[i] = t.name
	}
	return names
}

// IsType reports whether name is an accepted event type.
func IsType(name string) bool { return slices.Contains(TypeNames(), name) }

// data is what every payload type provides: the id of its business event
// (the idempotency key's second half) and a check, without the validator,
// that answers "certainly valid" for the fast path.
type data interface {
	eventID() int64
	valid() bool
}

// payloadOf constrains a payload's pointer type for newEventType.
type payloadOf[T any] interface {
	*T
	data
}

// eventType is one row of the table; newEventType builds it from the
// payload's Go type.
type eventType struct {
	name string
	// newData is a fresh, empty payload to decode into.
	newData func() data
	// get and set read and write the payload's Event field.
	get func(Event) data
	set func(*Event, data)
	// fast decodes a whole body in one pass with the fast path's options
	// (exactOptions or lenientOptions), or says to ask further.
	fast func(body []byte, opts jsonv2.Options) (data, json.RawMessage, bool)
	// shape is the whole body's, for the strict check (strict.go).
	shape *shape
}

func newEventType[T any, P payloadOf[T]](name string, field func(*Event) *P) eventType {
	return eventType{
		name:    name,
		newData: func() data { return P(new(T)) },
		get: func(e Event) data {
			if p := *field(&e); p != nil {
				return p
			}
			return nil
		},
		set:   func(e *Event, d data) { *field(e) = d.(P) },
		shape: envelopeShape(reflect.TypeFor[T]()),
		fast: func(body []byte, opts jsonv2.Options) (data, json.RawMessage, bool) {
			var env struct {
				Type      string          `json:"type"`
				Timestamp json.RawMessage `json:"timestamp"`
				Data      P               `json:"data"`
			}
			// encoding/json v2's decoder (7 µs on an invoice, where
			// segmentio's took 12) checks the whole body's syntax as
			// encoding/json does and refuses a repeated name too (fast.go
			// says what its options add). Whatever it refuses, and any body
			// it might read another way, goes further (FuzzDecode).
			if jsonv2.Unmarshal(body, &env, opts) != nil || env.Type != name || env.Data == nil || !env.Data.valid() {
				return nil, nil, false
			}
			return env.Data, env.Timestamp, true
		},
	}
}

func lookupType(name string) (eventType, bool) {
	for _, t := range eventTypes {
		if t.name == name {
			return t, true
		}
	}
	return eventType{}, false
}

// Data is the event's payload (*Invoice, *Payment, ...), nil when none.
func (e Event) Data() any {
	if t, ok := lookupType(e.Type); ok {
		if d := t.get(e); d != nil {
			return d
		}
	}
	return nil
}

// Key is the idempotency key of the business event, the same on every
// delivery of it: "<type>:<id>", e.g. "invoice.created:70001".
func (e Event) Key() string {
	t, ok := lookupType(e.Type)
	if !ok {
		return ""
	}
	d := t.get(e)
	if d == nil {
		return ""
	}
	return KeyFor(e.Type, d.eventID())
}

func (inv *Invoice) eventID() int64 { return inv.ID }
func (p *Payment) eventID() int64   { return p.ID }
func (v *Void) eventID() int64      { return v.ID }
func (r *Return) eventID() int64    { return r.ID }

// lenientOptions are the second try's (a body with a key that is not a
// field's name): encoding/json v2's defaults (names matched exactly, a
// repeated name an error), except that a lone UTF-16 surrogate in an escape
// reads as U+FFFD, as encoding/json reads it. Raw invalid UTF-8 never gets
// this far: the strict check refuses it first.
var lenientOptions = jsontext.AllowInvalidUTF8(true)
