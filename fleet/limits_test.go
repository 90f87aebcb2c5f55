package fleet_test

import (
	"context"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/fleet"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/sellers"
)

func seller(id, database, token string) *sellers.Seller {
	s := &sellers.Seller{ID: id}
	s.Accurate.Database, s.Accurate.APIToken = database, token
	return s
}

func TestLimiterKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seller *sellers.Seller
		want   string
	}{
		{"a seller whose file names its database shares that database's limit", seller("toko-a", "7", "aat.a"), "ns:accurate:db:7"},
		{"the default seller keeps the namespace's limit", seller(sellers.DefaultID, "", "aat.d"), "ns:accurate"},
		{"another seller has its own until its database is known", seller("toko-b", "", "aat.b"), "ns:accurate:seller:toko-b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fleet.LimiterKey("ns", tc.seller); got != tc.want {
				t.Errorf("LimiterKey = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTheDatabaseATokenOpensIsRememberedForEveryReplica(t *testing.T) {
	r := testredis.New(t)
	rdb := r.Client(t)
	ctx := t.Context()
	s := seller("toko-b", "", "aat.secret-token")
	t.Run("before any discovery the seller keeps its own key", func(t *testing.T) {
		if id, err := fleet.KnownDatabase(ctx, rdb, r.Namespace, s.Accurate.APIToken); err != nil || id != "" {
			t.Fatalf("KnownDatabase = %q, %v", id, err)
		}
		if got := fleet.SellerLimiterKey(ctx, rdb, r.Namespace, s); got != fleet.LimiterKey(r.Namespace, s) {
			t.Errorf("key %q", got)
		}
	})
	if err := fleet.RememberDatabase(ctx, rdb, r.Namespace, s.Accurate.APIToken, "9"); err != nil {
		t.Fatal(err)
	}
	t.Run("after one the database's key is used", func(t *testing.T) {
		if got := fleet.SellerLimiterKey(ctx, rdb, r.Namespace, s); got != fleet.DatabaseLimiterKey(r.Namespace, "9") {
			t.Errorf("key %q", got)
		}
	})
	t.Run("the token is not in any key name", func(t *testing.T) {
		keys, err := rdb.Keys(ctx, r.Namespace+":*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.Contains(k, "secret-token") {
				t.Errorf("key %q holds the token", k)
			}
		}
	})
}

// keyedLimiter records which key's limiter was asked.
type keyedLimiter struct {
	key  string
	used *[]string
}

func (l keyedLimiter) Acquire(context.Context) (func(), error) {
	*l.used = append(*l.used, l.key)
	return func() {}, nil
}

func TestDatabaseLimiterMovesToTheDatabaseOnceKnown(t *testing.T) {
	var used []string
	newLimiter := func(key string) accurate.Limiter { return keyedLimiter{key: key, used: &used} }
	database := ""
	asked := 0
	known := func(context.Context) (string, bool) {
		asked++
		return database, database != ""
	}
	d := fleet.NewDatabaseLimiter("own", newLimiter, known)
	acquire := func() {
		t.Helper()
		if _, err := d.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	acquire()
	database = "db:7"
	acquire()
	acquire()
	if want := []string{"own", "db:7", "db:7"}; strings.Join(used, ",") != strings.Join(want, ",") {
		t.Errorf("acquired under %v, want %v", used, want)
	}
	if asked != 2 {
		t.Errorf("the database was asked %d times; want until it is known (2)", asked)
	}
	d.Settle("db:8")
	acquire()
	if d.Key() != "db:8" || used[len(used)-1] != "db:8" {
		t.Errorf("after Settle the key is %q, last used %q", d.Key(), used[len(used)-1])
	}
}
