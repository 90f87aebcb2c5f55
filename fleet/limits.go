// Package fleet is the per-seller runtime: every seller's part built from
// its current configuration version (its worker, its Accurate client, the
// check of its credentials, its recovery after an Accurate outage), rebuilt
// when the version changes and dropped when the seller goes; and the
// seller's Accurate limits: which Redis key its limiter uses (one per
// Accurate database, so that sellers sharing a database share its 8
// requests a second across replicas), the database a token opens as host
// discovery last named it, and the limiter that moves to the database's key
// once it is known. The command only wires it.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/sellers"
)

// LimiterKey is where the service keeps a seller's Accurate limit: its
// database's when the seller's configuration names it, the namespace's own
// for the default seller, the seller's own otherwise (until discovery names
// the database).
func LimiterKey(ns string, s *sellers.Seller) string {
	switch {
	case s.Accurate.Database != "":
		return DatabaseLimiterKey(ns, s.Accurate.Database)
	case s.ID == sellers.DefaultID:
		return events.LimiterPrefix(ns)
	}
	return events.LimiterPrefix(ns) + ":seller:" + s.ID
}

// DatabaseLimiterKey is the limit of one Accurate database, shared by the
// sellers on it.
func DatabaseLimiterKey(ns, database string) string {
	return events.LimiterPrefix(ns) + ":db:" + database
}

// tokenDatabaseKey holds the id of the database an API token opens, as host
// discovery last named it. The token is hashed: a key name is no place
// for a secret.
func tokenDatabaseKey(ns, token string) string {
	sum := sha256.Sum256([]byte(token))
	return events.LimiterPrefix(ns) + ":token:" + hex.EncodeToString(sum[:16])
}

// tokenDatabaseTTL is how long a discovered database is remembered after
// its last discovery; a token moved to another database is found again on
// the next 308.
const tokenDatabaseTTL = 30 * 24 * time.Hour

// RememberDatabase records that token opens database id, for every replica.
func RememberDatabase(ctx context.Context, rdb redis.UniversalClient, ns, token, id string) error {
	if err := rdb.Set(ctx, tokenDatabaseKey(ns, token), id, tokenDatabaseTTL).Err(); err != nil {
		return fmt.Errorf("remembering the token's database: %w", err)
	}
	return nil
}

// KnownDatabase is the database an earlier discovery found for the token,
// "" when none did.
func KnownDatabase(ctx context.Context, rdb redis.UniversalClient, ns, token string) (string, error) {
	id, err := rdb.Get(ctx, tokenDatabaseKey(ns, token)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the token's database: %w", err)
	}
	return id, nil
}

// SellerLimiterKey is LimiterKey, or the database's key once a discovery
// (of any replica) has named the database the seller's token opens.
func SellerLimiterKey(ctx context.Context, rdb redis.UniversalClient, ns string, s *sellers.Seller) string {
	if s.Accurate.Database == "" {
		if id, err := KnownDatabase(ctx, rdb, ns, s.Accurate.APIToken); err == nil && id != "" {
			return DatabaseLimiterKey(ns, id)
		}
	}
	return LimiterKey(ns, s)
}

// DatabaseLimiter is a seller's limit: the Redis-shared limiter of its
// Accurate database, across replicas, under a key that discovery may
// change (from the seller's own to its database's).
type DatabaseLimiter struct {
	newLimiter func(key string) accurate.Limiter
	// known, when set, asks Redis for the database an earlier discovery
	// (this replica's or another's) found for the seller's token. It is
	// asked until the database is settled, so that host discovery itself
	// takes a slot of the database's limit, not of the seller's own.
	known   func(ctx context.Context) (key string, ok bool)
	mu      sync.Mutex
	key     string
	cur     accurate.Limiter
	settled bool
}

// NewDatabaseLimiter starts under key, making each key's limiter with
// newLimiter; known, when not nil, is asked for the database's key until it is
// settled.
func NewDatabaseLimiter(key string, newLimiter func(key string) accurate.Limiter, known func(ctx context.Context) (string, bool)) *DatabaseLimiter {
	d := &DatabaseLimiter{newLimiter: newLimiter, known: known}
	d.use(key)
	return d
}

func (d *DatabaseLimiter) use(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if key != d.key {
		d.key, d.cur = key, d.newLimiter(key)
	}
}

// Settle uses the database's key from now on.
func (d *DatabaseLimiter) Settle(key string) {
	d.use(key)
	d.mu.Lock()
	d.settled = true
	d.mu.Unlock()
}

// Key is the limiter's key now.
func (d *DatabaseLimiter) Key() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.key
}

// Acquire waits for room under the current key.
func (d *DatabaseLimiter) Acquire(ctx context.Context) (func(), error) {
	d.mu.Lock()
	ask := d.known != nil && !d.settled
	d.mu.Unlock()
	if ask {
		if key, ok := d.known(ctx); ok {
			d.Settle(key)
		}
	}
	d.mu.Lock()
	l := d.cur
	d.mu.Unlock()
	return l.Acquire(ctx)
}
