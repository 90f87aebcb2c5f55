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

// ValidationError lists every schema and value problem of a payload at once.
// The HTTP edge answers 422 with Fields as the errors list.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return "invalid payload: " + strings.Join(parts, "; ")
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
