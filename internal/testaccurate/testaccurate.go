// Package testaccurate is the tests' one way to stand up the project's
// accurate-sandbox over real HTTP and a client signed for it.
package testaccurate

import (
	"net/http/httptest"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
)

// The sandbox's credentials, made up for the tests.
const (
	Token  = "aat.SANDBOX-token-93ac"
	Secret = "sandbox-signature-secret-5e71"
)

// Serve serves sandbox.New(cfg) over HTTP until the test ends. cfg gets
// Token, Secret and the default seed where it leaves them out.
func Serve(t testing.TB, cfg sandbox.Config) (*sandbox.Server, *httptest.Server) {
	t.Helper()
	if cfg.APIToken == "" {
		cfg.APIToken = Token
	}
	if cfg.SignatureSecret == "" {
		cfg.SignatureSecret = Secret
	}
	if cfg.Seed.Customers == nil {
		cfg.Seed = sandbox.DefaultSeed()
	}
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv
}

// Client is an Accurate client of cfg, signed with Token and Secret where
// cfg leaves them out.
func Client(t testing.TB, cfg accurate.Config) *accurate.Client {
	t.Helper()
	if cfg.APIToken == "" {
		cfg.APIToken = Token
	}
	if cfg.SignatureSecret == "" {
		cfg.SignatureSecret = Secret
	}
	c, err := accurate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
