package handler

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
)

// The JSON admin API: a thin coat over admin.Service, which the console
// calls too, so the two never disagree. The admin token sees every seller.

// listEntry is an event as the list shows it (docs/runbook.md).
type listEntry struct {
	Seller         string    `json:"seller"`
	Key            string    `json:"key"`
	Type           string    `json:"type"`
	State          string    `json:"state"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"last_error"`
	AccurateNumber string    `json:"accurate_number"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// listEvents lists events, or with ?order= finds those of one marketplace
// order number.
func (a *api) listEvents(c echo.Context) error {
	ctx := c.Request().Context()
	if c.QueryParams().Has("order") {
		// A search answers every event of the order at once: a filter it
		// would not apply is refused rather than ignored.
		for _, f := range []string{"state", "type", "limit", "cursor"} {
			if c.QueryParams().Has(f) {
				return &admin.InputError{Field: f, Msg: "does not go with order: a search by order number answers all of the order's events at once",
					Problem: admin.ProblemWith, Value: "order"}
			}
		}
		evs, err := a.Admin.SearchOf(ctx, scope(c), c.QueryParam("seller"), c.QueryParam("order"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"events": entries(evs), "next_cursor": nil})
	}
	q := admin.ListQuery{Seller: c.QueryParam("seller"), State: c.QueryParam("state"), Type: c.QueryParam("type"), Cursor: c.QueryParam("cursor")}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return admin.LimitError()
		}
		q.Limit = n
	}
	// Without a seller, every seller the token sees: in a deployment of
	// several sellers, one seller's list (or the absent default's) must
	// not pass for all of them.
	list := a.Admin.List
	if q.Seller == "" {
		list = a.Admin.ListEvery
	}
	evs, next, err := list(ctx, scope(c), q)
	if err != nil {
		return err
	}
	var cursor any
	if next != "" {
		cursor = next
	}
	return c.JSON(http.StatusOK, map[string]any{"events": entries(evs), "next_cursor": cursor})
}

func entries(evs []events.Event) []listEntry {
	out := make([]listEntry, len(evs))
	for i, ev := range evs {
		out[i] = listEntry{Seller: admin.SellerOf(ev), Key: ev.Key, Type: ev.Type, State: ev.State, Attempts: ev.Attempts,
			LastError: ev.LastError, AccurateNumber: ev.AccurateNumber, UpdatedAt: ev.UpdatedAt}
	}
	return out
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
	ev, err := a.Admin.GetOf(c.Request().Context(), scope(c), c.Param("seller"), key)
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
	if seller := c.Param("seller"); seller != "" {
		c.Set(sellerKey, seller)
	}
	if err := a.Admin.ReplayOf(c.Request().Context(), scope(c), c.Param("seller"), key); err != nil {
		return err
	}
	a.logger(c).Info("event replayed", zap.String("event_key", key))
	return c.JSON(http.StatusAccepted, map[string]string{"status": "queued", "key": key})
}

// replayBody queues a webhook body an operator supplies: validated like a
// webhook (without a signature; the admin token stands for it), queued even
// if its key was seen before.
func (a *api) replayBody(c echo.Context) error {
	body, err := a.readJSONBody(c)
	if err != nil {
		return err
	}
	key, err := a.Admin.ReplayBodyOf(c.Request().Context(), scope(c), c.QueryParam("seller"), body)
	if key != "" {
		c.Set(eventKeyKey, key)
	}
	if err != nil {
		return err
	}
	a.logger(c).Info("event replayed from a body", zap.String("event_key", key))
	return c.JSON(http.StatusAccepted, map[string]string{"status": "queued", "key": key})
}

// replayFailed queues every failed event of a seller (the path's, or
// ?seller=; of every seller the token sees without either) again, after a
// fix.
func (a *api) replayFailed(c echo.Context) error {
	seller := c.QueryParam("seller")
	if p := c.Param("seller"); p != "" {
		// A seller the token may not see, or none, is not there at all.
		if !scope(c).Allows(p) || !a.Admin.Known(p) {
			return fmt.Errorf("seller %s: %w", p, events.ErrNotFound)
		}
		seller = p
		c.Set(sellerKey, p)
	}
	done, err := a.Admin.ReplayFailed(c.Request().Context(), scope(c), seller)
	if err != nil {
		return err
	}
	a.logger(c).Info("failed events replayed", zap.Int("queued", len(done.Queued)), zap.Int("busy", len(done.Busy)))
	return c.JSON(http.StatusAccepted, map[string]any{"status": "queued", "count": len(done.Queued), "queued": nonNil(done.Queued),
		"busy": nonNil(done.Busy), "more": done.More})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *api) overview(c echo.Context) error {
	o, err := a.Admin.Overview(c.Request().Context(), scope(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (a *api) sellers(c echo.Context) error {
	s, err := a.Admin.Sellers(c.Request().Context(), scope(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sellers": s})
}
