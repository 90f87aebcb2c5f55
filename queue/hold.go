package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// A worker holds the event it works on by a key of its own with a short
// expiry (HoldTimeout), renewed while it works. asynq leases the task too,
// but its lease (30 s) and its recoverer (every minute, for leases that ran
// out 30 s before) are constants: an event whose worker died, or whose end
// could not be written while Redis was away, would show processing and
// refuse a replay for up to two minutes. The hold tells within HoldTimeout
// that nobody works on the event any more; the release of abandoned events
// and a replay (the events package's, with TakeBackLua) then take the task
// back from asynq.

// unlockScript deletes a lock (a hold, the migration's lock) only while it
// is still the caller's.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`)

// Unlock deletes the lock key only while token is its holder's, for the
// locks kept beside the queue (the order memory's, the migration's).
func Unlock(ctx context.Context, rdb redis.UniversalClient, key, token string) error {
	return unlockScript.Run(ctx, rdb, []string{key}, token).Err()
}

// newToken tells one holder of a lock or an event from another.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// NewToken is a token for a lock kept beside the queue.
func NewToken() string { return newToken() }

// errHoldLost cancels the work of a worker whose hold lapsed.
var errHoldLost = errors.New("the hold on the event lapsed; another worker may have it now")

// renewScript extends a hold only while it is still the caller's.
var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0
`)

// Hold makes the caller the one worker on the event key until release is
// called; ErrBusy when another worker holds it. The hold is renewed every
// third of HoldTimeout. The context returned ends when the hold is found
// lapsed (Redis was out of reach for longer than HoldTimeout, and the event
// may have been given to another worker): the work must stop there.
func (s *Seller) Hold(ctx context.Context, key string) (held context.Context, release func(), err error) {
	token := newToken()
	ok, err := s.q.rdb.SetNX(ctx, s.holderKey(key), token, s.q.cfg.HoldTimeout).Result()
	if err != nil {
		return nil, nil, Unavailable("hold "+key, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", key, ErrBusy)
	}
	held, lose := context.WithCancelCause(ctx)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		s.renew(held, key, token, lose, stop)
	}()
	return held, func() {
		close(stop)
		<-stopped
		lose(nil)
		// Redis away: the hold lapses on its own.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = unlockScript.Run(bg, s.q.rdb, []string{s.holderKey(key)}, token).Err()
	}, nil
}

func (s *Seller) renew(ctx context.Context, key, token string, lose context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(s.q.cfg.HoldTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := renewScript.Run(ctx, s.q.rdb, []string{s.holderKey(key)}, token, s.q.cfg.HoldTimeout.Milliseconds()).Int()
		if err != nil {
			continue // Redis away: renewed when it answers, unless the hold lapses first
		}
		if n == 0 {
			s.log.Warn("this worker's hold on the event lapsed (Redis was out of reach); it stops, and the event runs again",
				zap.String("event_key", key), zap.Duration("hold_timeout", s.q.cfg.HoldTimeout))
			lose(errHoldLost)
			return
		}
	}
}

// Held tells whether a worker holds the event now.
func (s *Seller) Held(ctx context.Context, key string) (bool, error) {
	n, err := s.q.rdb.Exists(ctx, s.holderKey(key)).Result()
	if err != nil {
		return false, Unavailable("holder of "+key, err)
	}
	return n == 1, nil
}

// TakeBackLua defines take_back(task, active, lease, pending, id): it moves
// the task id, whose hash is task, from asynq's active list back to its
// pending list as asynq's own requeue does, if it is active, and answers
// the state the task was in (false: no task). waiting(state) tells a state
// in which the task waits to run (pending, scheduled, retry).
const TakeBackLua = `
local function take_back(task, active, lease, pending, id)
  local state = redis.call("HGET", task, "state")
  if state ~= "active" then return state end
  redis.call("LREM", active, 0, id)
  redis.call("ZREM", lease, id)
  redis.call("RPUSH", pending, id)
  redis.call("HSET", task, "state", "pending")
  return state
end
local function waiting(state)
  return state == "pending" or state == "scheduled" or state == "retry"
end
`

// TakeBackKeys are take_back's task, active, lease and pending keys of the
// seller's event key.
func (s *Seller) TakeBackKeys(key string) []string {
	return []string{TaskKey(s.scope.queue, s.taskID(key)), s.asynqKey("active"), s.asynqKey("lease"), s.asynqKey("pending")}
}

// recoverTaken queues again the events of every shard whose task a worker
// took and whose server has not renewed asynq's lease on it for a hold
// timeout, when no worker holds them: a replica killed between taking a
// task and holding its event leaves it active with its record still
// queued, which the release of abandoned events (it looks at the events
// shown processing) does not see, and asynq would take back only when its lease ran out and
// its recoverer passed (30 s, then up to a minute). One bounded
// ZRANGEBYSCORE a shard finds them: a running task's lease is always
// further ahead. It returns the task ids it queued again.
func (q *Queue) recoverTaken(ctx context.Context) ([]string, error) {
	if q.cfg.Release == nil {
		return nil, nil // nothing to take them back with: asynq's lease does
	}
	stale := strconv.FormatInt(q.cfg.Now().Add(Lease-q.cfg.HoldTimeout).Unix(), 10)
	pipe := q.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, q.cfg.Layout.Shards)
	for n := range cmds {
		cmds[n] = pipe.ZRangeByScore(ctx, AsynqKey(q.cfg.Layout.Queue(n), "lease"), &redis.ZRangeBy{Min: "-inf", Max: stale, Count: rearmBatch})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, Unavailable("tasks whose lease is not renewed", err)
	}
	var released []string
	for _, c := range cmds {
		for _, id := range c.Val() {
			ok, err := q.cfg.Release(ctx, id)
			if err != nil {
				return released, err
			}
			if ok {
				released = append(released, id)
			}
		}
	}
	return released, nil
}
