package main

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/edge"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/queue"
	"forstok-accurate-sync/reconcile"
	"forstok-accurate-sync/sellers"
	"forstok-accurate-sync/worker"
)

// minTokenBytes is the shortest admin token taken: ADMIN_TOKEN and every
// seller's own.
const minTokenBytes = sellers.MinAdminTokenBytes

// config is every setting of README's Configuration table, read from the environment once,
// at start.
type config struct {
	ListenAddr          string
	AdminListenAddr     string
	RedisURL            string
	RedisSentinelAddrs  []string
	RedisSentinelMaster string
	RedisClusterAddrs   []string
	RedisPassword       string
	RedisNamespace      string
	RedisShards         int
	WebhookSecrets      string
	AccurateAPIToken    string
	AccurateSignature   string
	AccurateAccountURL  string
	AccurateHost        string
	AccurateRateLimit   int
	AccurateConcurrency int
	MappingFile         string
	SellersDir          string
	AdminToken          string
	TrustedProxies      []netip.Prefix
	LogLevel            zapcore.Level
	WorkerConcurrency   int
	ShutdownTimeout     time.Duration
	PaymentInvoiceWait  time.Duration
	MaxAttempts         int
	EventRetention      time.Duration
	EventHoldTimeout    time.Duration
	BodyInTask          bool
	SellerShare         int
	MaxBodyInFlight     int
	MaxConnections      int
	ReconcileAt         reconcile.At
	deprecated          []string
}

// warnings are settings that work but should change (a deprecated name);
// serve logs them at start.
func (c config) warnings() []string { return c.deprecated }

// configError lists every missing or malformed setting at once.
type configError struct{ problems []string }

func (e *configError) Error() string {
	return "configuration: " + strings.Join(e.problems, "; ")
}

// loadConfig reads the environment. need says which required groups the
// command needs: serve needs everything, check only the mapping.
func loadConfig(getenv func(string) string, need requirement) (config, error) {
	r := envReader{getenv: getenv}
	c := config{
		ListenAddr:          r.str("LISTEN_ADDR", ":8080"),
		AdminListenAddr:     r.str("ADMIN_LISTEN_ADDR", ""),
		RedisURL:            r.str("REDIS_URL", ""),
		RedisSentinelAddrs:  r.list("REDIS_SENTINEL_ADDRS"),
		RedisSentinelMaster: r.str("REDIS_SENTINEL_MASTER", ""),
		RedisClusterAddrs:   r.list("REDIS_CLUSTER_ADDRS"),
		RedisPassword:       r.str("REDIS_PASSWORD", ""),
		RedisNamespace:      r.str("REDIS_NAMESPACE", events.DefaultNamespace),
		RedisShards:         r.positiveInt("REDIS_SHARDS", 0),
		WebhookSecrets:      r.str("FORSTOK_WEBHOOK_SECRET", ""),
		AccurateAPIToken:    r.str("ACCURATE_API_TOKEN", ""),
		AccurateSignature:   r.str("ACCURATE_SIGNATURE_SECRET", ""),
		AccurateAccountURL:  r.url("ACCURATE_ACCOUNT_URL", accurate.DefaultAccountURL),
		AccurateHost:        r.url("ACCURATE_HOST", ""),
		AccurateRateLimit:   r.positiveInt("ACCURATE_RATE_LIMIT", accurate.DefaultRatePerSecond),
		AccurateConcurrency: r.positiveInt("ACCURATE_MAX_CONCURRENCY", accurate.DefaultMaxInFlight),
		MappingFile:         r.str("MAPPING_FILE", ""),
		SellersDir:          r.str("SELLERS_DIR", ""),
		AdminToken:          r.str("ADMIN_TOKEN", ""),
		LogLevel:            r.level("LOG_LEVEL"),
		WorkerConcurrency:   r.positiveInt("WORKER_CONCURRENCY", worker.DefaultConcurrency),
		ShutdownTimeout:     r.duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		PaymentInvoiceWait:  r.duration("PAYMENT_INVOICE_WAIT", worker.DefaultInvoiceWait),
		MaxAttempts:         r.renamed("MAX_ATTEMPTS", "MAX_RETRIES", worker.DefaultMaxAttempts),
		EventRetention:      r.duration("EVENT_RETENTION", events.DefaultRetention),
		EventHoldTimeout:    r.duration("EVENT_HOLD_TIMEOUT", events.DefaultHoldTimeout),
		SellerShare:         r.positiveInt("SELLER_SHARE", queue.DefaultShare),
		MaxBodyInFlight:     r.positiveInt("MAX_BODY_BYTES_IN_FLIGHT", edge.DefaultBodyBudget),
		MaxConnections:      r.positiveInt("MAX_CONNECTIONS", edge.DefaultMaxConnections),
	}
	if c.MaxBodyInFlight < handler.MaxBodyBytes {
		// Smaller, the largest webhook could never be read.
		r.bad("MAX_BODY_BYTES_IN_FLIGHT", "at least 1048576 (one largest webhook)")
		c.MaxBodyInFlight = edge.DefaultBodyBudget
	}
	if c.AdminToken != "" && len(c.AdminToken) < minTokenBytes {
		r.bad("ADMIN_TOKEN", "at least 32 bytes, so that it cannot be guessed (e.g. openssl rand -hex 32)")
	}
	c.TrustedProxies = r.prefixes("TRUSTED_PROXIES")
	if at, err := reconcile.ParseAt(r.str("RECONCILE_AT", "")); err != nil {
		r.bad("RECONCILE_AT", "a time of day as HH:MM in each seller's time zone (e.g. 06:00), or off")
		c.ReconcileAt = reconcile.DefaultAt
	} else {
		c.ReconcileAt = at
	}
	switch r.str("TASK_BODY", "record") {
	case "record":
	case "task":
		c.BodyInTask = true
	default:
		r.bad("TASK_BODY", `"record" (the default: workers read the webhook's body from the event's record) or "task" (tasks carry it too, for replicas of a version before 2026-12-05)`)
	}
	if c.EventHoldTimeout < time.Second {
		// It is renewed every third of it: shorter would be Redis chatter.
		r.bad("EVENT_HOLD_TIMEOUT", "at least 1s")
		c.EventHoldTimeout = events.DefaultHoldTimeout
	}
	if c.RedisShards == 0 {
		// Shards spread a Cluster; on one Redis they only add queues to poll.
		c.RedisShards = 1
		if len(c.RedisClusterAddrs) > 0 {
			c.RedisShards = queue.DefaultShards
		}
	}
	if c.RedisShards > maxShards {
		// Each shard is an asynq queue every replica polls.
		r.bad("REDIS_SHARDS", fmt.Sprintf("at most %d", maxShards))
		c.RedisShards = queue.DefaultShards
	}
	if c.SellersDir != "" {
		// Each seller's file names its own secrets and mapping.
		need.mapping, need.accurate, need.webhook = false, false, false
	}
	if need.mapping && c.MappingFile == "" {
		r.missing("MAPPING_FILE", "the path of the mapping file (see docs/mapping.md)")
	}
	if need.service {
		if c.RedisURL == "" && len(c.RedisSentinelAddrs) == 0 && len(c.RedisClusterAddrs) == 0 {
			r.missing("REDIS_URL", "e.g. redis://localhost:6379/0 (or REDIS_SENTINEL_ADDRS / REDIS_CLUSTER_ADDRS)")
		}
		if len(c.RedisSentinelAddrs) > 0 && c.RedisSentinelMaster == "" {
			r.missing("REDIS_SENTINEL_MASTER", "the master name Sentinel knows, needed with REDIS_SENTINEL_ADDRS")
		}
		if need.webhook && c.WebhookSecrets == "" {
			r.missing("FORSTOK_WEBHOOK_SECRET", "one or more whsec_... secrets, space-separated")
		}
	}
	if need.accurate {
		if c.AccurateAPIToken == "" {
			r.missing("ACCURATE_API_TOKEN", "the API token the seller created in Accurate")
		}
		if c.AccurateSignature == "" {
			r.missing("ACCURATE_SIGNATURE_SECRET", "the app's signature secret")
		}
	}
	c.deprecated = r.deprecated
	if c.SellerShare >= c.WorkerConcurrency {
		c.deprecated = append(c.deprecated, fmt.Sprintf("SELLER_SHARE (%d) is not below WORKER_CONCURRENCY (%d): one seller's backlog can take every worker "+
			"while another seller's events wait; keep the share at most half the workers", c.SellerShare, c.WorkerConcurrency))
	}
	if len(r.problems) > 0 {
		return c, &configError{problems: r.problems}
	}
	return c, nil
}

type requirement struct{ service, accurate, mapping, webhook bool }

var (
	needServe       = requirement{service: true, accurate: true, mapping: true, webhook: true}
	needCheck       = requirement{mapping: true}
	needCheckOnline = requirement{mapping: true, accurate: true}
	needMigrate     = requirement{service: true}
)

// maxShards bounds REDIS_SHARDS: every replica polls every shard's queue,
// and asynq's maintainers call thousands of queues too many.
const maxShards = 256

// envReader reads settings and collects every problem, naming the variable
// but never echoing a value (it may be a secret).
type envReader struct {
	getenv     func(string) string
	problems   []string
	deprecated []string
}

// renamed reads a whole-number setting by its name, or by the old name it
// had, with a warning to rename it; the new name wins when both are set.
func (r *envReader) renamed(name, old string, def int) int {
	if r.str(old, "") == "" {
		return r.positiveInt(name, def)
	}
	if r.str(name, "") != "" {
		r.deprecated = append(r.deprecated, old+" is ignored because "+name+" is set: remove "+old)
		return r.positiveInt(name, def)
	}
	r.deprecated = append(r.deprecated, old+" is deprecated: rename it "+name+" (the same figure: attempts in all, the first included)")
	return r.positiveInt(old, def)
}

func (r *envReader) missing(name, what string) {
	r.problems = append(r.problems, name+" is required: "+what)
}

func (r *envReader) bad(name, want string) {
	r.problems = append(r.problems, name+" is malformed: want "+want)
}

func (r *envReader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *envReader) list(name string) []string {
	var out []string
	for _, part := range strings.Split(r.getenv(name), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// prefixes reads a comma-separated list of addresses or CIDR ranges.
func (r *envReader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, part := range r.list(name) {
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				r.bad(name, "addresses or CIDR ranges, comma-separated (e.g. 10.0.0.0/8,127.0.0.1)")
				return nil
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

func (r *envReader) url(name, def string) string {
	v := r.str(name, def)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.bad(name, "an http:// or https:// URL")
		return def
	}
	return strings.TrimRight(v, "/")
}

func (r *envReader) positiveInt(name string, def int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		r.bad(name, "a whole number of at least 1")
		return def
	}
	return n
}

func (r *envReader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.bad(name, "a positive Go duration such as 25s, 24h or 720h")
		return def
	}
	return d
}

func (r *envReader) level(name string) zapcore.Level {
	v := r.str(name, "info")
	lvl, err := zapcore.ParseLevel(v)
	if err != nil || (lvl != zapcore.DebugLevel && lvl != zapcore.InfoLevel && lvl != zapcore.WarnLevel && lvl != zapcore.ErrorLevel) {
		r.bad(name, "debug, info, warn or error")
		return zapcore.InfoLevel
	}
	return lvl
}

var errUsage = errors.New("usage: forstok-accurate-sync [serve | check [--online] | demo | send [--url URL] FILE | probe | migrate]")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}
