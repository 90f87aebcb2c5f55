package handler

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/forstok"
)

// statusError is an answer the edge decided on itself (415, 413, 401 ...).
type statusError struct {
	status int
	msg    string
	// retryAfter, when set, is sent as Retry-After (seconds).
	retryAfter int
}

func (e *statusError) Error() string   { return e.msg }
func (e *statusError) HTTPStatus() int { return e.status }

// handleError writes errors as HTTP answers, in the shapes docs/webhooks.md
// and docs/runbook.md give; admin.AnswerOf, which the console uses too, is
// the one place that decides the status.
func (a *api) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := a.describe(err)
	var se *statusError
	decided := errors.As(err, &se)
	if decided && se.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(se.retryAfter))
	}
	// An answer the edge decided itself (a spent body budget) is no
	// failure to investigate: under attack it would flood the log.
	if status >= 500 && !decided {
		a.logger(c).Error("request failed", zap.Int("status", status), zap.Error(err))
	}
	if err := c.JSON(status, body); err != nil {
		a.logger(c).Warn("could not write the error answer", zap.Error(err))
	}
}

func (a *api) describe(err error) (int, any) {
	var (
		invalid *forstok.ValidationError
		httpErr *echo.HTTPError
	)
	if errors.As(err, &httpErr) {
		// The router's own answers (no route, wrong method) carry their
		// status.
		msg := http.StatusText(httpErr.Code)
		if m, ok := httpErr.Message.(string); ok {
			msg = m
		}
		if httpErr.Code == http.StatusNotFound {
			msg = "no such route: the admin API's routes are listed in docs/runbook.md"
		}
		err = &statusError{status: httpErr.Code, msg: msg}
	}
	ans := admin.AnswerOf(err)
	var refused *admin.MappingErrors
	if errors.As(err, &refused) {
		return ans.Status, map[string]any{"status": ans.Code, "error": ans.Message, "errors": refused.Problems}
	}
	if errors.As(err, &invalid) {
		body := map[string]any{"status": ans.Code, "errors": invalid.Fields}
		if invalid.More > 0 {
			body["more"] = invalid.More
			body["error"] = ans.Message
		}
		return ans.Status, body
	}
	return ans.Status, map[string]any{"status": ans.Code, "error": ans.Message}
}

// checkQuery refuses an admin request whose query string is not validly
// escaped, rather than act on what is left of it.
func checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := admin.CheckQuery(c.Request().URL.RawQuery); err != nil {
			return err
		}
		return next(c)
	}
}
