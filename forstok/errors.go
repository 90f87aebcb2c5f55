package forstok

import (
	"strconv"
	"strings"
)

// SyntaxError means the body is not a JSON object of the webhook's shape
// (not JSON at all, or data is not an object). The HTTP edge answers 400.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return e.Msg }

// UnknownTypeError means the envelope's type is missing or not one the
// service accepts. The HTTP edge answers 400.
type UnknownTypeError struct {
	Type string // as sent, "" when missing
}

func (e *UnknownTypeError) Error() string {
	accepted := "accepted types are " + strings.Join(TypeNames(), ", ")
	if e.Type == "" {
		return "missing event type; " + accepted
	}
	return "unknown event type " + strconv.Quote(e.Type) + "; " + accepted
}

// ValidationError lists the schema and value problems of a payload at once:
// the first maxListed of them in Fields, and how many more were found in
// More. The HTTP edge answers 422 with Fields as the errors list.
type ValidationError struct {
	Fields []FieldError
	More   int
}

// maxListed bounds the problems a ValidationError lists, so that a body of a
// hundred thousand bad lines gets an answer of a few kilobytes.
const maxListed = 100

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	msg := "invalid payload: " + strings.Join(parts, "; ")
	if e.More > 0 {
		msg += "; and " + strconv.Itoa(e.More) + " more"
	}
	return msg
}

// newValidationError lists the first maxListed problems and counts the rest.
func newValidationError(problems []FieldError, more int) *ValidationError {
	if len(problems) > maxListed {
		more += len(problems) - maxListed
		problems = problems[:maxListed:maxListed]
	}
	return &ValidationError{Fields: problems, More: more}
}

// FieldError is one problem at one JSON path, e.g.
// {"field":"data.order.item_lines[0].sku","error":"required"}.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"error"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Problem }

// SignatureError means a delivery is not authentic or not fresh. The HTTP
// edge answers 401. Reason never contains a secret.
type SignatureError struct{ Reason string }

func (e *SignatureError) Error() string { return "webhook signature rejected: " + e.Reason }

// SecretError means one of the configured webhook secrets is malformed.
// Position counts from 1 in the space-separated list; the secret itself is
// never repeated.
type SecretError struct {
	Position int
	Reason   string
}

func (e *SecretError) Error() string {
	return "webhook secret " + strconv.Itoa(e.Position) + ": " + e.Reason
}
