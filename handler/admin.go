package handler

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// listEntry is an event as the list shows it (docs/runbook.md).
type listEntry struct {
	Key            string    `json:"key"`
	Type           string    `json:"type"`
	State          string    `json:"state"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"last_error"`
	AccurateNumber string    `json:"accurate_number"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func (a *api) listEvents(c echo.Context) error {
	f := events.Filter{State: c.QueryParam("state"), Type: c.QueryParam("type"), Cursor: c.QueryParam("cursor")}
	if f.State != "" && !slices.Contains(events.States, f.State) {
		return &statusError{status: http.StatusBadRequest, msg: "state must be one of " + strings.Join(events.States, ", ")}
	}
	if f.Type != "" && !forstok.IsType(f.Type) {
		return &statusError{status: http.StatusBadRequest, msg: "type must be one of " + strings.Join(forstok.TypeNames(), ", ")}
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return &statusError{status: http.StatusBadRequest, msg: "limit must be a number from 1 to 500"}
		}
		f.Limit = n
	}
	evs, next, err := a.Store.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]listEntry, len(evs))
	for i, ev := range evs {
		out[i] = listEntry{Key: ev.Key, Type: ev.Type, State: ev.State, Attempts: ev.Attempts,
			LastError: ev.LastError, AccurateNumber: ev.AccurateNumber, UpdatedAt: ev.UpdatedAt}
	}
	var cursor any
	if next != "" {
		cursor = next
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out, "next_cursor": cursor})
}

// eventKey is the :key of an admin path, decoded: a client may escape the
// colon of "invoice.created:80001" as %3A.
func eventKey(c echo.Context) (string, error) {
	key, err := url.PathUnescape(c.Param("key"))
	if err != nil {
		return "", &statusError{status: http.StatusBadRequest, msg: "the event key in the path is not validly escaped: write it as invoice.created:70001 or invoice.created%3A70001"}
	}
	return key, nil
}

func (a *api) getEvent(c echo.Context) error {
	key, err := eventKey(c)
	if err != nil {
		return err
	}
	ev, err := a.Store.Get(c.Request().Context(), key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ev)
}

func (a *api) replayEvent(c echo.Context) error {
	key, err := eventKey(c)
	if err != nil {
		return err
	}
	c.Set(eventKeyKey, key)
	if err := a.Store.Replay(c.Request().Context(), key); err != nil {
		return err
	}
	a.logger(c).Info("event replayed", zap.String("event_key", key))
	return c.JSON(http.StatusAccepted, map[string]string{"status": "queued", "key": key})
}

// replayBody queues a webhook body an operator supplies: validated like a
// webhook (without a signature; the admin token stands for it), queued even
// if its key was seen before.
func (a *api) replayBody(c echo.Context) error {
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	ev, err := a.Decoder.Decode(body)
	if err != nil {
		return err
	}
	key := ev.Key()
	c.Set(eventKeyKey, key)
	if err := a.Store.ReplayRaw(c.Request().Context(), events.Incoming{Key: key, Type: ev.Type, Payload: body}); err != nil {
		return err
	}
	a.logger(c).Info("event replayed from a body", zap.String("event_key", key))
	return c.JSON(http.StatusAccepted, map[string]string{"status": "queued", "key": key})
}
