package testaccurate_test

import (
	"context"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testaccurate"
)

func TestServe(t *testing.T) {
	t.Run("a client of the served sandbox is let in and sees the default seed", func(t *testing.T) {
		sb, srv := testaccurate.Serve(t, sandbox.Config{})
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL})
		if _, ok, err := c.FindSalesInvoice(context.Background(), "none"); err != nil || ok {
			t.Fatalf("find = %v, %v; want not found and no error", ok, err)
		}
		if n := sb.Calls()["unauthorized"]; n != 0 {
			t.Errorf("the sandbox refused %d signatures", n)
		}
	})
	t.Run("a client with another token is refused", func(t *testing.T) {
		_, srv := testaccurate.Serve(t, sandbox.Config{})
		c := testaccurate.Client(t, accurate.Config{Host: srv.URL, APIToken: "aat.other"})
		if _, _, err := c.FindSalesInvoice(context.Background(), "none"); err == nil {
			t.Error("a wrong token was let in")
		}
	})
}
