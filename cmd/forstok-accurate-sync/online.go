package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/sellers"
)

// check --online reads a handful of lists; it may share Accurate's limit
// with a running service, so it waits out a refusal for longer than the
// service's own reads do (about 4 to 8 s in all).
const (
	onlineReadAttempts  = 6
	onlineReadRetryBase = 250 * time.Millisecond
)

const allInAccurate = "Accurate has every customer, account, item, warehouse and branch the mapping names."

// checkOnline asks Accurate for its customers, GL accounts, items,
// warehouses and branches and returns every mapping entry it does not have,
// with its line and path, as the offline check reports problems. Its calls
// go through limiter, so that checking beside a running service never
// pushes the database over Accurate's limit.
func checkOnline(ctx context.Context, acc sellers.Accurate, limiter accurate.Limiter, settings *mapping.Settings) ([]mapping.Problem, error) {
	client, err := accurate.New(accurate.Config{
		AccountURL:      acc.AccountURL,
		Host:            acc.Host,
		APIToken:        acc.APIToken,
		SignatureSecret: acc.SignatureSecret,
		Limiter:         limiter,
		ReadAttempts:    onlineReadAttempts,
		ReadRetryBase:   onlineReadRetryBase,
	})
	if err != nil {
		return nil, fmt.Errorf("accurate client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	refs := settings.References()
	checks := []struct {
		what  string
		kind  accurate.ListKind
		byNo  bool
		refs  []mapping.Reference
		fixIt string
	}{
		{"customer", accurate.ListCustomers, true, refs.Customers, "create the customer in Accurate or correct the customer no"},
		{"bank account", accurate.ListGLAccounts, true, refs.Banks, "use the no of a Cash & Bank account"},
		{"GL account", accurate.ListGLAccounts, true, refs.Accounts, "create the account in Accurate or correct the account no"},
		{"item", accurate.ListItems, true, refs.Items, "create the item in Accurate or correct the item no"},
		{"warehouse", accurate.ListWarehouses, false, refs.Warehouses, "use the warehouse name exactly as Accurate shows it"},
		{"branch", accurate.ListBranches, false, refs.Branches, "use the branch name exactly as Accurate shows it"},
	}
	lists := map[accurate.ListKind][]accurate.Entity{}
	missing := &mapping.Problems{}
	for _, c := range checks {
		if len(c.refs) == 0 {
			continue
		}
		entities, ok := lists[c.kind]
		if !ok {
			if entities, err = client.List(ctx, c.kind); err != nil {
				return nil, fmt.Errorf("asking Accurate for its %s list: %w", c.kind, err)
			}
			lists[c.kind] = entities
		}
		known := map[string]bool{}
		for _, e := range entities {
			if c.byNo {
				known[e.No] = true
			} else {
				known[e.Name] = true
			}
		}
		for _, r := range c.refs {
			if !known[r.Value] {
				missing.List = append(missing.List, mapping.Problem{Path: r.Path, Line: r.Line,
					Message: fmt.Sprintf("%s %q is not in Accurate: %s", c.what, r.Value, c.fixIt)})
			}
		}
	}
	missing.SortByLine()
	return missing.List, nil
}

// onlineLimits hands out the service's limiters: in the configured Redis
// under the service's keys, or, without Redis, in an in-process Redis of
// its own, where the check paces itself alone.
type onlineLimits struct {
	rdb   redis.UniversalClient
	close func()
}

func openLimits(ctx context.Context, cfg config) (*onlineLimits, error) {
	if cfg.RedisURL == "" && len(cfg.RedisSentinelAddrs) == 0 && len(cfg.RedisClusterAddrs) == 0 {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, fmt.Errorf("starting the in-process limiter: %w", err)
		}
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		return &onlineLimits{rdb: rdb, close: func() { _ = rdb.Close(); mr.Close() }}, nil
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("check --online keeps to the service's shared Accurate limit in Redis, but Redis does not answer (%w): start it, or unset REDIS_URL to check alone", err)
	}
	return &onlineLimits{rdb: rdb, close: func() { _ = rdb.Close() }}, nil
}

// limiter is the limiter the service uses under key for acc's database.
func (l *onlineLimits) limiter(key string, acc sellers.Accurate) accurate.Limiter {
	return accurate.NewRedisLimiter(l.rdb, key, acc.RateLimit, acc.MaxConcurrency)
}

// sellerLimiter is the limiter the service uses for seller s: its
// database's, once a discovery has named it.
func (l *onlineLimits) sellerLimiter(ctx context.Context, ns string, s *sellers.Seller) accurate.Limiter {
	key := limiterKey(ns, s)
	if s.Accurate.Database == "" {
		if id, err := knownDatabase(ctx, l.rdb, ns, s.Accurate.APIToken); err == nil && id != "" {
			key = databaseLimiterKey(ns, id)
		}
	}
	return l.limiter(key, s.Accurate)
}

// limiterKey is where the service keeps a seller's Accurate limit: one per
// Accurate database, so that sellers sharing a database share its limit.
func limiterKey(ns string, s *sellers.Seller) string {
	switch {
	case s.Accurate.Database != "":
		return databaseLimiterKey(ns, s.Accurate.Database)
	case s.ID == sellers.DefaultID:
		return events.LimiterPrefix(ns)
	}
	return events.LimiterPrefix(ns) + ":seller:" + s.ID
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

func rememberDatabase(ctx context.Context, rdb redis.UniversalClient, ns, token, id string) error {
	if err := rdb.Set(ctx, tokenDatabaseKey(ns, token), id, tokenDatabaseTTL).Err(); err != nil {
		return fmt.Errorf("remembering the token's database: %w", err)
	}
	return nil
}

// knownDatabase is the database an earlier discovery found for the token,
// "" when none did.
func knownDatabase(ctx context.Context, rdb redis.UniversalClient, ns, token string) (string, error) {
	id, err := rdb.Get(ctx, tokenDatabaseKey(ns, token)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the token's database: %w", err)
	}
	return id, nil
}

// databaseLimiterKey is the limit of one Accurate database, shared by the
// sellers on it.
func databaseLimiterKey(ns, database string) string {
	return events.LimiterPrefix(ns) + ":db:" + database
}
