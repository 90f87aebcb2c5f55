package fleet

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"forstok-accurate-sync/accurate"
)

func TestCredentialsReadiness(t *testing.T) {
	refusal := &accurate.Error{Class: accurate.ClassAuth, Endpoint: "sales-invoice/list", Status: 401}
	t.Run("a refusal at start fails readiness naming the variables, and a later success clears it", func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		c := &credentials{log: zap.New(core), check: func(context.Context) error { return refusal }}
		c.checkOnce(context.Background())
		err := c.ready(context.Background())
		if err == nil || !strings.Contains(err.Error(), "ACCURATE_API_TOKEN") || !strings.Contains(err.Error(), "ACCURATE_SIGNATURE_SECRET") {
			t.Fatalf("ready = %v; want the refusal naming both variables", err)
		}
		if refused := logs.FilterLevelExact(zapcore.ErrorLevel).FilterMessageSnippet("ACCURATE_API_TOKEN"); refused.Len() != 1 {
			t.Errorf("log = %v; want an error line naming ACCURATE_API_TOKEN", logs.All())
		}
		c.observe("sales-invoice/save", "ok")
		if err := c.ready(context.Background()); err != nil {
			t.Errorf("ready after a success = %v; want nil", err)
		}
		if logs.FilterMessageSnippet("accepts the credentials again").Len() != 1 {
			t.Errorf("log = %v; want the recovery said", logs.All())
		}
	})
	t.Run("a worker's refused call fails readiness too", func(t *testing.T) {
		c := &credentials{log: zap.NewNop(), check: func(context.Context) error { return nil }}
		c.observe("sales-invoice/save", string(accurate.ClassAuth))
		if c.ready(context.Background()) == nil {
			t.Error("ready = nil after a 401; want the refusal")
		}
	})
	t.Run("an Accurate that does not answer is not a refusal", func(t *testing.T) {
		c := &credentials{log: zap.NewNop(), check: func(context.Context) error {
			return &accurate.Error{Class: accurate.ClassTransient, Endpoint: "sales-invoice/list", Status: 503}
		}}
		c.checkOnce(context.Background())
		if err := c.ready(context.Background()); err != nil {
			t.Errorf("ready = %v; want nil", err)
		}
	})
	t.Run("a check that Redis's limit stopped is not blamed on Accurate", func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		c := &credentials{log: zap.New(core), check: func(context.Context) error {
			return &accurate.Error{Class: accurate.ClassTransient, Endpoint: "customer/list", Err: fmt.Errorf("waiting for the rate limit: %w", accurate.ErrLimitUnavailable)}
		}}
		c.checkOnce(context.Background())
		if logs.FilterMessageSnippet("Accurate did not answer").Len() != 0 || logs.FilterMessageSnippet("Redis").Len() != 1 {
			t.Errorf("log = %v; want one line naming Redis, none blaming Accurate", logs.All())
		}
	})
}
