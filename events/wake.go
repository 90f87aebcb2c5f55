package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

func (s *Store) waitersKey(faktur string) string { return s.keyPrefix + ":waiters:faktur:" + faktur }

// AwaitFaktur registers the event key as waiting for faktur: WakeFaktur runs
// it when the faktur syncs.
func (s *Store) AwaitFaktur(ctx context.Context, faktur, key string) error {
	pipe := s.rdb.TxPipeline()
	pipe.SAdd(ctx, s.waitersKey(faktur), key)
	pipe.Expire(ctx, s.waitersKey(faktur), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("await faktur "+faktur, err)
	}
	return nil
}

// WakeFaktur runs now every event waiting for faktur, and forgets them; it
// returns how many there were. An event still held by a worker is run as
// soon as the worker lets it go (in the background, bounded).
func (s *Store) WakeFaktur(ctx context.Context, faktur string) (int, error) {
	pipe := s.rdb.TxPipeline()
	members := pipe.SMembers(ctx, s.waitersKey(faktur))
	pipe.Del(ctx, s.waitersKey(faktur))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, unavailable("wake the events waiting for faktur "+faktur, err)
	}
	keys := members.Val()
	var busy []string
	for _, key := range keys {
		done, err := s.runNow(key)
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
func (s *Store) runWhenFree(keys []string) {
	deadline := time.Now().Add(wakeBound)
	for len(keys) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		left := keys[:0]
		for _, key := range keys {
			if done, err := s.runNow(key); err == nil && !done {
				left = append(left, key)
			}
		}
		keys = left
	}
}

// runNow moves the event's task from the retry (or scheduled) set to the
// queue. done is false while a worker holds it. A task that is pending,
// finished or gone needs nothing.
func (s *Store) runNow(key string) (done bool, err error) {
	id := s.taskID(key)
	info, err := s.inspector.GetTaskInfo(s.ns, id)
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
	err = s.inspector.RunTask(s.ns, id)
	switch {
	case err == nil, errors.Is(err, asynq.ErrTaskNotFound):
		return true, nil
	case strings.Contains(err.Error(), "already running"):
		return false, nil
	case strings.Contains(err.Error(), "already in pending"):
		return true, nil
	}
	return false, fmt.Errorf("run task %s: %w", id, err)
}

// downKey marks this seller's Accurate as not answering: a worker sets it
// when a call meets a 5xx, a timeout or a broken connection, and the
// recovery probe looks at Accurate while it is there.
func (s *Store) downKey() string { return s.keyPrefix + ":accurate:down" }

// downFor bounds the mark: events failing again set it again.
const downFor = time.Hour

// NoteAccurateDown marks this seller's Accurate as not answering.
func (s *Store) NoteAccurateDown(ctx context.Context) error {
	if err := s.rdb.Set(ctx, s.downKey(), s.now().UTC().Format(time.RFC3339), downFor).Err(); err != nil {
		return unavailable("note Accurate down", err)
	}
	return nil
}

// AccurateDown reports whether a worker marked this seller's Accurate as not
// answering since the last recovery.
func (s *Store) AccurateDown(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.downKey()).Result()
	if err != nil {
		return false, unavailable("is Accurate down", err)
	}
	return n > 0, nil
}

// retryPage is how many retry tasks RunRetries reads at once.
const retryPage = 1000

// RunRetries clears the mark of NoteAccurateDown and runs now every event
// of this seller that waits in asynq's retry set, whatever its backoff (the
// other sellers' events keep theirs); it returns how many it ran. The mark
// goes first, so an event failing again meanwhile sets it again.
func (s *Store) RunRetries(ctx context.Context) (int, error) {
	if err := s.rdb.Del(ctx, s.downKey()).Err(); err != nil {
		return 0, unavailable("clear the Accurate down mark", err)
	}
	// The ids first, then the runs: running moves tasks out of the set
	// being paged through.
	var ids []string
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		tasks, err := s.inspector.ListRetryTasks(s.ns, asynq.PageSize(retryPage), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, unavailable("list the events waiting to retry", err)
		}
		for _, t := range tasks {
			if seller, _ := SplitTaskID(t.ID); seller == s.seller {
				ids = append(ids, t.ID)
			}
		}
		if len(tasks) < retryPage {
			break
		}
	}
	ran := 0
	for _, id := range ids {
		err := s.inspector.RunTask(s.ns, id)
		switch {
		case err == nil:
			ran++
		case errors.Is(err, asynq.ErrTaskNotFound), strings.Contains(err.Error(), "already"):
			// Run by its own backoff or a wake-up meanwhile.
		default:
			return ran, unavailable("run the events waiting to retry", err)
		}
	}
	return ran, nil
}
