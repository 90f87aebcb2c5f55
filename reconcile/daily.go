package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/internal/wait"
)

// DefaultAt is when the daily run starts, in each seller's time zone.
var DefaultAt = At{Hour: 6}

// Keep is how long a daily run's report is kept.
const Keep = 30 * 24 * time.Hour

// At is the time of day of the daily run (RECONCILE_AT), or Off.
type At struct {
	Off          bool
	Hour, Minute int
}

func (a At) String() string {
	if a.Off {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d", a.Hour, a.Minute)
}

// ParseAt reads RECONCILE_AT: a time of day as HH:MM (24 hours), or "off".
// Empty is the default.
func ParseAt(s string) (At, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return DefaultAt, nil
	case "off":
		return At{Off: true}, nil
	}
	h, m, ok := strings.Cut(s, ":")
	hour, herr := strconv.Atoi(h)
	minute, merr := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || herr != nil || merr != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return At{}, fmt.Errorf("%q is not a time of day as HH:MM (00:00 to 23:59) or off", s)
	}
	return At{Hour: hour, Minute: minute}, nil
}

// Zone is a seller the daily run reconciles, in its time zone.
type Zone struct {
	ID       string
	Location *time.Location
}

// Reconciles makes one seller's report with the seller's own Accurate
// client, so the run takes that seller's share of Accurate and no one
// else's (the wiring's reconciliations).
type Reconciles interface {
	Reconcile(ctx context.Context, seller string, q Query) (Report, error)
}

// Run is one daily run of a seller's day as kept in Redis.
type Run struct {
	Seller string    `json:"seller"`
	Day    string    `json:"day"`
	RunAt  time.Time `json:"run_at"`
	// Differences counts the day's differences by kind (every kind, zeros
	// included).
	Differences map[string]int `json:"differences"`
	// Total is the sum of Differences.
	Total int `json:"total"`
	// Unreadable names the side that could not be read; RetryAt is when
	// the run is made again.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
	RetryAt    *time.Time   `json:"retry_at,omitempty"`
	// Report is the day's report as the API shows it; the overview's
	// summary leaves it out.
	Report *ReportView `json:"report,omitempty"`
}

// DailyConfig builds a Daily.
type DailyConfig struct {
	Redis     redis.UniversalClient
	Namespace string
	At        At
	// Sellers lists the sellers to reconcile now, with their time zones.
	Sellers    func() []Zone
	Reconciles Reconciles
	Logger     *zap.Logger
	Now        func() time.Time
	// Tick is how often each seller is looked at (default a minute).
	Tick time.Duration
	// ClaimTTL is how long a claim outlives a replica that died holding
	// it (default 10 minutes); a live run renews it.
	ClaimTTL time.Duration
	// RetryAfter is how long after a run that could not read a side the
	// day is tried again (default 15 minutes).
	RetryAfter time.Duration
	// Parallel is how many sellers one replica reconciles at once
	// (default 4); each reads its own seller's Accurate.
	Parallel int
	// Replica names this replica in its claims (default a random id).
	Replica string
}

// Daily reconciles each seller's previous day at At in the seller's time
// zone, once across replicas: a claim per seller and day in Redis (SET NX
// with an expiry) lets one replica run it; a replica that dies mid-run
// leaves a claim that expires, and another takes the day. The run's
// report is kept Keep in Redis.
type Daily struct {
	cfg     DailyConfig
	running sync.Map // seller -> struct{}: runs of this replica
	slots   chan struct{}
}

// NewDaily builds the daily run.
func NewDaily(cfg DailyConfig) *Daily {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	cfg.Now = defaults.Clock(cfg.Now)
	defaults.Positive(&cfg.Tick, time.Minute)
	defaults.Positive(&cfg.ClaimTTL, 10*time.Minute)
	defaults.Positive(&cfg.RetryAfter, 15*time.Minute)
	defaults.Positive(&cfg.Parallel, 4)
	defaults.Empty(&cfg.Replica, strconv.FormatInt(time.Now().UnixNano(), 36))
	return &Daily{cfg: cfg, slots: make(chan struct{}, cfg.Parallel)}
}

// Keys of one seller share a hash tag, so a claim and the run it keeps are
// written together by one script on a Redis Cluster too.
func (d *Daily) key(seller, rest string) string {
	return d.cfg.Namespace + ":{reconcile:" + seller + "}:" + rest
}

// Due is the day a seller's run covers at now, and whether it is time:
// the previous day, from At on.
func (a At) Due(now time.Time, loc *time.Location) (string, bool) {
	if a.Off {
		return "", false
	}
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	start := time.Date(local.Year(), local.Month(), local.Day(), a.Hour, a.Minute, 0, 0, loc)
	if local.Before(start) {
		return "", false
	}
	y, m, day := local.Date()
	return time.Date(y, m, day-1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), true
}

// Loop ticks until ctx ends, waiting for the runs it started.
func (d *Daily) Loop(ctx context.Context) {
	if d.cfg.At.Off {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	for {
		d.start(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick starts the due runs this replica can claim and waits for them.
func (d *Daily) Tick(ctx context.Context) {
	var wg sync.WaitGroup
	d.start(ctx, &wg)
	wg.Wait()
}

func (d *Daily) start(ctx context.Context, wg *sync.WaitGroup) {
	for _, z := range d.cfg.Sellers() {
		day, ok := d.cfg.At.Due(d.cfg.Now(), z.Location)
		if !ok {
			continue
		}
		if _, busy := d.running.LoadOrStore(z.ID, struct{}{}); busy {
			continue
		}
		// A slot first, then the claim: a claim never waits for a slot
		// while its expiry runs.
		select {
		case d.slots <- struct{}{}:
		case <-ctx.Done():
			d.running.Delete(z.ID)
			return
		}
		claimed, err := d.cfg.Redis.SetNX(ctx, d.key(z.ID, "claim:"+day), d.cfg.Replica, d.cfg.ClaimTTL).Result()
		if err != nil || !claimed {
			if err != nil && ctx.Err() == nil {
				d.cfg.Logger.Warn("reconciliation: cannot claim the daily run", zap.String("seller", z.ID), zap.String("day", day), zap.Error(err))
			}
			<-d.slots
			d.running.Delete(z.ID)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-d.slots; d.running.Delete(z.ID) }()
			d.run(ctx, z.ID, day)
		}()
	}
}

// renew keeps a live run's claim while it runs.
var renew = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)

// finish keeps the run only while this replica still holds the claim (one
// whose claim expired was taken for dead; its late result is dropped) and
// turns the claim into "done", or into a wait until the retry.
var finish = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[6])
local last = redis.call('GET', KEYS[3])
if (not last) or cjson.decode(last)['day'] <= ARGV[7] then redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6]) end
return 1`)

// run reconciles one seller's day under a claim this replica holds.
func (d *Daily) run(ctx context.Context, seller, day string) {
	log := d.cfg.Logger.With(zap.String("seller", seller), zap.String("day", day))
	claim := d.key(seller, "claim:"+day)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go wait.Every(runCtx, d.cfg.ClaimTTL/3, func() {
		_ = renew.Run(runCtx, d.cfg.Redis, []string{claim}, d.cfg.Replica, d.cfg.ClaimTTL.Milliseconds()).Err()
	})
	date, _ := time.Parse(time.DateOnly, day)
	rep, err := d.cfg.Reconciles.Reconcile(runCtx, seller, Query{From: date, To: date})
	if ctx.Err() != nil {
		// Shutting down: the claim is let go so another replica runs the
		// day now rather than when it expires.
		_ = d.cfg.Redis.Del(context.WithoutCancel(ctx), claim).Err()
		return
	}
	now := d.cfg.Now().UTC()
	r := Run{Seller: seller, Day: day, RunAt: now, Differences: map[string]int{}}
	for _, k := range Kinds {
		r.Differences[k] = 0
	}
	if err != nil {
		// No report at all (the seller has no working configuration now):
		// kept as a side not read, tried again later.
		rep = Report{Seller: seller, From: day, To: day, GeneratedAt: now, Days: []Day{}}
		rep.Unreadable = []Unreadable{{Side: "forstok", Error: err.Error(), From: day, To: day, RetryAt: now.Add(d.cfg.RetryAfter)}}
	}
	for k, n := range rep.Differences() {
		r.Differences[k] += n
		r.Total += n
	}
	r.Unreadable = rep.Unreadable
	hold := 36 * time.Hour // past the day's window: the claim only has to outlive "yesterday"
	state := "done"
	for _, u := range rep.Unreadable {
		if r.RetryAt == nil || u.RetryAt.Before(*r.RetryAt) {
			at := u.RetryAt
			r.RetryAt = &at
		}
	}
	if r.RetryAt != nil {
		state, hold = "retry", max(r.RetryAt.Sub(now), time.Second)
	}
	summary, _ := json.Marshal(r)
	view := rep.View()
	r.Report = &view
	full, _ := json.Marshal(r)
	kept, err := finish.Run(context.WithoutCancel(ctx), d.cfg.Redis,
		[]string{claim, d.key(seller, "run:"+day), d.key(seller, "last")},
		d.cfg.Replica, state, hold.Milliseconds(), full, summary, Keep.Milliseconds(), day).Int()
	switch {
	case err != nil:
		log.Error("reconciliation: cannot keep the daily run", zap.Error(err))
	case kept == 0:
		log.Warn("reconciliation: the claim expired during the run (taken for dead); another replica runs the day")
	case r.RetryAt != nil:
		log.Warn("reconciliation: a side could not be read; the day is tried again", zap.Time("retry_at", *r.RetryAt),
			zap.String("side", rep.Unreadable[0].Side), zap.String("error", rep.Unreadable[0].Error))
	default:
		log.Info("reconciliation: daily run", zap.Int("differences", r.Total), zap.Int("accurate_requests", rep.Requests))
	}
}

// Last is a seller's newest kept run, without its report.
func (d *Daily) Last(ctx context.Context, seller string) (Run, bool, error) {
	return d.get(ctx, d.key(seller, "last"))
}

// Kept is a seller's kept run of a day, with its report.
func (d *Daily) Kept(ctx context.Context, seller, day string) (Run, bool, error) {
	return d.get(ctx, d.key(seller, "run:"+day))
}

func (d *Daily) get(ctx context.Context, key string) (Run, bool, error) {
	raw, err := d.cfg.Redis.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("read %s: %w", key, err)
	}
	var r Run
	if err := json.Unmarshal(raw, &r); err != nil {
		return Run{}, false, fmt.Errorf("decode %s: %w", key, err)
	}
	return r, true, nil
}

// DifferencesBySeller is each seller's newest run's differences by kind,
// for the fas_reconciliation_differences gauge; sellers never run are
// left out.
func (d *Daily) DifferencesBySeller(ctx context.Context) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	for _, z := range d.cfg.Sellers() {
		r, ok, err := d.Last(ctx, z.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out[z.ID] = r.Differences
		}
	}
	return out, nil
}
