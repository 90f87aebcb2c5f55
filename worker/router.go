package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/queue"
)

// Router is the asynq handler of a deployment with several sellers: a task
// id names its seller (queue.TaskID), and the task goes to the worker of
// that seller's configuration as it is now, so a changed mapping or token
// applies to the events processed after the change.
type Router struct {
	// Worker is the worker of the seller's current configuration; false
	// when the seller is not configured now (removed, or its file was never
	// valid).
	Worker func(seller string) (*Worker, bool)
	// Absent is how long an event of a seller that is not configured waits
	// before it is tried again: it is kept, never failed, and goes on once
	// the seller is back. Default one minute.
	Absent time.Duration
	// RetryBase and RetryCap shape the backoff of failures outside a
	// worker's own decisions. Defaults DefaultRetryBase, DefaultRetryCap.
	RetryBase, RetryCap time.Duration
	Logger              *zap.Logger
}

// absentError tells asynq to try an event of an absent seller later.
type absentError struct{ seller string }

func (e *absentError) Error() string {
	return "seller " + e.seller + " is not configured now (its file was removed or has never been valid): " +
		"the event is kept and goes on when the seller's file is back and valid"
}

// ProcessTask hands the task to its seller's worker.
func (r *Router) ProcessTask(ctx context.Context, t *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	seller, key := queue.SplitTaskID(id)
	w, ok := r.Worker(seller)
	if !ok {
		if r.Logger != nil {
			r.Logger.Info("event of a seller that is not configured waits", zap.String("seller", seller),
				zap.String("event_key", key), zap.Duration("in", r.absent()))
		}
		return &absentError{seller: seller}
	}
	return w.processKey(ctx, key, t)
}

func (r *Router) absent() time.Duration {
	if r.Absent > 0 {
		return r.Absent
	}
	return time.Minute
}

// RetryDelay is the asynq.RetryDelayFunc of a Router.
func (r *Router) RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var re *retryError
	var ae *absentError
	switch {
	case errors.As(err, &re):
		return re.delay
	case errors.As(err, &ae):
		return r.absent()
	}
	base, ceiling := r.RetryBase, r.RetryCap
	defaults.Positive(&base, DefaultRetryBase)
	defaults.Positive(&ceiling, DefaultRetryCap)
	return backoff(base, ceiling, n)
}

// IsFailure is the asynq IsFailure of a Router: an event waiting for its
// seller to come back does not use up its attempts, so it has them all
// when the seller returns.
func (r *Router) IsFailure(err error) bool {
	var ae *absentError
	return err != nil && !errors.As(err, &ae)
}
