package accurate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
)

func TestSearchingMasterData(t *testing.T) {
	ctx := context.Background()
	_, srv := testaccurate.Serve(t, sandbox.Config{})
	c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	numbers := func(rows []accurate.Entity) []string {
		var out []string
		for _, e := range rows {
			out = append(out, e.No+" "+e.Name+" "+e.Type)
		}
		return out
	}
	t.Run("words find accounts by name, with their names and types", func(t *testing.T) {
		rows, more, err := c.Search(ctx, accurate.ListGLAccounts, "layanan", 200)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"610202 Biaya Layanan Marketplace EXPENSE"}; more || !slices.Equal(numbers(rows), want) {
			t.Fatalf("got %q more=%v, want %q", numbers(rows), more, want)
		}
	})
	t.Run("a limit stops the list and says more match", func(t *testing.T) {
		rows, more, err := c.Search(ctx, accurate.ListGLAccounts, "biaya", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || !more {
			t.Fatalf("got %q more=%v", numbers(rows), more)
		}
	})
	t.Run("items carry their item type", func(t *testing.T) {
		rows, _, err := c.Search(ctx, accurate.ListItems, "topi", 200)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"BRG-TOPI-01 Topi Baseball INVENTORY"}; !slices.Equal(numbers(rows), want) {
			t.Fatalf("got %q", numbers(rows))
		}
	})

	// A database of 250 accounts, behind a server that drops the keywords
	// filter as Accurate drops filters it does not know.
	seed := sandbox.DefaultSeed()
	for i := range 250 {
		seed.Accounts = append(seed.Accounts, fmt.Sprintf("7%05d", i))
	}
	sb := sandbox.New(sandbox.Config{APIToken: testaccurate.Token, SignatureSecret: testaccurate.Secret, Seed: seed})
	deaf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Del("filter.keywords.op")
		q.Del("filter.keywords.val")
		r.URL.RawQuery = q.Encode()
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(deaf.Close)
	d := testaccurate.Client(t, accurate.Config{Host: deaf.URL})
	t.Run("every page is read when nothing is asked", func(t *testing.T) {
		rows, more, err := d.Search(ctx, accurate.ListGLAccounts, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(seed.Accounts)+len(seed.Banks) || more {
			t.Fatalf("%d rows, more=%v", len(rows), more)
		}
	})
	t.Run("rows a server returns despite the filter are not taken as matches", func(t *testing.T) {
		rows, _, err := d.Search(ctx, accurate.ListGLAccounts, "700249", 200)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"700249 700249 OTHER_INCOME"}; !slices.Equal(numbers(rows), want) {
			t.Fatalf("got %q", numbers(rows))
		}
	})
}
