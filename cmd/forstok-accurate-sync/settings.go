package main

import (
	"context"
	"fmt"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/fleet"
	"forstok-accurate-sync/mapping"
)

// settingsReads are the settings page's reads of a seller's own Accurate,
// through the seller's running client and so under its database's limiter.
type settingsReads struct{ f *fleet.Fleet }

// settingsCheckTimeout bounds the online check of a save: a seller's
// Accurate that does not answer by then leaves the offline rules only.
const settingsCheckTimeout = 20 * time.Second

func (r settingsReads) client(seller string) (*accurate.Client, error) {
	p, ok := r.f.Part(seller)
	if !ok {
		return nil, fmt.Errorf("seller %s has no Accurate client now: %w", seller, events.ErrNotFound)
	}
	return p.Client, nil
}

func (r settingsReads) Search(ctx context.Context, seller string, kind accurate.ListKind, q string, limit int) ([]accurate.Entity, bool, error) {
	c, err := r.client(seller)
	if err != nil {
		return nil, false, err
	}
	return c.Search(ctx, kind, q, limit)
}

func (r settingsReads) Missing(ctx context.Context, seller string, settings *mapping.Settings) ([]mapping.Problem, error) {
	c, err := r.client(seller)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, settingsCheckTimeout)
	defer cancel()
	return missingIn(ctx, c, settings)
}
