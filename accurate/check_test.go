package accurate_test

import (
	"context"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
)

func TestCheckCredentials(t *testing.T) {
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	t.Run("the right token and secret are accepted and no document is touched", func(t *testing.T) {
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
		if err := c.CheckCredentials(context.Background()); err != nil {
			t.Fatalf("CheckCredentials = %v; want nil", err)
		}
		for endpoint, n := range sb.Calls() {
			if endpoint != "customer/list" && n > 0 {
				t.Errorf("the check called %s", endpoint)
			}
		}
	})
	t.Run("a wrong token is ClassAuth", func(t *testing.T) {
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL, APIToken: "aat.wrong"})
		if err := c.CheckCredentials(context.Background()); !accurate.IsAuth(err) {
			t.Fatalf("CheckCredentials = %v; want ClassAuth", err)
		}
	})
}
