package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// statusClientClosedRequest is the status (nginx's) logged for a request
// whose caller went away before it was answered.
const statusClientClosedRequest = 499

// statusError is an answer the edge decided on itself (415, 413, 401 ...).
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// handleError is the one place where errors become HTTP statuses and bodies,
// in the shapes docs/webhooks.md and docs/runbook.md give.
func (a *api) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := a.describe(err)
	if status >= 500 {
		a.logger(c).Error("request failed", zap.Int("status", status), zap.Error(err))
	}
	if body == nil {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		a.logger(c).Warn("could not write the error answer", zap.Error(err))
	}
}

func (a *api) describe(err error) (int, any) {
	var (
		syntax   *forstok.SyntaxError
		unknown  *forstok.UnknownTypeError
		invalid  *forstok.ValidationError
		sig      *forstok.SignatureError
		status   *statusError
		input    *admin.InputError
		httpErr  *echo.HTTPError
		rejected = func(code int, msg string) (int, any) {
			return code, map[string]any{"status": "rejected", "error": msg}
		}
	)
	switch {
	case errors.As(err, &invalid):
		body := map[string]any{"status": "invalid", "errors": invalid.Fields}
		if invalid.More > 0 {
			body["more"] = invalid.More
			body["error"] = fmt.Sprintf("%d problems are listed and %d more were found: fix these and send the event again", len(invalid.Fields), invalid.More)
		}
		return http.StatusUnprocessableEntity, body
	case errors.As(err, &syntax), errors.As(err, &unknown):
		return rejected(http.StatusBadRequest, err.Error())
	case errors.As(err, &sig):
		return rejected(http.StatusUnauthorized, err.Error())
	case errors.As(err, &input):
		return rejected(http.StatusBadRequest, input.Error())
	case errors.As(err, &status):
		return rejected(status.status, status.msg)
	case errors.Is(err, context.Canceled):
		// The caller hung up before the store answered: not an outage, and
		// nobody reads the answer. Forstok redelivers what it did not see
		// acknowledged.
		return statusClientClosedRequest, map[string]any{"status": "cancelled",
			"error": "the request was cancelled before the event store answered; deliver it again"}
	case errors.Is(err, events.ErrUnavailable):
		return http.StatusServiceUnavailable, map[string]any{"status": "unavailable",
			"error": "the event store (Redis) cannot be reached; nothing was recorded, retry the delivery"}
	case errors.Is(err, events.ErrNotFound):
		return http.StatusNotFound, map[string]any{"status": "not_found", "error": err.Error()}
	case errors.Is(err, events.ErrBusy):
		return http.StatusConflict, map[string]any{"status": "conflict",
			"error": err.Error() + ": wait until it finishes, then replay again if needed"}
	case errors.Is(err, events.ErrVoided):
		return http.StatusConflict, map[string]any{"status": "voided", "error": err.Error()}
	case errors.Is(err, events.ErrBadCursor):
		return rejected(http.StatusBadRequest, "cursor: "+err.Error())
	case errors.As(err, &httpErr):
		msg := http.StatusText(httpErr.Code)
		if m, ok := httpErr.Message.(string); ok {
			msg = m
		}
		return httpErr.Code, map[string]any{"status": "error", "error": msg}
	}
	return http.StatusInternalServerError, map[string]any{"status": "error", "error": "internal error; the operator's log has the details"}
}
