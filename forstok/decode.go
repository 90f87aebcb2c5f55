package forstok

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"

	"github.com/go-playground/validator/v10"

	"forstok-accurate-sync/money"
)

// Decoder turns a webhook body into a validated Event. It is safe for
// concurrent use; build one and share it, since the validator caches what it
// learns about the payload types.
type Decoder struct {
	validate *validator.Validate
}

// NewDecoder builds a Decoder.
func NewDecoder() *Decoder {
	// Required non-pointer structs (an invoice's order in a payment, a
	// required Money) must fail "required" when absent.
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(jsonName) // paths in JSON names: item_lines[0].sku
	// RegisterValidation fails only on an empty tag or a nil function.
	if err := v.RegisterValidation("money", validMoney, true); err != nil {
		panic(fmt.Sprintf("forstok: registering the money validation: %v", err))
	}
	if err := v.RegisterValidation("nonblank", nonBlank); err != nil {
		panic(fmt.Sprintf("forstok: registering the nonblank validation: %v", err))
	}
	if err := v.RegisterValidation("ordernumber", orderNumber); err != nil {
		panic(fmt.Sprintf("forstok: registering the ordernumber validation: %v", err))
	}
	return &Decoder{validate: v}
}

// envelope keeps each part raw so that a wrong JSON type in any of them is
// classified here rather than failing the whole decode.
type envelope struct {
	Type      json.RawMessage `json:"type"`
	Timestamp json.RawMessage `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Decode reads a webhook body. Its errors tell the HTTP edge what to answer:
// *SyntaxError (400) when the body is not JSON or data is not an object,
// *UnknownTypeError (400) for a missing or unknown type, *ValidationError
// (422) listing every schema and value problem, wrong JSON types included.
// On a *ValidationError the returned Event still carries Type (for metrics),
// but never a half-valid payload.
func (d *Decoder) Decode(body []byte) (Event, error) {
	if ev, ok := d.decodeFast(body); ok {
		return ev, nil
	}
	return d.decodeCarefully(body)
}

// decodeCarefully is Decode without the fast path: it classifies and names
// every problem, and is the reference the fast path is tested against.
func (d *Decoder) decodeCarefully(body []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, bodySyntaxError(body, err)
	}
	typ, err := readType(env.Type)
	if err != nil {
		return Event{}, err
	}
	t, _ := lookupType(typ) // readType only returns names of the table
	if problems, more := strictCheck(body, t.shape); len(problems) > 0 {
		return Event{Type: typ}, newValidationError(problems, more)
	}
	if isAbsent(env.Data) {
		return Event{Type: typ}, &SyntaxError{Msg: "data is missing: it must be a JSON object"}
	}
	if env.Data[0] != '{' {
		return Event{Type: typ}, &SyntaxError{Msg: "data must be a JSON object"}
	}

	ev := Event{Type: typ}
	var problems []FieldError
	if !isAbsent(env.Timestamp) {
		if err := ev.Timestamp.UnmarshalJSON(env.Timestamp); err != nil {
			problems = append(problems, FieldError{Field: "timestamp", Problem: problemTime})
		}
	}
	payload := t.newData()
	problems = append(problems, d.decodeData(env.Data, payload)...)
	t.set(&ev, payload)
	if len(problems) > 0 {
		return Event{Type: typ}, newValidationError(problems, 0)
	}
	return ev, nil
}

// decodeData fills dst (a payload of the table) from data and returns every
// problem found. The common case, a valid payload, costs one Unmarshal and
// one validation; only a failing payload pays for the diagnosis.
func (d *Decoder) decodeData(data []byte, dst any) []FieldError {
	if err := json.Unmarshal(data, dst); err == nil {
		if err := d.validate.Struct(dst); err == nil {
			return nil
		}
	}
	return d.diagnose(data, dst)
}

// diagnose finds every problem in data. encoding/json stops at the first
// value a method refuses and reports only the first wrong type, so data is
// first walked generically against dst's type: wrong types are recorded and
// replaced by null. The cleaned data then decodes without error, and the
// validator reports the rest, except where a type problem already speaks for
// the field or what it contains.
func (d *Decoder) diagnose(data []byte, dst any) []FieldError {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers stay literals: exact ids and amounts
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return []FieldError{{Field: "data", Problem: "is not valid JSON"}}
	}
	w := walker{absent: map[string]bool{}}
	tree = w.walk("data", tree, reflect.TypeOf(dst).Elem())

	cleaned, err := json.Marshal(tree)
	target := reflect.ValueOf(dst).Elem()
	target.SetZero()
	if err == nil {
		err = json.Unmarshal(cleaned, dst)
	}
	if err != nil {
		// The walk should have caught whatever encoding/json refuses; if it
		// did not, still answer 422 with the place encoding/json names.
		field := "data"
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			field += "." + typeErr.Field
		}
		return append(w.problems, FieldError{Field: field, Problem: "has the wrong JSON type"})
	}

	problems := w.problems
	var invalid validator.ValidationErrors
	if err := d.validate.Struct(dst); errors.As(err, &invalid) {
		for _, fe := range invalid {
			path := "data" + fe.Namespace()[strings.IndexByte(fe.Namespace(), '.'):]
			if w.covered(path) {
				continue
			}
			problems = append(problems, FieldError{Field: path, Problem: w.message(fe, path)})
		}
	} else if err != nil {
		problems = append(problems, FieldError{Field: "data", Problem: "could not be validated: " + err.Error()})
	}
	return problems
}

// message words a validator failure the way docs/webhooks.md's 422 answers do.
func (w *walker) message(fe validator.FieldError, path string) string {
	switch fe.Tag() {
	case "required":
		return "required"
	case "gt":
		// Ids are validated as gt=0 only, so that 0 and absent can be told
		// apart: the walk knows which fields were absent or null.
		if w.absent[path] {
			return "required"
		}
		return "must be greater than " + fe.Param()
	case "min":
		if fe.Kind() == reflect.Slice && fe.Param() == "1" {
			return "must not be empty"
		}
		return "must have at least " + fe.Param() + " items"
	case "nonblank":
		if fe.Value() == "" {
			return "required"
		}
		return "must not be blank"
	case "ordernumber":
		s, _ := fe.Value().(string)
		i, r := invisible(s)
		return fmt.Sprintf("must not hold control or invisible characters (%U at byte %d): an order number is what the faktur is numbered by, and one with a hidden character would make a lookalike faktur", r, i)
	case "max":
		return "has more than " + fe.Param() + " items, the most one event takes"
	case "lte":
		return "must be at most " + fe.Param()
	case "money":
		m, _ := fe.Value().(Money)
		switch {
		case m.problem != "":
			return m.problem
		case m.Amount > money.Max:
			return problemTooLarge
		}
		return "must not be negative"
	}
	return "failed the " + fe.Tag() + " check"
}

// validMoney is the "money" validation: the value was readable, is not
// negative (Forstok's amounts never are) and is at most money.Max.
func validMoney(fl validator.FieldLevel) bool {
	v := fl.Field()
	if v.Type() != moneyType {
		return false
	}
	// Read the fields in place: Interface() would copy every Money to the heap.
	a := v.Field(moneyAmount).Int()
	return v.Field(moneyProblem).Len() == 0 && a >= 0 && a <= int64(money.Max)
}

// nonBlank is the "nonblank" validation: a string with something other than
// white space in it (a faktur number of spaces is no number).
func nonBlank(fl validator.FieldLevel) bool {
	return strings.TrimSpace(fl.Field().String()) != ""
}

// orderNumber is the "ordernumber" validation: no control (Cc) or format
// (Cf) characters, such as a zero-width space or a right-to-left mark.
// "ORD-1" and "ORD-1" with a zero-width space look the same to a person and
// would be two fakturs.
func orderNumber(fl validator.FieldLevel) bool { return visible(fl.Field().String()) }

// invisible finds the first control or format character of s: its byte
// offset and the character, or -1.
func invisible(s string) (int, rune) {
	for i, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return i, r
		}
	}
	return -1, 0
}

// Field indexes of Money, for validMoney.
var (
	moneyAmount  = fieldIndex(moneyType, "Amount")
	moneyProblem = fieldIndex(moneyType, "problem")
)

func fieldIndex(t reflect.Type, name string) int {
	f, ok := t.FieldByName(name)
	if !ok {
		panic("forstok: Money has no field " + name)
	}
	return f.Index[0]
}

func readType(raw json.RawMessage) (string, error) {
	if isAbsent(raw) {
		return "", &UnknownTypeError{}
	}
	var typ string
	if err := json.Unmarshal(raw, &typ); err != nil {
		return "", &UnknownTypeError{Type: clip(string(raw))}
	}
	if !IsType(typ) {
		return "", &UnknownTypeError{Type: clip(typ)}
	}
	return typ, nil
}

func bodySyntaxError(body []byte, err error) error {
	var syntax *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return &SyntaxError{Msg: "body is empty: it must be a JSON object"}
	case errors.As(err, &syntax):
		return &SyntaxError{Msg: fmt.Sprintf("body is not valid JSON (offset %d): %v", syntax.Offset, err)}
	}
	// Valid JSON that is not an object: an array, a string, a number.
	return &SyntaxError{Msg: "body must be a JSON object"}
}

// isAbsent reports a missing or null JSON value.
func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// clip keeps an echoed value short: it comes from the sender.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

const problemTime = "must be an RFC 3339 time"
