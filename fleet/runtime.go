package fleet

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/metrics"
	"forstok-accurate-sync/orders"
	"forstok-accurate-sync/outage"
	"forstok-accurate-sync/reconcile"
	"forstok-accurate-sync/sellers"
	"forstok-accurate-sync/worker"
)

// Config is what the fleet runs on.
type Config struct {
	Sellers *sellers.Registry
	// Events is the namespace: each seller's part is its Seller.
	Events    *events.Namespace
	Redis     redis.UniversalClient
	Namespace string // REDIS_NAMESPACE: the limiters' keys live under it
	Mappings  *sellers.Mappings
	Decoder   *forstok.Decoder
	Logger    *zap.Logger
	// The workers' settings (worker.Config): PAYMENT_INVOICE_WAIT,
	// MAX_ATTEMPTS, the backoff, and how often an Accurate marked down is
	// asked whether it answers again (zero: the worker's defaults).
	InvoiceWait         time.Duration
	MaxAttempts         int
	RetryBase, RetryCap time.Duration
	Probe               time.Duration
}

// Fleet is every seller's running part, built from the seller's current
// configuration version: its worker (its Accurate client and limiter, its
// mapping, its part of the store) and the check of its Accurate
// credentials. A part is rebuilt when the seller's version changes, so a
// change applies to the events processed after it; a seller that is not
// configured now has no part, and its events wait.
type Fleet struct {
	reg      *sellers.Registry
	events   *events.Namespace
	rdb      redis.UniversalClient
	cfg      Config
	log      *zap.Logger
	meter    *metrics.Metrics
	decoder  *forstok.Decoder
	mappings *sellers.Mappings

	mu sync.Mutex
	// mappingErr is the last error refreshing the mapping versions, logged
	// once rather than every second.
	mappingErr string
	parts      map[string]*Part
	ctx        context.Context // set by run: the credentials checks live in it
	checks     sync.WaitGroup
	counted    map[string]bool // sellers whose metric series exist
}

// New makes the fleet of cfg's sellers and builds the part of each seller
// configured now. Its metrics are the store's for the one seller of the
// environment, per seller with SELLERS_DIR.
func New(cfg Config) *Fleet {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	f := &Fleet{reg: cfg.Sellers, events: cfg.Events, rdb: cfg.Redis, cfg: cfg, log: log, decoder: cfg.Decoder, mappings: cfg.Mappings,
		parts: map[string]*Part{}, counted: map[string]bool{}}
	if f.reg.Dir() == "" {
		f.meter = metrics.New(&metrics.Source{Events: f.events.Seller(events.DefaultSeller), Queue: f.events.Queue()})
	} else {
		f.meter = metrics.NewForSellers(f)
	}
	f.Sync()
	return f
}

// Meter is the fleet's metrics.
func (f *Fleet) Meter() *metrics.Metrics { return f.meter }

// Part is one seller's version at work.
type Part struct {
	Seller  *sellers.Seller
	Worker  *worker.Worker
	Client  *accurate.Client // its reads (reconciliation, the settings page) go through the same limiter
	Limiter *DatabaseLimiter
	creds   *credentials
	stop    context.CancelFunc // ends its credentials check
}

// part is the seller's current part, built (or rebuilt) on demand.
func (f *Fleet) Part(id string) (*Part, bool) {
	s, ok := f.reg.Get(id)
	if !ok {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.parts[id]; p != nil && p.Seller.Version == s.Version {
		return p, true
	}
	p, err := f.Build(s)
	if err != nil {
		f.log.Error("cannot build the seller's Accurate client; its events wait", zap.String("seller", id), zap.Error(err))
		return nil, false
	}
	if old := f.parts[id]; old != nil {
		old.stop()
	}
	f.parts[id] = p
	f.startCheck(p)
	return p, true
}

func (f *Fleet) Build(s *sellers.Seller) (*Part, error) {
	log := f.log.With(zap.String("seller", s.ID))
	if !f.counted[s.ID] {
		f.meter.SellerEventTypes(s.ID, forstok.TypeNames(), []string{"accepted", "duplicate", "invalid", "unavailable"},
			[]string{events.StateSynced, events.StateRetrying, events.StateFailed, events.StateVoided})
		f.counted[s.ID] = true
	}
	store := f.events.Seller(s.ID)
	makeLimiter := func(key string) accurate.Limiter {
		l := accurate.NewRedisLimiter(f.rdb, key, s.Accurate.RateLimit, s.Accurate.MaxConcurrency)
		l.OnWait = f.meter.LimiterWait
		return l
	}
	ns, token := f.cfg.Namespace, s.Accurate.APIToken
	// The database the token opens, once discovery names it: sellers on
	// one database share its limit without saying so in their files.
	// Remembered in Redis, so that another replica, or this one after a
	// restart, discovers under the database's limit too.
	discovers := f.reg.Dir() != "" && s.Accurate.Database == ""
	var known func(ctx context.Context) (string, bool)
	if discovers {
		known = func(ctx context.Context) (string, bool) {
			id, err := KnownDatabase(ctx, f.rdb, ns, token)
			if err != nil || id == "" {
				return "", false
			}
			return DatabaseLimiterKey(ns, id), true
		}
	}
	limiter := NewDatabaseLimiter(LimiterKey(ns, s), makeLimiter, known)
	var onDatabase func(context.Context, string)
	if discovers {
		onDatabase = func(ctx context.Context, id string) {
			limiter.Settle(DatabaseLimiterKey(ns, id))
			if err := RememberDatabase(ctx, f.rdb, ns, token, id); err != nil {
				log.Warn("cannot remember the seller's Accurate database; other replicas find it by their own discovery", zap.Error(err))
			}
		}
	}
	creds := &credentials{log: log.Named("accurate")}
	credsAt := s.Accurate.CredentialsFrom
	if credsAt == "" {
		credsAt = worker.DefaultCredentials
	}
	if s.ID != sellers.DefaultID || f.reg.Dir() != "" {
		creds.words = fmt.Errorf("seller %s: Accurate refuses its credentials: check %s; the file %s is read again when it changes", s.ID, credsAt, s.File)
	}
	client, err := accurate.New(accurate.Config{
		AccountURL:      s.Accurate.AccountURL,
		Host:            s.Accurate.Host,
		APIToken:        s.Accurate.APIToken,
		SignatureSecret: s.Accurate.SignatureSecret,
		Limiter:         limiter,
		OnDatabase:      onDatabase,
		Observe: func(endpoint, outcome string, took time.Duration) {
			f.meter.AccurateCall(endpoint, outcome, took)
			creds.observe(endpoint, outcome)
			f.countCall(store, log)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("accurate client of seller %s: %w", s.ID, err)
	}
	creds.check = client.CheckCredentials
	w := worker.New(worker.Config{
		Store:       store,
		Orders:      orders.For(f.rdb, store),
		Queue:       store.Queue(),
		Wakes:       store.Queue(),
		Days:        store,
		Missing:     store,
		Probe:       client,
		Accurate:    accurate.NewBatcher(client, accurate.BatchConfig{}),
		Mapping:     s.Mapping,
		Decoder:     f.decoder,
		Logger:      log.Named("worker"),
		Metrics:     f.meter.Seller(s.ID),
		InvoiceWait: f.cfg.InvoiceWait,
		MaxAttempts: f.cfg.MaxAttempts,
		RetryBase:   f.cfg.RetryBase,
		RetryCap:    f.cfg.RetryCap,
		Credentials: credsAt,
		Outage: outage.New(outage.Config{Logger: log.Named("accurate"), Name: "Accurate of seller " + s.ID,
			Addr: accurateAddress(s.Accurate)}),
	})
	return &Part{Seller: s, Worker: w, Client: client, Limiter: limiter, creds: creds, stop: func() {}}, nil
}

// accurateAddress is where the seller's Accurate is asked: its host, or the
// account server that names the host.
func accurateAddress(acc sellers.Accurate) string {
	raw := acc.Host
	if raw == "" {
		raw = acc.AccountURL
	}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// startCheck runs the part's credentials check and its recovery after an
// outage of Accurate while the fleet runs; f.mu must be held.
func (f *Fleet) startCheck(p *Part) {
	if f.ctx == nil || f.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(f.ctx)
	p.stop = cancel
	f.checks.Add(2)
	go func() {
		defer f.checks.Done()
		p.creds.watch(ctx, time.Minute)
	}()
	go func() {
		defer f.checks.Done()
		p.Worker.Recover(ctx, f.cfg.Probe)
	}()
}

// Worker is the Router's view: the worker of the seller's current version.
func (f *Fleet) Worker(id string) (*worker.Worker, bool) {
	p, ok := f.Part(id)
	if !ok {
		return nil, false
	}
	return p.Worker, true
}

// Intake is the webhook's view of a seller configured now.
func (f *Fleet) Intake(id string) (handler.Intake, bool) {
	s, ok := f.reg.Get(id)
	if !ok {
		return handler.Intake{}, false
	}
	return handler.Intake{Verifier: s.Verifier, Store: f.events.Seller(id)}, true
}

// Run keeps the parts in step with the registry until ctx ends: every
// seller's credentials are checked at start and after each change, each on
// its own, so one seller's refusal never holds the others up.
func (f *Fleet) Run(ctx context.Context) {
	f.mu.Lock()
	f.ctx = ctx
	for _, p := range f.parts {
		f.startCheck(p)
	}
	f.mu.Unlock()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		f.Sync()
		select {
		case <-ctx.Done():
			f.checks.Wait()
			return
		case <-t.C:
		}
	}
}

// Sync builds the parts of new or changed sellers and drops those of
// sellers that are gone.
func (f *Fleet) Sync() {
	f.refreshMappings()
	ids := f.reg.IDs()
	for _, id := range ids {
		f.Part(id)
	}
	current := map[string]bool{}
	for _, id := range ids {
		current[id] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, p := range f.parts {
		if !current[id] {
			p.stop()
			delete(f.parts, id)
		}
	}
}

// refreshMappings takes each seller's newest mapping version (and imports
// changed files); while Redis cannot answer, sellers keep the one they have.
func (f *Fleet) refreshMappings() {
	if f.mappings == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := f.mappings.Refresh(ctx, f.reg)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	f.mu.Lock()
	changed := msg != f.mappingErr
	f.mappingErr = msg
	f.mu.Unlock()
	if changed && err != nil {
		f.log.Warn("cannot read the sellers' mapping versions from Redis; each seller keeps the mapping it has", zap.Error(err))
	}
}

// Ready is /readyz's check: in the single-seller setup Accurate's refusal
// of the credentials makes the service unready, as it has no other seller
// to serve; with SELLERS_DIR it is a warning (warnings).
func (f *Fleet) Ready(ctx context.Context) error {
	if f.reg.Dir() != "" {
		return nil
	}
	p, ok := f.Part(sellers.DefaultID)
	if !ok {
		return nil
	}
	return p.creds.ready(ctx)
}

// Warnings names each seller whose credentials Accurate refuses.
func (f *Fleet) Warnings() []string {
	if f.reg.Dir() == "" {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.parts {
		if err := p.creds.ready(context.Background()); err != nil {
			out = append(out, err.Error())
		}
	}
	sort.Strings(out)
	return out
}

// Refused is what Accurate's refusal of the seller's credentials says to
// do, naming its own variables or file; "" while Accurate accepts them (or
// has not been asked yet).
func (f *Fleet) Refused(id string) string {
	f.mu.Lock()
	p := f.parts[id]
	f.mu.Unlock()
	if p == nil {
		return ""
	}
	if err := p.creds.ready(context.Background()); err != nil {
		return err.Error()
	}
	return ""
}

// SellerCounts are the events by state of every configured seller (the
// metrics' view).
func (f *Fleet) SellerCounts(ctx context.Context) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	for _, id := range f.reg.IDs() {
		c, err := f.events.Seller(id).Counts(ctx)
		if err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, nil
}

// QueueDepth is the whole queue's (the metrics' view).
func (f *Fleet) QueueDepth(ctx context.Context) (int, error) { return f.events.Queue().QueueDepth(ctx) }

// countCall counts one Accurate request of a seller for GET /admin/sellers;
// a count that cannot be written is only a figure missing, never a reason
// to hold the event up.
func (f *Fleet) countCall(store *events.Store, log *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := store.CountAccurateCall(ctx); err != nil {
		log.Debug("could not count an Accurate request", zap.Error(err))
	}
}

// Zones are the sellers the daily reconciliation runs for: those working
// now, each in its mapping's time zone.
func (f *Fleet) Zones() []reconcile.Zone {
	ids := f.reg.IDs()
	out := make([]reconcile.Zone, 0, len(ids))
	for _, id := range ids {
		if p, ok := f.Part(id); ok && p.Seller.Mapping != nil {
			out = append(out, reconcile.Zone{ID: id, Location: p.Seller.Mapping.Location()})
		}
	}
	return out
}
