package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
)

// Events that wait (a payment or a return for its faktur, every event while
// Accurate is down) sleep in asynq's retry set with a backoff. These are the
// wake-ups that bring them forward as soon as what they wait for happens,
// so that waiting costs neither latency nor polls of Accurate.

// wakeBound is how long a wake-up keeps trying to run an event that is
// still in a worker's hands (it has just decided to wait and asynq has not
// put it in the retry set yet).
const wakeBound = 30 * time.Second

// AwaitFaktur registers the event key as waiting for faktur: WakeFaktur runs
// it when the faktur syncs.
func (s *Seller) AwaitFaktur(ctx context.Context, faktur, key string) error {
	pipe := s.q.rdb.TxPipeline()
	pipe.SAdd(ctx, s.waitersKey(faktur), key)
	pipe.Expire(ctx, s.waitersKey(faktur), s.q.cfg.Retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return Unavailable("await faktur "+faktur, err)
	}
	return nil
}

// WakeFaktur brings forward every event waiting for faktur, and forgets
// them; it returns how many there were. Each runs now, or in its seller's
// turn when the seller's share is full; an event still held by a worker is
// brought forward as soon as the worker lets it go (in the background,
// bounded).
func (s *Seller) WakeFaktur(ctx context.Context, faktur string) (int, error) {
	pipe := s.q.rdb.TxPipeline()
	members := pipe.SMembers(ctx, s.waitersKey(faktur))
	pipe.Del(ctx, s.waitersKey(faktur))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, Unavailable("wake the events waiting for faktur "+faktur, err)
	}
	keys := members.Val()
	var busy []string
	for _, key := range keys {
		done, err := s.runNow(ctx, key)
		switch {
		case err != nil:
			s.log.Warn("could not wake an event; it runs at its next retry", zap.String("event_key", key), zap.Error(err))
		case !done:
			busy = append(busy, key)
		}
	}
	if len(busy) > 0 {
		go s.runWhenFree(busy)
	}
	return len(keys), nil
}

// runWhenFree runs the events now held by workers once they are let go.
func (s *Seller) runWhenFree(keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), wakeBound)
	defer cancel()
	for len(keys) > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		left := keys[:0]
		for _, key := range keys {
			if done, err := s.runNow(ctx, key); err == nil && !done {
				left = append(left, key)
			}
		}
		keys = left
	}
}

// runNow brings the event's task forward from the retry (or scheduled) set
// through the seller's share (bringForward). done is false while a worker
// holds it. A task that is pending, finished or gone needs nothing.
func (s *Seller) runNow(ctx context.Context, key string) (done bool, err error) {
	id := s.taskID(key)
	info, err := s.q.inspector.GetTaskInfo(s.scope.queue, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read task %s: %w", id, err)
	}
	switch info.State {
	case asynq.TaskStateActive:
		return false, nil
	case asynq.TaskStateRetry, asynq.TaskStateScheduled:
	default:
		return true, nil // pending, or finished: running a completed task again would only repeat it
	}
	// Released in its turn; one that became active meanwhile is dropped
	// from the held list by the admission, and its worker's wait is its own.
	if err := s.bringForward(ctx, []string{id}); err != nil {
		return false, fmt.Errorf("run task %s: %w", id, err)
	}
	return true, nil
}

// downFor bounds the mark: events failing again set it again.
const downFor = time.Hour

// NoteAccurateDown marks this seller's Accurate as not answering.
func (s *Seller) NoteAccurateDown(ctx context.Context) error {
	if err := s.q.rdb.Set(ctx, s.downKey(), s.q.cfg.Now().UTC().Format(time.RFC3339), downFor).Err(); err != nil {
		return Unavailable("note Accurate down", err)
	}
	return nil
}

// AccurateDown reports whether a worker marked this seller's Accurate as not
// answering since the last recovery.
func (s *Seller) AccurateDown(ctx context.Context) (bool, error) {
	n, err := s.q.rdb.Exists(ctx, s.downKey()).Result()
	if err != nil {
		return false, Unavailable("is Accurate down", err)
	}
	return n > 0, nil
}

// retryPage is how many retry tasks RunRetries reads at once.
const retryPage = 1000

// RunRetries clears the mark of NoteAccurateDown and brings forward every
// event of this seller that waits in asynq's retry set, whatever its
// backoff (the other sellers' events keep theirs): up to the seller's share
// run now, the rest in turn as those end. It returns how many it brought
// forward. The mark
// goes first, so an event failing again meanwhile sets it again.
func (s *Seller) RunRetries(ctx context.Context) (int, error) {
	if err := s.q.rdb.Del(ctx, s.downKey()).Err(); err != nil {
		return 0, Unavailable("clear the Accurate down mark", err)
	}
	// The ids first, then the runs: running moves tasks out of the set
	// being paged through.
	var ids []string
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		tasks, err := s.q.inspector.ListRetryTasks(s.scope.queue, asynq.PageSize(retryPage), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, Unavailable("list the events waiting to retry", err)
		}
		for _, t := range tasks {
			if seller, _ := SplitTaskID(t.ID); seller == s.scope.seller {
				ids = append(ids, t.ID)
			}
		}
		if len(tasks) < retryPage {
			break
		}
	}
	if err := s.bringForward(ctx, ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}
