package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/edge"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/fleet"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/guard"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/orders"
	"forstok-accurate-sync/outage"
	"forstok-accurate-sync/queue"
	"forstok-accurate-sync/reconcile"
	"forstok-accurate-sync/sellers"
	"forstok-accurate-sync/worker"
)

// app is the service assembled: the HTTP handler and the workers over one
// Redis, for every seller.
type app struct {
	cfg      config
	log      *zap.Logger
	rdb      redis.UniversalClient
	events   *events.Namespace
	handler  http.Handler
	workers  *asynq.Server
	router   *worker.Router
	fleet    *fleet.Fleet
	mappings *sellers.Mappings
	opts     options
	daily    *reconcile.Daily
	sellers  *sellers.Registry
	hup      <-chan os.Signal
	// redisDown follows Redis: an outage is one line naming its address,
	// then a summary at most every 30 s, however many loops meet it.
	redisDown *outage.Watch
	// private, when set (ADMIN_LISTEN_ADDR), serves /admin, /console and
	// /metrics, which the public listener then answers 404.
	private net.Listener
}

// options lets tests and the demo replace what a deployment reads from the
// environment.
type options struct {
	logger   *zap.Logger
	redis    redis.UniversalClient
	retryMin time.Duration // shorter backoff for tests and the demo
	// retryCap bounds the backoff (zero keeps the worker's 10 minutes): a
	// test that shortens retryMin must shorten it too, or an event that
	// failed a dozen times waits minutes, past any test's deadline.
	retryCap time.Duration
	// poll is how often asynq looks for due retries and new tasks; zero
	// keeps asynq's 5 s for retries and idleTaskCheck for new tasks;
	// tests and the demo go faster.
	poll time.Duration
	// probe is how often a seller's Accurate, marked down by a worker, is
	// asked whether it answers again; zero is worker.DefaultProbeEvery.
	probe time.Duration
	// getenv resolves the secrets seller files name; nil reads nothing.
	getenv func(string) string
	// hup reloads SELLERS_DIR (SIGHUP); nil never does.
	hup <-chan os.Signal
	// sellersDebounce is how long the watch of SELLERS_DIR waits for a
	// burst of changes to end; zero is a second.
	sellersDebounce time.Duration
	// routeRedisLogs points go-redis's process-wide logger at the
	// service's log (serve does; tests leave the global alone).
	routeRedisLogs bool
}

func newLogger(level zapcore.Level, w io.Writer) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(w), level)
	return zap.New(core)
}

func newRedis(cfg config) (redis.UniversalClient, error) {
	switch {
	case len(cfg.RedisClusterAddrs) > 0:
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.RedisClusterAddrs, Password: cfg.RedisPassword}), nil
	case len(cfg.RedisSentinelAddrs) > 0:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: cfg.RedisSentinelMaster, SentinelAddrs: cfg.RedisSentinelAddrs, Password: cfg.RedisPassword,
		}), nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		// The URL may hold a password: name the setting, not the value.
		return nil, errors.New("REDIS_URL is malformed: want redis://[user:password@]host:port/db (rediss:// for TLS)")
	}
	if cfg.RedisPassword != "" && opt.Password == "" {
		opt.Password = cfg.RedisPassword
	}
	return redis.NewClient(opt), nil
}

// newApp builds the service from its configuration: the sellers of
// SELLERS_DIR, or the one seller "default" of the environment.
func newApp(cfg config, opts options) (*app, error) {
	base := opts.logger
	if base == nil {
		base = zap.NewNop()
	}
	var err error
	rdb := opts.redis
	if rdb == nil {
		if rdb, err = newRedis(cfg); err != nil {
			return nil, err
		}
	}
	shown, addrs := redisAddress(cfg, rdb)
	redisDown := outage.New(outage.Config{Logger: base.Named("redis"), Name: "Redis", Addr: shown})
	log := base.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return redisDown.Divert(c, aboutRedis(redisDown, addrs), "event_key")
	}))
	if opts.routeRedisLogs {
		routeRedisLogs(log)
	}
	reg, err := openSellers(cfg, opts, log)
	if err != nil {
		return nil, err
	}
	evs := events.New(rdb, events.Config{Namespace: cfg.RedisNamespace, Shards: cfg.RedisShards, Retention: cfg.EventRetention,
		HoldTimeout: cfg.EventHoldTimeout, Share: cfg.SellerShare, BodyInTask: cfg.BodyInTask, Logger: log.Named("events")})
	decoder := forstok.NewDecoder()
	// Mapping versions (the file's and the console's) live in Redis; every
	// replica takes the newest at start and within seconds of a save.
	// Under the default seller's shard: where a migration to shards moved
	// them with the rest of the one-shard layout's keys.
	maps := sellers.NewMappings(rdb, evs.Queue().Layout().SellerQueue(events.DefaultSeller), log.Named("mappings"))
	reg.UseMappings(maps)
	f := fleet.New(fleet.Config{Sellers: reg, Events: evs, Redis: rdb, Namespace: cfg.RedisNamespace, Mappings: maps,
		Decoder: decoder, Logger: log, InvoiceWait: cfg.PaymentInvoiceWait, MaxAttempts: cfg.MaxAttempts,
		RetryBase: opts.retryMin, RetryCap: opts.retryCap, Probe: opts.probe})
	meter := f.Meter()
	if reg.Dir() == "" {
		if _, ok := f.Part(sellers.DefaultID); !ok {
			return nil, errors.New("accurate client: ACCURATE_HOST or ACCURATE_ACCOUNT_URL is not usable")
		}
	}
	absent := opts.retryCap
	if absent <= 0 {
		absent = time.Minute
	}
	router := &worker.Router{Worker: f.Worker, Absent: absent, RetryBase: opts.retryMin, RetryCap: opts.retryCap, Logger: log.Named("worker")}
	workers := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:     cfg.WorkerConcurrency,
		Queues:          evs.Queue().Queues(),
		RetryDelayFunc:  router.RetryDelay,
		IsFailure:       router.IsFailure,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          log.Named("asynq").Sugar(),
		LogLevel:        asynq.WarnLevel,
		// asynq treats zero as its default.
		DelayedTaskCheckInterval: opts.poll,
		TaskCheckInterval:        taskCheck(opts.poll),
	})
	recs := reconciliations{fleet: f, events: evs, reg: reg, reconciler: reconcile.New(reconcile.Config{})}
	daily := reconcile.NewDaily(reconcile.DailyConfig{Redis: rdb, Namespace: cfg.RedisNamespace, At: cfg.ReconcileAt,
		Sellers: f.Zones, Reconciles: recs, Logger: log.Named("reconcile")})
	meter.Reconciliations(daily)
	h := handler.New(handler.Config{
		Ready:       f.Ready,
		Warnings:    f.Warnings,
		Store:       evs.Seller(events.DefaultSeller),
		Queue:       evs.Queue(),
		Seller:      f.Intake,
		Decoder:     decoder,
		Logger:      log.Named("http"),
		AdminToken:  cfg.AdminToken,
		SellerToken: reg.ByAdminToken,
		StoreFor:    func(id string) admin.Store { return evs.Seller(id) },
		PreviewFor: func(id string) (worker.Store, worker.Orders) {
			st := evs.Seller(id)
			return st, orders.For(rdb, st)
		},
		Sellers:        func() []admin.Seller { return adminSellers(reg, f.Refused) },
		Metrics:        meter,
		MetricsHandler: meter.Handler(),
		Reconciler:     recs,
		DailyRuns:      daily,
		BodyBudget:     edge.NewBudget(int64(cfg.MaxBodyInFlight)),
		Guard:          guard.New(rdb, cfg.RedisNamespace),
		TrustedProxies: cfg.TrustedProxies,
		SellerTokens:   reg.AdminTokens,
		Mappings:       maps,
		Accurate:       settingsReads{f},
	})
	return &app{cfg: cfg, log: log, rdb: rdb, events: evs, handler: h, workers: workers, router: router,
		fleet: f, mappings: maps, opts: opts, daily: daily, sellers: reg, hup: opts.hup, redisDown: redisDown}, nil
}

// redisAddress is how the log names the Redis of cfg (never with its
// password), and the addresses its errors mention.
func redisAddress(cfg config, rdb redis.UniversalClient) (shown string, addrs []string) {
	switch {
	case len(cfg.RedisClusterAddrs) > 0:
		return "cluster " + strings.Join(cfg.RedisClusterAddrs, ","), cfg.RedisClusterAddrs
	case len(cfg.RedisSentinelAddrs) > 0:
		return "master " + cfg.RedisSentinelMaster + " of Sentinel " + strings.Join(cfg.RedisSentinelAddrs, ","), cfg.RedisSentinelAddrs
	}
	if c, ok := rdb.(*redis.Client); ok {
		return c.Options().Addr, []string{c.Options().Addr}
	}
	return "REDIS_URL", nil
}

// aboutRedis tells the lines that only say Redis is down: an event store
// that is unavailable, an error naming Redis's address, and go-redis's and
// asynq's own complaints while Redis is known to be down.
func aboutRedis(w *outage.Watch, addrs []string) outage.About {
	return func(ent zapcore.Entry, err error) bool {
		if ent.LoggerName == "asynq" && strings.Contains(ent.Message, "syncing") {
			// asynq's retries of one task's end ("... Will retry
			// syncing") are a line a task, kept like the worker's own
			// lines about an event.
			return false
		}
		text := ent.Message
		if err != nil {
			if errors.Is(err, events.ErrUnavailable) || w.IsDown() && errors.Is(err, context.DeadlineExceeded) {
				return true
			}
			text += " " + err.Error()
		}
		for _, a := range addrs {
			if strings.Contains(text, a) {
				return true
			}
		}
		return w.IsDown() && (ent.LoggerName == "redis" || ent.LoggerName == "asynq")
	}
}

// openSellers reads SELLERS_DIR, or makes the environment's one seller.
func openSellers(cfg config, opts options, log *zap.Logger) (*sellers.Registry, error) {
	if cfg.SellersDir != "" {
		getenv := opts.getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		reg, err := sellers.Open(sellers.Config{Dir: cfg.SellersDir, Getenv: getenv, Defaults: sellerDefaults(cfg), Logger: log.Named("sellers"), AdminToken: cfg.AdminToken})
		if err != nil {
			return nil, err
		}
		for _, st := range reg.Status() {
			if len(st.Problems) > 0 {
				log.Warn("seller file is invalid", zap.String("seller", st.ID), zap.Bool("active", st.Active), zap.String("problems", st.Problems.Error()))
			}
		}
		return reg, nil
	}
	settings, err := mapping.Load(cfg.MappingFile)
	if err != nil {
		return nil, fmt.Errorf("MAPPING_FILE %s: %w", cfg.MappingFile, err)
	}
	mappingYAML, err := os.ReadFile(cfg.MappingFile)
	if err != nil {
		return nil, fmt.Errorf("MAPPING_FILE %s: %w", cfg.MappingFile, err)
	}
	verifier, err := forstok.NewVerifier(cfg.WebhookSecrets, forstok.DefaultTolerance)
	if err != nil {
		return nil, fmt.Errorf("FORSTOK_WEBHOOK_SECRET: %w", err)
	}
	if _, err := accurate.New(accurate.Config{AccountURL: cfg.AccurateAccountURL, Host: cfg.AccurateHost,
		APIToken: cfg.AccurateAPIToken, SignatureSecret: cfg.AccurateSignature}); err != nil {
		return nil, fmt.Errorf("accurate client: %w", err)
	}
	return sellers.Fixed(&sellers.Seller{ID: sellers.DefaultID, Name: sellers.DefaultID, Verifier: verifier,
		Accurate: defaultAccurate(cfg), Mapping: settings, MappingYAML: mappingYAML, Version: "environment", LoadedAt: time.Now().UTC()}), nil
}

// adminSellers describes the sellers for the admin operations: every one
// configured or with a file that has problems, and those whose credentials
// Accurate refuses (refused says so, in words naming where they are set).
func adminSellers(reg *sellers.Registry, refused func(id string) string) []admin.Seller {
	var out []admin.Seller
	for _, st := range reg.Status() {
		sl := admin.Seller{ID: st.ID, Name: st.Name, Location: time.UTC, Timezone: "UTC"}
		if s, ok := reg.Get(st.ID); ok {
			sl = admin.SellerFromMapping(st.ID, s.Mapping)
			sl.Name, sl.Version = s.Name, s.Version
			loaded := s.LoadedAt
			sl.LoadedAt = &loaded
		}
		sl.Active = st.Active
		var ps []admin.Problem
		for _, p := range st.Problems {
			ps = append(ps, admin.Problem{Key: p.Key, Code: "config", Message: p.Message})
		}
		if words := refused(st.ID); words != "" {
			ps = append(ps, admin.Problem{Key: credentialsKey(reg, st.ID), Code: admin.ProblemCredentials, Message: words})
		}
		sl.Problems = append(ps, sl.Problems...)
		out = append(out, sl)
	}
	return out
}

// credentialsKey names where a seller's Accurate credentials are set: the
// environment's variables, or those the seller's file names.
func credentialsKey(reg *sellers.Registry, id string) string {
	if s, ok := reg.Get(id); ok && s.Accurate.CredentialsFrom != "" {
		return s.Accurate.CredentialsFrom
	}
	return worker.DefaultCredentials
}

// serve runs the service until ctx ends, then shuts down gracefully: the
// listener stops taking requests and finishes those in flight, the workers
// finish the events they hold (bounded by SHUTDOWN_TIMEOUT) and leave the
// rest queued.
func serve(ctx context.Context, cfg config, getenv func(string) string, stdout io.Writer) error {
	floor := holdHeapFloor(heapFloorBytes) // heapfloor.go
	defer runtime.KeepAlive(floor)
	log := newLogger(cfg.LogLevel, stdout)
	defer func() { _ = log.Sync() }()
	for _, w := range cfg.warnings() {
		log.Warn("configuration: " + w)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a, err := newApp(cfg, options{logger: log, getenv: getenv, hup: hup, routeRedisLogs: true})
	if err != nil {
		return err
	}
	defer a.rdb.Close()
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	if cfg.AdminListenAddr != "" {
		if a.private, err = net.Listen("tcp", cfg.AdminListenAddr); err != nil {
			ln.Close()
			return fmt.Errorf("ADMIN_LISTEN_ADDR %s: %w", cfg.AdminListenAddr, err)
		}
	}
	return a.run(ctx, ln)
}

// run serves on ln and works the queue until ctx ends.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	conns := edge.NewConns(a.cfg.MaxConnections)
	ln = conns.Listener(ln)
	public := a.handler
	var private *http.Server
	if a.private != nil {
		public = handler.Public(a.handler)
		private = &http.Server{Handler: handler.Private(a.handler), ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: edge.IdleTimeout, MaxHeaderBytes: 64 << 10}
	}
	srv := &http.Server{
		Handler:           public,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       edge.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         conns.Track,
	}
	followCtx, stopFollow := context.WithCancel(ctx)
	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		a.redisDown.Follow(followCtx, time.Second, func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() })
	}()
	defer func() { stopFollow(); <-followDone }()
	// Before any worker or webhook: a namespace from before shards moves to
	// its shards (one replica does, the others wait), and a replica whose
	// REDIS_SHARDS differs from the namespace's stops here. A Redis that
	// does not answer yet is waited for, named once in the log.
	err := a.redisDown.Await(ctx, time.Second, func(ctx context.Context) error {
		_, err := events.Migrate(ctx, a.rdb, a.events.Queue().Layout(), a.log.Named("events"))
		return err
	}, func(err error) bool { return errors.Is(err, events.ErrUnavailable) })
	switch {
	case ctx.Err() != nil:
		return nil // stopped while waiting for Redis
	case err != nil:
		return fmt.Errorf("redis layout: %w", err)
	}
	if err := a.workers.Start(a.router); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	a.log.Info("forstok-accurate-sync started", zap.String("addr", ln.Addr().String()),
		zap.String("version", version), zap.String("namespace", a.cfg.RedisNamespace), zap.Int("shards", a.events.Queue().Layout().Shards))

	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		a.pruneLoop(ctx)
	}()
	releaseDone := make(chan struct{})
	go func() {
		defer close(releaseDone)
		a.releaseLoop(ctx)
	}()
	dispatchDone := make(chan struct{})
	go func() {
		defer close(dispatchDone)
		a.events.Queue().Dispatch(ctx, a.dispatchTick())
	}()
	credsDone := make(chan struct{})
	go func() {
		defer close(credsDone)
		a.fleet.Run(ctx)
	}()
	dailyDone := make(chan struct{})
	go func() {
		defer close(dailyDone)
		a.daily.Loop(ctx)
	}()
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		if a.sellers.Dir() != "" {
			_ = a.sellers.Watch(ctx, a.hup, a.sellersDebounce())
		}
	}()
	shedDone := make(chan struct{})
	go func() {
		defer close(shedDone)
		conns.Serve(ctx)
	}()
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	if private != nil {
		a.log.Info("operators' port: /admin, /console and /metrics are served only here", zap.String("addr", a.private.Addr().String()))
		go func() { serveErr <- private.Serve(a.private) }()
	}

	select {
	case err := <-serveErr:
		a.workers.Shutdown()
		srv.Close()
		if private != nil {
			private.Close()
		}
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// HTTP and the workers wind down together under one deadline, so the
	// whole shutdown fits in SHUTDOWN_TIMEOUT (asynq's own ShutdownTimeout
	// is the same figure): requests in flight are answered, events in
	// flight finish, the rest stay queued for the next replica.
	a.log.Info("shutting down", zap.Duration("timeout", a.cfg.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	workersDone := make(chan struct{})
	go func() {
		defer close(workersDone)
		a.workers.Shutdown()
	}()
	httpErr := srv.Shutdown(shutdownCtx)
	if private != nil {
		if err := private.Shutdown(shutdownCtx); err != nil && httpErr == nil {
			httpErr = err
		}
	}
	<-workersDone
	<-pruneDone
	<-releaseDone
	<-dispatchDone
	<-credsDone
	<-dailyDone
	<-watchDone
	<-shedDone
	a.log.Info("stopped")
	if httpErr != nil && !errors.Is(httpErr, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", httpErr)
	}
	return nil
}

// pruneLoop drops expired entries from the event indexes of every seller
// now and then.
func (a *app) pruneLoop(ctx context.Context) {
	wait.Every(ctx, time.Hour, func() {
		if err := a.events.Prune(ctx, a.sellerIDs()); err != nil {
			a.log.Warn("prune event indexes", zap.Error(err))
		}
	})
}

// releaseLoop queues again, every half EVENT_HOLD_TIMEOUT, the events whose
// worker stopped holding them without finishing (a replica killed, or one
// that could not record an end while Redis was away), so that they run
// again within about EVENT_HOLD_TIMEOUT rather than after asynq's lease.
func (a *app) releaseLoop(ctx context.Context) {
	wait.Every(ctx, a.cfg.EventHoldTimeout/2, func() {
		released, err := a.events.ReleaseAbandoned(ctx, a.sellerIDs())
		if err != nil && ctx.Err() == nil {
			a.log.Warn("release events whose worker stopped; tried again shortly", zap.Error(err))
		}
		for _, id := range released {
			seller, key := queue.SplitTaskID(id)
			a.log.Warn("event queued again: its worker stopped without finishing it (killed, or lost Redis)",
				zap.String("seller", seller), zap.String("event_key", key), zap.Duration("hold_timeout", a.cfg.EventHoldTimeout))
		}
	})
}

// sellerIDs are the sellers the service knows now: configured, or with a
// file it refuses (their events are kept all the same).
func (a *app) sellerIDs() []string {
	var ids []string
	for _, s := range a.sellers.Status() {
		ids = append(ids, s.ID)
	}
	return ids
}

// dispatchTick is how often the dispatcher looks for held events released
// by another replica's room (its own Dones wake it at once).
func (a *app) dispatchTick() time.Duration {
	if p := a.opts.poll; p > 0 && p < 200*time.Millisecond {
		return p
	}
	return 200 * time.Millisecond
}

func (a *app) sellersDebounce() time.Duration { return a.opts.sellersDebounce }

// idleTaskCheck is how often an idle replica looks for new events. asynq's
// own default (1 s, slept between 0.5 and 1.5 s) would be most of a lone
// event's latency; ten looks a second cost Redis next to nothing.
const idleTaskCheck = 100 * time.Millisecond

func taskCheck(poll time.Duration) time.Duration {
	if poll > 0 {
		return poll
	}
	return idleTaskCheck
}
