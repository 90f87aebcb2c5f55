package worker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/internal/wait"
)

// DefaultProbeEvery is how often Recover looks at Accurate while a worker
// has marked it down.
const DefaultProbeEvery = 2 * time.Second

// Recover runs, until ctx ends, the recovery after an outage of Accurate:
// while a worker has marked Accurate down (a 5xx, a timeout, a broken
// connection), it asks Accurate every interval whether it answers, and on
// the first answer runs every retrying event of the seller now. Without it
// the events would wait out backoffs that grew during the outage (up to
// RetryCap) after Accurate is back.
func (w *Worker) Recover(ctx context.Context, every time.Duration) {
	defaults.Positive(&every, DefaultProbeEvery)
	wait.Every(ctx, every, func() { w.recoverOnce(ctx) })
}

func (w *Worker) recoverOnce(ctx context.Context) {
	down, err := w.Wakes.AccurateDown(ctx)
	if err != nil || !down {
		return
	}
	if err := w.Probe.CheckCredentials(ctx); err != nil {
		return // still down, or refusing the credentials: the events' own retries report it
	}
	if w.Outage != nil {
		w.Outage.Up()
	}
	n, err := w.Wakes.RunRetries(ctx)
	if err != nil {
		w.Logger.Warn("Accurate answers again, but the retrying events could not be run now; they wait out their backoff", zap.Error(err))
		return
	}
	w.Logger.Info("Accurate answers again: retrying events run now", zap.Int("events", n))
}
