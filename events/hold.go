package events

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

	"forstok-accurate-sync/queue"
)

// A worker holds the event it works on by a key of its own with a short
// expiry (HoldTimeout), renewed while it works. asynq leases the task too,
// but its lease (30 s) and its recoverer (every minute, for leases that ran
// out 30 s before) are constants: an event whose worker died, or whose end
// could not be written while Redis was away, would show processing and
// refuse a replay for up to two minutes. The hold tells within HoldTimeout
// that nobody works on the event any more; ReleaseAbandoned and a replay
// then take the task back from asynq.

// unlockScript deletes a lock (a hold, the migration's lock) only while it
// is still the caller's.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`)

// Unlock deletes the lock key only while token is its holder's, for the
// locks kept beside the store (the order memory's).
func Unlock(ctx context.Context, rdb redis.UniversalClient, key, token string) error {
	return unlockScript.Run(ctx, rdb, []string{key}, token).Err()
}

// newToken tells one holder of a lock or an event from another.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// NewToken is a token for a lock kept beside the store.
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
func (s *Store) Hold(ctx context.Context, key string) (held context.Context, release func(), err error) {
	token := newToken()
	ok, err := s.rdb.SetNX(ctx, s.holderKey(key), token, s.hold).Result()
	if err != nil {
		return nil, nil, unavailable("hold "+key, err)
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
		_ = unlockScript.Run(bg, s.rdb, []string{s.holderKey(key)}, token).Err()
	}, nil
}

func (s *Store) renew(ctx context.Context, key, token string, lose context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(s.hold / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := renewScript.Run(ctx, s.rdb, []string{s.holderKey(key)}, token, s.hold.Milliseconds()).Int()
		if err != nil {
			continue // Redis away: renewed when it answers, unless the hold lapses first
		}
		if n == 0 {
			s.log.Warn("this worker's hold on the event lapsed (Redis was out of reach); it stops, and the event runs again",
				zap.String("event_key", key), zap.Duration("hold_timeout", s.hold))
			lose(errHoldLost)
			return
		}
	}
}

// held tells whether a worker holds the event now.
func (s *Store) held(ctx context.Context, key string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.holderKey(key)).Result()
	if err != nil {
		return false, unavailable("holder of "+key, err)
	}
	return n == 1, nil
}

// releaseScript takes an event back from a worker that no longer holds it,
// then (transitionLua) marks it queued. It releases nothing while the hold
// is there, nor an event a worker may have just taken: one not processing
// whose record changed after the cutoff. asynq's task goes from active back
// to pending as asynq's own requeue moves it; a task waiting already stays.
// It answers "held" or "moved" when it released nothing, "lost" when the
// event is processing but its task is gone (or ended), 1 when it released.
// KEYS: transitionLua's, holder, asynq's task hash, active, lease, pending.
// ARGV: transitionLua's; ARGV[7] is the cutoff (ms), ARGV[8] the task id.
var releaseScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[4]) == 1 then return "held" end
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "moved" end
if state ~= "processing" and tonumber(redis.call("HGET", KEYS[1], "updated_at")) > tonumber(ARGV[7]) then
  return "held"
end
local id = ARGV[8]
local task = redis.call("HGET", KEYS[5], "state")
if task == "active" then
  redis.call("LREM", KEYS[6], 0, id)
  redis.call("ZREM", KEYS[7], id)
  redis.call("RPUSH", KEYS[8], id)
  redis.call("HSET", KEYS[5], "state", "pending")
elseif state ~= "processing" then
  return "moved"
elseif task ~= "pending" and task ~= "scheduled" and task ~= "retry" then
  return "lost"
end
` + transitionLua)

// release takes the event back from a worker that stopped holding it and
// queues it again; false when a worker holds it (or nothing needed doing).
func (s *Store) release(ctx context.Context, key string) (bool, error) {
	note := fmt.Sprintf("its worker stopped without finishing (no sign of it for %s: it died, or lost Redis); queued again", s.hold)
	keys := []string{s.recordKey(key), s.historyKey(key), s.indexPrefix(), s.holderKey(key),
		s.asynqKey("t:" + s.taskID(key)), s.asynqKey("active"), s.asynqKey("lease"), s.asynqKey("pending")}
	c := change{state: StateQueued, note: note, fields: map[string]string{"next_attempt_at": ""}}
	res, err := releaseScript.Run(ctx, s.rdb, keys, s.transitionArgs(key, c, s.now().Add(-s.hold).UnixMilli(), s.taskID(key))...).Result()
	if err != nil {
		return false, unavailable("release "+key, err)
	}
	switch res {
	case "held", "moved":
		return false, nil
	case "lost":
		// Redis came back without the task (or it ended while the record
		// did not): queue it anew from the record.
		ev, err := s.Get(ctx, key)
		if err != nil {
			return false, err
		}
		return true, s.requeue(ctx, Incoming{Key: key, Type: ev.Type, Payload: ev.Payload}, note+" (its task was gone)")
	}
	return true, nil
}

// ReleaseAbandoned queues again every event of the sellers shown
// processing that no worker holds any more (its worker died, or could not
// write how the event ended while Redis was away), and returns their task
// ids (SplitTaskID tells the seller and the key). Every replica runs it now
// and then; a release is one atomic step, so only one of them takes an
// event back.
func (ns *Namespace) ReleaseAbandoned(ctx context.Context, sellers []string) ([]string, error) {
	var released []string
	for _, id := range sellers {
		st := ns.Seller(id)
		keys, err := st.releaseAbandoned(ctx)
		for _, k := range keys {
			released = append(released, st.taskID(k))
		}
		if err != nil {
			return released, fmt.Errorf("seller %s: %w", id, err)
		}
	}
	return released, nil
}

// releaseAbandoned is ReleaseAbandoned for this seller: it returns the
// keys it queued again.
func (s *Store) releaseAbandoned(ctx context.Context) ([]string, error) {
	keys, err := s.rdb.ZRange(ctx, s.indexKey(StateProcessing), 0, 999).Result()
	if err != nil {
		return nil, unavailable("list processing", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	holders := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		holders[i] = pipe.Exists(ctx, s.holderKey(k))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("holders", err)
	}
	var released []string
	for i, k := range keys {
		if holders[i].Val() == 1 {
			continue
		}
		ok, err := s.release(ctx, k)
		if err != nil {
			return released, err
		}
		if ok {
			released = append(released, k)
		}
	}
	return released, nil
}

// recoverTaken queues again the events of every shard whose task a worker
// took and whose server has not renewed asynq's lease on it for a hold
// timeout, when no worker holds them: a replica killed between taking a
// task and holding its event leaves it active with its record still
// queued, which ReleaseAbandoned (it looks at the events shown processing)
// does not see, and asynq would take back only when its lease ran out and
// its recoverer passed (30 s, then up to a minute). One bounded
// ZRANGEBYSCORE a shard finds them: a running task's lease is always
// further ahead. It returns the task ids it queued again.
func (ns *Namespace) recoverTaken(ctx context.Context) ([]string, error) {
	stale := strconv.FormatInt(ns.now().Add(queue.Lease-ns.hold).Unix(), 10)
	pipe := ns.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, ns.layout.Shards)
	for n := range cmds {
		cmds[n] = pipe.ZRangeByScore(ctx, queue.AsynqKey(ns.layout.Queue(n), "lease"), &redis.ZRangeBy{Min: "-inf", Max: stale, Count: rearmBatch})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("tasks whose lease is not renewed", err)
	}
	var released []string
	for _, c := range cmds {
		for _, id := range c.Val() {
			seller, key := queue.SplitTaskID(id)
			ok, err := ns.Seller(seller).release(ctx, key)
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
