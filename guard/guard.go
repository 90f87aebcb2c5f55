// Package guard keeps, in Redis so that every replica sees the same, what
// stands between a stranger and the operators' routes: the count of failed
// authentications by client address and in total, and the console
// sessions ended before their time.
package guard

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// PerClient is how many failed authentications one address may make in
	// Window before it is refused (429) until the window ends.
	PerClient = 10
	// InTotal is the same for all addresses together: a spread-out guess
	// from many addresses is slowed too.
	InTotal = 300
	// Window is the period the failures are counted over.
	Window = time.Minute
)

// Guard counts failures and remembers revoked sessions under a namespace.
type Guard struct {
	rdb       redis.UniversalClient
	ns        string
	perClient int64
	inTotal   int64
}

// New keeps its keys under namespace (REDIS_NAMESPACE).
func New(rdb redis.UniversalClient, namespace string) *Guard {
	return &Guard{rdb: rdb, ns: namespace, perClient: PerClient, inTotal: InTotal}
}

// WithLimits is New with other limits, for tests.
func (g *Guard) WithLimits(perClient, inTotal int) *Guard {
	c := *g
	c.perClient, c.inTotal = int64(perClient), int64(inTotal)
	return &c
}

// The keys: one hash-tag so that a Redis Cluster keeps a client's counter
// and the total in one slot, for one pipeline.
func (g *Guard) clientKey(addr string) string { return g.ns + ":{guard}:authfail:" + addr }
func (g *Guard) totalKey() string             { return g.ns + ":{guard}:authfail" }
func (g *Guard) sessionKey(id string) string  { return g.ns + ":{guard}:revoked:" + id }

// Blocked tells how long addr must wait before trying again, zero when it
// may try now: it or everyone together failed too often in the window.
func (g *Guard) Blocked(ctx context.Context, addr string) (time.Duration, error) {
	pipe := g.rdb.Pipeline()
	client, clientTTL := pipe.Get(ctx, g.clientKey(addr)), pipe.PTTL(ctx, g.clientKey(addr))
	total, totalTTL := pipe.Get(ctx, g.totalKey()), pipe.PTTL(ctx, g.totalKey())
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return 0, fmt.Errorf("read failed authentications: %w", err)
	}
	var wait time.Duration
	if n, _ := client.Int64(); n >= g.perClient {
		wait = max(wait, clientTTL.Val())
	}
	if n, _ := total.Int64(); n >= g.inTotal {
		wait = max(wait, totalTTL.Val())
	}
	return wait, nil
}

// Failed counts one failed authentication from addr.
func (g *Guard) Failed(ctx context.Context, addr string) error {
	pipe := g.rdb.TxPipeline()
	for _, key := range []string{g.clientKey(addr), g.totalKey()} {
		pipe.Incr(ctx, key)
		// The window starts at the first failure (NX): failing again does
		// not push its end further away.
		pipe.ExpireNX(ctx, key, Window)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("count a failed authentication: %w", err)
	}
	return nil
}

// Revoke ends session id (a console session's nonce) on every replica,
// remembered until it would have expired anyway.
func (g *Guard) Revoke(ctx context.Context, id string, until time.Time) error {
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil
	}
	if err := g.rdb.Set(ctx, g.sessionKey(id), 1, ttl).Err(); err != nil {
		return fmt.Errorf("end the session: %w", err)
	}
	return nil
}

// Revoked tells whether session id was ended.
func (g *Guard) Revoked(ctx context.Context, id string) (bool, error) {
	n, err := g.rdb.Exists(ctx, g.sessionKey(id)).Result()
	if err != nil {
		return false, fmt.Errorf("check the session: %w", err)
	}
	return n > 0, nil
}
