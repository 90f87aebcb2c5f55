package fleet_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/fleet"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/sellers"
)

const (
	sbToken  = "aat.fleet-test-token"
	sbSecret = "fleet-test-signature-secret"
)

// newFleet runs the fleet of the environment's one seller against a real
// Redis and the accurate-sandbox over HTTP, signing with token.
func newFleet(t *testing.T, token string) (*fleet.Fleet, testredis.Redis) {
	t.Helper()
	_, srv := testaccurate.Serve(t, sandbox.Config{APIToken: sbToken, SignatureSecret: sbSecret})
	settings := fixtures.Settings(t)
	r := testredis.New(t)
	rdb := r.Client(t)
	reg := sellers.Fixed(&sellers.Seller{ID: sellers.DefaultID, Name: sellers.DefaultID, Mapping: settings, Version: "environment",
		Accurate: sellers.Accurate{Host: srv.URL, APIToken: token, SignatureSecret: sbSecret}})
	store := events.New(rdb, events.Config{Namespace: r.Namespace})
	f := fleet.New(fleet.Config{Sellers: reg, Events: store, Redis: rdb, Namespace: r.Namespace})
	return f, r
}

func TestTheFleetRunsEachSellersPart(t *testing.T) {
	f, r := newFleet(t, sbToken)

	t.Run("a configured seller has a worker, a client and its database's limiter", func(t *testing.T) {
		p, ok := f.Part(sellers.DefaultID)
		if !ok || p.Worker == nil || p.Client == nil {
			t.Fatalf("part of the default seller = %+v, %v; want a working part", p, ok)
		}
		if got, want := p.Limiter.Key(), events.LimiterPrefix(r.Namespace); got != want {
			t.Errorf("limiter key %q; want the namespace's own %q", got, want)
		}
		if _, ok := f.Worker(sellers.DefaultID); !ok {
			t.Error("the router finds no worker for the default seller")
		}
	})
	t.Run("a seller that is not configured has no part, so its events wait", func(t *testing.T) {
		if _, ok := f.Worker("toko-nobody"); ok {
			t.Error("an unknown seller has a worker")
		}
		if _, ok := f.Intake("toko-nobody"); ok {
			t.Error("an unknown seller's webhooks are taken")
		}
	})
	t.Run("a part is built once per version, not on every look", func(t *testing.T) {
		a, _ := f.Part(sellers.DefaultID)
		b, _ := f.Part(sellers.DefaultID)
		if a != b {
			t.Error("the part was rebuilt though the seller's version did not change")
		}
	})
	t.Run("credentials Accurate accepts leave the service ready", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); f.Run(ctx) }()
		defer func() { cancel(); <-done }()
		time.Sleep(300 * time.Millisecond)
		if err := f.Ready(t.Context()); err != nil {
			t.Errorf("ready = %v; want nil", err)
		}
	})
}

func TestRefusedCredentialsMakeTheOneSellerUnready(t *testing.T) {
	f, _ := newFleet(t, "aat.not-the-sellers-token")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for f.Ready(t.Context()) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the service is still ready 10 s after Accurate refused its token")
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := f.Ready(t.Context())
	if !strings.Contains(err.Error(), "ACCURATE_API_TOKEN") {
		t.Errorf("ready = %v; want the refusal naming ACCURATE_API_TOKEN", err)
	}
	if words := f.Refused(sellers.DefaultID); !strings.Contains(words, "ACCURATE_API_TOKEN") {
		t.Errorf("refused = %q; want the refusal for the sellers' page", words)
	}
}
