package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate"
	fleetpkg "forstok-accurate-sync/fleet"
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
	return missingIn(ctx, client, settings)
}

// missingIn is every entry of settings that the client's Accurate lacks.
func missingIn(ctx context.Context, client *accurate.Client, settings *mapping.Settings) ([]mapping.Problem, error) {
	var err error
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
	return l.limiter(fleetpkg.SellerLimiterKey(ctx, l.rdb, ns, s), s.Accurate)
}
