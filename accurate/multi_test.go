package accurate_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
)

func TestSandboxDatabases(t *testing.T) {
	ctx := context.Background()
	cfg := func(token string) sandbox.Config {
		return sandbox.Config{APIToken: token, SignatureSecret: testaccurate.Secret, Seed: sandbox.DefaultSeed(), RateLimit: 8, MaxConcurrency: 8}
	}
	multi := sandbox.NewMulti(map[string]sandbox.Config{"a": cfg("token-a"), "b": cfg("token-b")})
	srv := httptest.NewServer(multi)
	t.Cleanup(srv.Close)
	client := func(token string) *accurate.Client {
		// Host discovery through the account URL: each token finds the
		// same address, which serves its own database.
		return testaccurate.Client(t, accurate.Config{AccountURL: srv.URL, APIToken: token})
	}

	t.Run("the same faktur number saved with two tokens is one document in each database", func(t *testing.T) {
		for _, token := range []string{"token-a", "token-b"} {
			if _, err := client(token).SaveSalesInvoice(ctx, shopeeInvoice()); err != nil {
				t.Fatalf("save with %s: %v", token, err)
			}
		}
		for _, name := range []string{"a", "b"} {
			if got := multi.Database(name).Invoices(); len(got) != 1 || got[0].Number != shopeeInvoice().Number {
				t.Errorf("database %s holds %d fakturs; want the one", name, len(got))
			}
		}
	})

	t.Run("a token of no database is refused as Accurate refuses it", func(t *testing.T) {
		_, err := client("token-c").SaveSalesInvoice(ctx, shopeeInvoice())
		if !accurate.IsAuth(err) {
			t.Errorf("save with an unknown token = %v; want an auth error", err)
		}
	})

	t.Run("a fault in one database leaves the other alone", func(t *testing.T) {
		multi.Database("a").SetFaults(sandbox.Faults{ErrorRate: 1})
		t.Cleanup(func() { multi.Database("a").SetFaults(sandbox.Faults{}) })
		if _, _, err := client("token-b").FindSalesInvoice(ctx, shopeeInvoice().Number); err != nil {
			t.Errorf("database b with a failing database a: %v", err)
		}
		if _, _, err := client("token-a").FindSalesInvoice(ctx, shopeeInvoice().Number); err == nil {
			t.Error("database a answered despite its fault")
		}
	})

	t.Run("each database's state is under /sandbox/db/<name>/", func(t *testing.T) {
		for path, want := range map[string]int{"/sandbox/db/a/state": 200, "/sandbox/databases": 200, "/sandbox/state": 404, "/sandbox/db/zz/state": 404} {
			resp, err := srv.Client().Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s = %d; want %d", path, resp.StatusCode, want)
			}
		}
	})
}

func TestDiscoveryNamesTheDatabase(t *testing.T) {
	cfg := func(token string, id int64) sandbox.Config {
		return sandbox.Config{APIToken: token, SignatureSecret: testaccurate.Secret, Seed: sandbox.DefaultSeed(), DatabaseID: id}
	}
	srv := httptest.NewServer(sandbox.NewMulti(map[string]sandbox.Config{"a": cfg("token-a", 0), "b": cfg("token-b", 0), "z": cfg("token-z", 4242)}))
	t.Cleanup(srv.Close)
	for token, want := range map[string]string{"token-a": "1", "token-b": "2", "token-z": "4242"} {
		t.Run("discovery with "+token+" names database "+want, func(t *testing.T) {
			var got string
			c := testaccurate.Client(t, accurate.Config{AccountURL: srv.URL, APIToken: token, OnDatabase: func(_ context.Context, id string) { got = id }})
			if _, _, err := c.FindSalesInvoice(context.Background(), "none"); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("OnDatabase heard %q; want %q", got, want)
			}
		})
	}
}

// countingLimiter counts the slots it gives.
type countingLimiter struct{ taken atomic.Int32 }

func (l *countingLimiter) Acquire(context.Context) (func(), error) {
	l.taken.Add(1)
	return func() {}, nil
}

func TestHostDiscoveryTakesASlotOfTheLimiter(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	limiter := &countingLimiter{}
	c := testaccurate.Client(t, accurate.Config{AccountURL: srv.URL, Limiter: limiter})
	if _, _, err := c.FindSalesInvoice(context.Background(), "none"); err != nil {
		t.Fatal(err)
	}
	calls := sb.Calls()
	if calls["api-token"] != 1 || calls["sales-invoice/list"] != 1 {
		t.Fatalf("Accurate served %v; want one api-token and one sales-invoice/list", calls)
	}
	if got := limiter.taken.Load(); got != 2 {
		t.Errorf("the limiter gave %d slots for 2 requests (discovery and the list); want 2: Accurate counts discovery against the database", got)
	}
}
