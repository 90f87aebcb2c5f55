package accurate

import (
	"errors"
	"fmt"
	"strings"
)

// Class says what kind of failure an Accurate call met, so that callers can
// choose between "already done", "fix the data" and "try again later".
type Class string

const (
	// ClassNone is the class of a nil error.
	ClassNone Class = ""
	// ClassDuplicate: the number already exists ("Sudah ada data lain dengan
	// No ..."); for a save this means the document is already there.
	ClassDuplicate Class = "duplicate"
	// ClassNotFound: a customer, item, account or document the request names
	// does not exist ("... tidak ditemukan atau sudah dihapus").
	ClassNotFound Class = "not_found"
	// ClassValidation: any other refusal of the data ("s": false).
	ClassValidation Class = "validation"
	// ClassRateLimited: Accurate's per-database limit ("request per detik",
	// HTTP 429). Transient.
	ClassRateLimited Class = "rate_limited"
	// ClassAuth: HTTP 401 or 403, a bad, revoked or under-scoped token or a
	// bad signature.
	ClassAuth Class = "auth"
	// ClassTransient: 5xx, timeouts, connection errors, unreadable answers.
	ClassTransient Class = "transient"
)

// Messages Accurate answers with, as Forstok's own worker recognises them.
const (
	msgDuplicate = "sudah ada data lain dengan no"
	// Accurate words it "... tidak ditemukan atau sudah dihapus" mostly, and
	// "... tidak ditemukan" alone on some endpoints: the shorter text covers
	// both.
	msgNotFound    = "tidak ditemukan"
	msgRateLimited = "request per detik"
)

// Error is every failure the client returns.
type Error struct {
	Class    Class
	Endpoint string   // e.g. "sales-invoice/save"
	Status   int      // HTTP status, 0 when no answer came
	Messages []string // Accurate's own words, when it gave any
	// Ambiguous is set when the request was sent but no definite answer came
	// back (timeout after sending, connection lost, 5xx): a save may have
	// happened, so look the number up before saving again.
	Ambiguous bool
	Err       error // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("accurate ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	b.WriteString(string(e.Class))
	if e.Status != 0 && e.Status != 200 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	switch {
	case len(e.Messages) > 0:
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Ambiguous {
		b.WriteString(" (the request may have reached Accurate)")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf is err's class: ClassNone for nil, the Error's class when err wraps
// one, and ClassTransient for anything else (an unknown failure is worth
// another try).
func ClassOf(err error) Class {
	if err == nil {
		return ClassNone
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassTransient
}

// IsNotFound reports whether Accurate said a document, or something a
// request names, does not exist: the one test of "not found" the service
// uses.
func IsNotFound(err error) bool { return ClassOf(err) == ClassNotFound }

// IsDuplicate reports whether Accurate said the number is already taken.
func IsDuplicate(err error) bool { return ClassOf(err) == ClassDuplicate }

// IsAuth reports whether Accurate refused the API token or the signature.
func IsAuth(err error) bool { return ClassOf(err) == ClassAuth }

// IsAmbiguous reports whether err says the request may have been carried
// out although no answer told so.
func IsAmbiguous(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Ambiguous
}

// classifyMessages picks the class of an "s": false answer from its text.
func classifyMessages(msgs []string) Class {
	text := strings.ToLower(strings.Join(msgs, "\n"))
	switch {
	case strings.Contains(text, msgDuplicate):
		return ClassDuplicate
	case strings.Contains(text, msgNotFound):
		return ClassNotFound
	case strings.Contains(text, msgRateLimited):
		return ClassRateLimited
	default:
		return ClassValidation
	}
}
