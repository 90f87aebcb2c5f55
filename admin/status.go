package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// Answer is how an error is answered over HTTP: the one map from the
// service's errors to statuses, used by the JSON API and the console alike
// (after pkgsite's derrors.ToStatus).
type Answer struct {
	Status int
	// Code names the kind of problem: the "status" field of a JSON error
	// body ("rejected", "invalid", "not_found", "conflict", "voided",
	// "unavailable", "cancelled", "error").
	Code string
	// Message says what was wrong and what to do; for an internal error,
	// only where the details are.
	Message string
}

// Codes of Answer.
const (
	CodeRejected    = "rejected"
	CodeInvalid     = "invalid"
	CodeNotFound    = "not_found"
	CodeConflict    = "conflict"
	CodeVoided      = "voided"
	CodeUnavailable = "unavailable"
	CodeCancelled   = "cancelled"
	CodeInternal    = "error"
)

// StatusClientClosedRequest is the status (nginx's) of a request whose
// caller went away before it was answered.
const StatusClientClosedRequest = 499

// HTTPStatuser is an error that carries its own status: a refusal the HTTP
// edge decided on itself (415, 413, 401, 429 ...).
type HTTPStatuser interface {
	error
	HTTPStatus() int
}

// AnswerOf maps err to its answer. Anything it does not know is a 500.
func AnswerOf(err error) Answer {
	var (
		syntax  *forstok.SyntaxError
		unknown *forstok.UnknownTypeError
		invalid *forstok.ValidationError
		sig     *forstok.SignatureError
		input   *InputError
		own     HTTPStatuser
		refused *MappingErrors
		stale   *StaleError
		acc     *AccurateError
	)
	switch {
	case err == nil:
		return Answer{Status: http.StatusOK}
	case errors.As(err, &invalid):
		msg := "fix the fields listed and send the event again"
		if invalid.More > 0 {
			msg = fmt.Sprintf("%d problems are listed and %d more were found: fix these and send the event again", len(invalid.Fields), invalid.More)
		}
		return Answer{http.StatusUnprocessableEntity, CodeInvalid, msg}
	case errors.As(err, &refused):
		return Answer{http.StatusUnprocessableEntity, CodeInvalid, "nothing was saved: fix each path listed and save again"}
	case errors.As(err, &stale):
		return Answer{http.StatusPreconditionFailed, CodeConflict, stale.Error()}
	case errors.As(err, &acc):
		return Answer{http.StatusBadGateway, CodeUnavailable, acc.Error()}
	case errors.Is(err, ErrNoSettings):
		return Answer{http.StatusNotFound, CodeNotFound, err.Error()}
	case errors.As(err, &syntax), errors.As(err, &unknown), errors.As(err, &input):
		return Answer{http.StatusBadRequest, CodeRejected, err.Error()}
	case errors.Is(err, events.ErrBadCursor):
		return Answer{http.StatusBadRequest, CodeRejected, "cursor: " + events.ErrBadCursor.Error() + "; start again without it"}
	case errors.As(err, &sig):
		return Answer{http.StatusUnauthorized, CodeRejected, err.Error()}
	case errors.As(err, &own):
		code := CodeRejected
		switch own.HTTPStatus() {
		case http.StatusNotFound:
			code = CodeNotFound
		case http.StatusServiceUnavailable:
			code = CodeUnavailable
		}
		return Answer{own.HTTPStatus(), code, own.Error()}
	case errors.Is(err, context.Canceled):
		// The caller hung up before the store answered: not an outage,
		// and nobody reads the answer.
		return Answer{StatusClientClosedRequest, CodeCancelled,
			"the request was cancelled before the event store answered; send it again"}
	case errors.Is(err, events.ErrUnavailable):
		return Answer{http.StatusServiceUnavailable, CodeUnavailable,
			"the event store (Redis) cannot be reached; nothing was recorded, retry the delivery"}
	case errors.Is(err, events.ErrNotFound):
		return Answer{http.StatusNotFound, CodeNotFound, err.Error()}
	case errors.Is(err, events.ErrBusy):
		return Answer{http.StatusConflict, CodeConflict, err.Error() + ": wait until it finishes, then replay again if needed"}
	case errors.Is(err, events.ErrVoided):
		return Answer{http.StatusConflict, CodeVoided, err.Error()}
	}
	return Answer{http.StatusInternalServerError, CodeInternal, "internal error; the operator's log has the details"}
}

// CheckQuery refuses a query string that is not validly escaped: Go's
// parser would drop the broken pair silently, and a filter or cursor the
// caller sent would be ignored without a word.
func CheckQuery(raw string) error {
	if _, err := url.ParseQuery(raw); err != nil {
		return &InputError{Field: "query string", Msg: "is not validly escaped (" + err.Error() + "): escape each value with %XX", Problem: ProblemEscape}
	}
	return nil
}
