package accurate

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/internal/wait"
)

// Limiter holds calls back to what Accurate allows. Acquire waits (honouring
// ctx) until a request may start; release must be called when it has ended.
type Limiter interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// ErrLimitUnavailable: the shared limit could not be read (its Redis did
// not answer), so the request never left for Accurate. Telling it apart
// keeps "Accurate did not answer" for Accurate's own silence.
var ErrLimitUnavailable = errors.New("the shared Accurate rate limit (in Redis) did not answer")

// Accurate's limits per database (API Token guide, Forstok FAQ 2023).
const (
	DefaultRatePerSecond = 8
	DefaultMaxInFlight   = 8
)

// RedisLimiter enforces both of Accurate's limits across every replica that
// shares its Redis and key prefix: at most perSecond request starts in any
// second (GCRA with no burst, so starts are evenly spaced) and at most
// maxInFlight requests at once (a semaphore of leased slots).
type RedisLimiter struct {
	rdb         redis.UniversalClient
	rate        *redis_rate.Limiter
	limit       redis_rate.Limit
	rateKey     string
	slotsKey    string
	maxInFlight int

	// Lease is how long a slot outlives a holder that never releases it (a
	// crashed replica). It must exceed the longest request plus the wait
	// for a start; default 2×DefaultTimeout.
	Lease time.Duration
	// OnWait, when set, is told how long each successful Acquire waited.
	OnWait func(time.Duration)
	// Poll is the pause between attempts on a full semaphore (plus jitter);
	// default 10ms.
	Poll time.Duration
}

// NewRedisLimiter shares the limits through rdb under keyPrefix (one prefix
// per Accurate database). perSecond and maxInFlight default to 8 when not
// positive.
func NewRedisLimiter(rdb redis.UniversalClient, keyPrefix string, perSecond, maxInFlight int) *RedisLimiter {
	defaults.Positive(&perSecond, DefaultRatePerSecond)
	defaults.Positive(&maxInFlight, DefaultMaxInFlight)
	return &RedisLimiter{
		rdb:  rdb,
		rate: redis_rate.NewLimiter(rdb),
		// Burst 1 spaces starts a full interval apart, so no window of one
		// second sees more than perSecond. The period is stretched by 5% so
		// that jitter between the grant and the request's arrival cannot
		// squeeze perSecond+1 starts into one second at Accurate.
		limit:       redis_rate.Limit{Rate: perSecond, Burst: 1, Period: time.Second + time.Second/20},
		rateKey:     keyPrefix + ":rate",
		slotsKey:    keyPrefix + ":inflight",
		maxInFlight: maxInFlight,
		Lease:       2 * DefaultTimeout,
		Poll:        10 * time.Millisecond,
	}
}

// acquireSlot takes a slot in the sorted set of holders, scored by lease
// expiry; expired holders are dropped first. Redis's own clock decides, so
// replicas' clocks need not agree.
var acquireSlot = redis.NewScript(`
local key = KEYS[1]
local holder = ARGV[1]
local max = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= max then
  return 0
end
redis.call('ZADD', key, now + lease, holder)
redis.call('PEXPIRE', key, lease)
return 1
`)

// Acquire takes an in-flight slot, then waits for a start under the rate:
// in that order, so that a start follows its grant at once (a grant spent
// waiting for a slot would bunch starts together).
func (l *RedisLimiter) Acquire(ctx context.Context) (func(), error) {
	start := time.Now()
	release, err := l.acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.waitRate(ctx); err != nil {
		release()
		return nil, err
	}
	if l.OnWait != nil {
		l.OnWait(time.Since(start))
	}
	return release, nil
}

func (l *RedisLimiter) acquireSlot(ctx context.Context) (func(), error) {
	holder := newHolderID()
	lease := l.Lease
	defaults.Positive(&lease, 2*DefaultTimeout)
	for {
		got, err := acquireSlot.Run(ctx, l.rdb, []string{l.slotsKey}, holder, l.maxInFlight, lease.Milliseconds()).Int()
		if err != nil {
			return nil, fmt.Errorf("accurate limiter: taking a slot: %w", err)
		}
		if got == 1 {
			break
		}
		if err := wait.Sleep(ctx, l.pause()); err != nil {
			return nil, fmt.Errorf("accurate limiter: waiting for a slot: %w", err)
		}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			// The caller's ctx may be done by now; the slot must go anyway
			// (or else wait out its lease).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = l.rdb.ZRem(rctx, l.slotsKey, holder).Err()
		})
	}
	return release, nil
}

func (l *RedisLimiter) waitRate(ctx context.Context) error {
	for {
		res, err := l.rate.Allow(ctx, l.rateKey, l.limit)
		if err != nil {
			return fmt.Errorf("accurate limiter: rate: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		if err := wait.Sleep(ctx, max(res.RetryAfter, time.Millisecond)); err != nil {
			return fmt.Errorf("accurate limiter: waiting for the rate: %w", err)
		}
	}
}

// pause spreads the waiters' polls so they do not hit Redis in step.
func (l *RedisLimiter) pause() time.Duration {
	p := l.Poll
	defaults.Positive(&p, 10*time.Millisecond)
	return p + rand.N(p)
}

func newHolderID() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
