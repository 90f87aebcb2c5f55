package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

type edgeRefusal struct{}

func (edgeRefusal) Error() string   { return "the body is larger than 1 MiB" }
func (edgeRefusal) HTTPStatus() int { return http.StatusRequestEntityTooLarge }

func TestAnswerOfIsTheOneMapFromErrorsToStatuses(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"a field a caller got wrong is 400", &admin.InputError{Field: "limit", Msg: "must be a number"}, 400, admin.CodeRejected},
		{"a cursor the service did not make is 400", fmt.Errorf("list: %w", events.ErrBadCursor), 400, admin.CodeRejected},
		{"a body that is no JSON is 400", &forstok.SyntaxError{Msg: "not JSON"}, 400, admin.CodeRejected},
		{"an event type the service does not take is 400", &forstok.UnknownTypeError{Type: "order.shipped"}, 400, admin.CodeRejected},
		{"an event that fails validation is 422", &forstok.ValidationError{}, 422, admin.CodeInvalid},
		{"a bad signature is 401", &forstok.SignatureError{Reason: "no matching signature"}, 401, admin.CodeRejected},
		{"a refusal the edge decided carries its own status", fmt.Errorf("read body: %w", edgeRefusal{}), 413, admin.CodeRejected},
		{"an unknown event is 404", fmt.Errorf("k: %w", events.ErrNotFound), 404, admin.CodeNotFound},
		{"an event a worker holds is 409", fmt.Errorf("k: %w", events.ErrBusy), 409, admin.CodeConflict},
		{"a voided event is 409 voided", fmt.Errorf("k: %w", events.ErrVoided), 409, admin.CodeVoided},
		{"Redis out of reach is 503", fmt.Errorf("k: %w: %w", events.ErrUnavailable, errors.New("dial tcp: refused")), 503, admin.CodeUnavailable},
		{"a caller that hung up is 499, not an outage", fmt.Errorf("k: %w: %w", events.ErrUnavailable, context.Canceled), 499, admin.CodeCancelled},
		{"anything else is 500 without its details", errors.New("template: boom"), 500, admin.CodeInternal},
		{"a seller's Accurate that refuses to list is 502", &admin.AccurateError{Err: &accurate.Error{Class: accurate.ClassAuth, Status: 401}}, 502, admin.CodeUnavailable},
		{"a seller's Accurate that does not answer a list is 502", &admin.AccurateError{Err: &accurate.Error{Class: accurate.ClassTransient}}, 502, admin.CodeUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := admin.AnswerOf(tc.err)
			if a.Status != tc.status || a.Code != tc.code || a.Message == "" {
				t.Errorf("AnswerOf(%v) = %+v; want %d %s with a message", tc.err, a, tc.status, tc.code)
			}
		})
	}
	t.Run("a list refused for the credentials says to correct them, not to wait a minute", func(t *testing.T) {
		msg := admin.AnswerOf(&admin.AccurateError{Err: &accurate.Error{Class: accurate.ClassAuth, Status: 401}}).Message
		if !strings.Contains(msg, "refused its credentials") || strings.Contains(msg, "did not answer") || strings.Contains(msg, "a minute") {
			t.Errorf("message %q; want it to name the refused credentials", msg)
		}
	})
}
