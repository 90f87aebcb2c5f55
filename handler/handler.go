// Package handler is the service's HTTP edge: the Forstok webhook intake,
// the operators' admin API, health probes and metrics. Intake only verifies,
// validates and queues; it never calls Accurate, so a slow Accurate cannot
// slow a webhook.
package handler

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/console"
	"forstok-accurate-sync/edge"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/defaults"
)

// Store is what the edge needs of the event store: intake's and the
// probes' calls, and those of the admin operations it serves.
type Store interface {
	admin.Store
	Accept(ctx context.Context, in events.Incoming) (events.Outcome, error)
	Ping(ctx context.Context) error
}

// Metrics receives what the edge counts; nil counts nothing.
type Metrics interface {
	Webhook(seller, eventType, outcome string)
}

// Intake is what a webhook needs of its seller: the verifier of its
// secrets and its part of the event store.
type Intake struct {
	Verifier *forstok.Verifier
	Store    interface {
		Accept(ctx context.Context, in events.Incoming) (events.Outcome, error)
	}
}

// DefaultSeller is the seller of POST /webhooks/forstok.
const DefaultSeller = events.DefaultSeller

// Config is everything the HTTP edge is built from.
type Config struct {
	Store    Store
	Verifier *forstok.Verifier
	// Seller finds the intake of a seller configured now, for
	// POST /webhooks/forstok/<seller>; nil serves the default seller alone,
	// with Verifier and Store.
	Seller  func(id string) (Intake, bool)
	Decoder *forstok.Decoder
	Logger  *zap.Logger
	// AdminToken guards /admin and /console; empty turns both off (404).
	AdminToken string
	// SellerToken finds the seller whose own admin token this is: it sees
	// that seller only. Nil: only AdminToken opens /admin.
	SellerToken func(token string) (seller string, ok bool)
	// StoreFor is one seller's part of the store for the admin operations;
	// nil knows the default seller's only (Store).
	StoreFor func(seller string) admin.Store
	// Queue is every seller's queue (events.Namespace.Queue), whose depth the
	// admin token's overview shows; nil: it shows the events waiting.
	Queue admin.Queue
	// PreviewFor is what the mapping previews read of one seller.
	PreviewFor admin.PreviewFor
	// Sellers describes the sellers for the admin operations; nil is the
	// one default seller.
	Sellers func() []admin.Seller
	// Ready reports extra readiness conditions (Accurate accepts the
	// credentials); its error is /readyz's reason. Nil means none beyond
	// Redis.
	Ready func(ctx context.Context) error
	// Warnings are what /readyz reports without being unready: a seller
	// whose credentials Accurate refuses must not take the others' webhooks
	// down with it. /readyz counts them and never prints their words.
	Warnings func() []string
	// MetricsHandler serves /metrics when set.
	MetricsHandler http.Handler
	Metrics        Metrics
	Now            func() time.Time
	// Reconciler makes the sellers' reconciliation reports; nil has none.
	Reconciler admin.Reconciler
	// DailyRuns are the kept daily reconciliations the overview shows;
	// nil shows none.
	DailyRuns admin.DailyRuns
	// Guard counts failed authentications (and keeps ended console
	// sessions) for every replica; nil limits nothing.
	Guard Guard
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client; from anyone else the connection's address is the client.
	TrustedProxies []netip.Prefix
	// SellerTokens lists the sellers' own admin tokens (token → seller),
	// for console sessions to end when their token changes; nil: none.
	SellerTokens func() map[string]string
	// BodyBudget bounds the bytes of request bodies read at once across
	// the process; nil is a budget of edge.DefaultBodyBudget.
	BodyBudget *edge.Budget
	// MinBodyRate (bytes a second) and BodyGrace bound how slowly a body
	// may arrive; zero is edge.MinBodyRate and edge.BodyGrace.
	MinBodyRate int64
	BodyGrace   time.Duration
	// Mappings and Accurate serve the sellers' Accurate settings (their
	// mapping versions, choices from their Accurate); nil turns those
	// routes into a 404.
	Mappings admin.Mappings
	Accurate admin.SellerAccurate
}

// MaxBodyBytes is the largest webhook body accepted: 1 MiB.
const MaxBodyBytes = 1 << 20

// Guard is what the edge needs of the store of failed authentications and
// ended sessions (guard.Guard).
type Guard interface {
	Blocked(ctx context.Context, addr string) (time.Duration, error)
	Failed(ctx context.Context, addr string) error
	console.Revocations
}

type api struct {
	Config
	Admin *admin.Service
}

// New builds the service's HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	cfg.Now = defaults.Clock(cfg.Now)
	if cfg.BodyBudget == nil {
		cfg.BodyBudget = edge.NewBudget(0)
	}
	defaults.Positive(&cfg.MinBodyRate, edge.MinBodyRate)
	defaults.Positive(&cfg.BodyGrace, edge.BodyGrace)
	if cfg.Decoder == nil {
		cfg.Decoder = forstok.NewDecoder()
	}
	if cfg.Seller == nil {
		only := Intake{Verifier: cfg.Verifier, Store: cfg.Store}
		cfg.Seller = func(id string) (Intake, bool) { return only, id == DefaultSeller }
	}
	a := &api{Config: cfg, Admin: admin.New(admin.Config{Store: cfg.Store, StoreFor: cfg.StoreFor, Queue: cfg.Queue, PreviewFor: cfg.PreviewFor, Decoder: cfg.Decoder, Sellers: cfg.Sellers, Now: cfg.Now,
		Reconciler: cfg.Reconciler, DailyRuns: cfg.DailyRuns, Mappings: cfg.Mappings, Accurate: cfg.Accurate})}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	e.Use(boundRequestID)
	e.Use(middleware.RequestID())
	e.Use(a.logRequests)
	e.Use(middleware.Recover())

	e.POST("/webhooks/forstok", a.webhook)
	e.POST("/webhooks/forstok/:seller", a.webhook)
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.ready)
	if cfg.MetricsHandler != nil {
		e.GET("/metrics", echo.WrapHandler(cfg.MetricsHandler))
	}
	adminAPI := e.Group("/admin", a.adminAuth, checkQuery)
	adminAPI.GET("/events", a.listEvents)
	adminAPI.GET("/events/:key", a.getEvent)
	adminAPI.POST("/events/:key/replay", a.replayEvent)
	adminAPI.POST("/replay", a.replayBody)
	adminAPI.POST("/replay-failed", a.replayFailed)
	adminAPI.GET("/overview", a.overview)
	adminAPI.GET("/sellers", a.sellers)
	adminAPI.GET("/sellers/:seller/events/:key", a.getEvent)
	adminAPI.POST("/sellers/:seller/events/:key/replay", a.replayEvent)
	adminAPI.POST("/sellers/:seller/replay-failed", a.replayFailed)
	adminAPI.GET("/sellers/:seller/reconciliation", a.reconciliation)
	adminAPI.GET("/sellers/:seller/mapping", a.getMapping)
	adminAPI.PUT("/sellers/:seller/mapping", a.putMapping)
	adminAPI.GET("/sellers/:seller/mapping/versions", a.mappingVersions)
	adminAPI.POST("/sellers/:seller/mapping/versions/:version/restore", a.restoreMapping)
	adminAPI.POST("/sellers/:seller/mapping/preview", a.previewMapping)
	adminAPI.GET("/sellers/:seller/accurate/:list", a.accurateChoices)
	// Unknown admin paths go through the same guard, so that with no token
	// every /admin route is a 404 and with one an unauthenticated caller
	// learns nothing.
	adminAPI.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })
	// The console is on the admin token too: without one it is not there.
	if cfg.AdminToken != "" {
		var revocations console.Revocations
		if cfg.Guard != nil {
			revocations = cfg.Guard
		}
		pages := echo.WrapHandler(console.New(console.Config{
			Admin:       a.Admin,
			SignIn:      a.signIn,
			Revocations: revocations,
			TokenLive:   a.tokenLive,
			SessionKey:  console.SessionKey(cfg.AdminToken),
			Decoder:     cfg.Decoder,
			Logger:      cfg.Logger.Named("console"),
			Now:         cfg.Now,
		}))
		e.Any("/console", pages)
		e.Any("/console/*", pages)
	}
	return e
}

func (a *api) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	// /readyz faces the internet: it says which dependency is down, and the
	// words of Ready (which name settings, never their values), but never a
	// seller, a file or a path: the admin API and the console name those.
	if err := a.Store.Ping(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "down": "redis", "error": "redis does not answer"})
	}
	if a.Ready != nil {
		if err := a.Ready(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "down": "accurate", "error": err.Error()})
		}
	}
	if a.Warnings != nil {
		if w := a.Warnings(); len(w) > 0 {
			return c.JSON(http.StatusOK, map[string]any{"status": "ready", "degraded": "accurate", "warnings": []string{
				fmt.Sprintf("Accurate refuses the credentials of %d seller(s); the others go on: GET /admin/sellers or the console's sellers page names them and what to fix", len(w))}})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// adminAuth hides /admin entirely without a configured token and otherwise
// asks for it as a bearer token, compared in constant time.
func (a *api) adminAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.AdminToken == "" {
			return echo.ErrNotFound
		}
		got, bearer := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !bearer {
			got = ""
		}
		scope, wait, known := a.check(c.Request(), got, "admin API")
		if wait > 0 {
			return &statusError{status: http.StatusTooManyRequests, retryAfter: int((wait + time.Second - 1) / time.Second),
				msg: "too many failed authentications from this address: wait for Retry-After seconds, then send the right token"}
		}
		if !known {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="admin"`)
			return &statusError{status: http.StatusUnauthorized, msg: "missing or wrong admin token: send Authorization: Bearer <ADMIN_TOKEN> (or a seller's own admin token)"}
		}
		c.Set(scopeKey, scope)
		return next(c)
	}
}

// scope is the request's admin scope, set by adminAuth.
func scope(c echo.Context) admin.Scope {
	s, _ := c.Get(scopeKey).(admin.Scope)
	return s
}

// logRequests writes one line per request, with its request id; the lines
// of the webhook handler add the event key. Below info level it costs
// nothing: the line is only built when it will be written.
func (a *api) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := a.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || req.URL.Path == "/metrics" {
			return nil
		}
		line := a.Logger.Check(zap.InfoLevel, "request")
		if line == nil {
			return nil
		}
		fields := []zap.Field{
			requestID(c),
			zap.String("method", req.Method),
			zap.String("path", edge.Cut(req.URL.Path)),
			zap.Int("status", c.Response().Status),
			zap.Duration("took", a.Now().Sub(start)),
		}
		if seller, ok := c.Get(sellerKey).(string); ok {
			fields = append(fields, zap.String("seller", seller))
		}
		if key, ok := c.Get(eventKeyKey).(string); ok {
			fields = append(fields, zap.String("event_key", key))
		}
		line.Write(fields...)
		return nil
	}
}

const (
	eventKeyKey = "event_key"
	sellerKey   = "seller"
	scopeKey    = "admin_scope"
)

// logger is the request's logger, carrying its request id. It is made on
// demand: only warnings and errors, and admin actions, need one.
func (a *api) logger(c echo.Context) *zap.Logger {
	if seller, ok := c.Get(sellerKey).(string); ok {
		return a.Logger.With(requestID(c), zap.String("seller", seller))
	}
	return a.Logger.With(requestID(c))
}

func requestID(c echo.Context) zap.Field {
	return zap.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}

// maxRequestIDBytes bounds a client's X-Request-ID: it is written on every
// log line of its request.
const maxRequestIDBytes = 128

// boundRequestID drops a client's X-Request-ID that is longer than
// maxRequestIDBytes or holds anything but printable ASCII, so that the
// request gets a fresh id instead: a request id is for finding log lines,
// not for carrying a megabyte or a forged line break into them.
func boundRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !printableID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func printableID(id string) bool {
	if len(id) > maxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
