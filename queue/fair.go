package queue

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// Fair scheduling. Every seller's events share one asynq queue, first in
// first out; left alone, a seller with 20,000 events queued would hold
// every other seller's events behind its backlog, and the workers would all
// wait on its Accurate limit. So at most Share of a seller's events are
// released (pending or active in asynq) at a time; the rest are held.
//
// Every event is enqueued as an asynq task scheduled SafetyNet ahead (asynq's
// atomic enqueue by task id stays the idempotency step), then admitted: one
// Lua script puts it on its seller's held list and releases the seller's
// oldest held events while fewer than Share are released, moving each from
// asynq's scheduled set to its pending list as asynq's RunTask does. A lone
// event of an idle seller is released at once. When a released event ends
// (Done), the same script releases its seller's next held event; on every
// tick, the dispatcher of each replica runs it for every seller with held
// events: the pending list interleaves the sellers, so one seller's backlog
// delays nobody else's events.
//
// The script is the only place that releases, so replicas never release
// more than Share between them. Nothing is lost: a held event is an asynq
// task due SafetyNet ahead, re-armed while it is held, so if no dispatcher
// ran (or a crash came between the enqueue and the admission) asynq runs it
// by itself. A released entry whose end was never told (a worker killed) is
// dropped after ReleasedBound, so a crash cannot leak a seller's capacity.

// Defaults of the fair scheduling.
const (
	// DefaultShare is how many of one seller's events are released at a
	// time: two bulk requests' worth (accurate.MaxBulk), which one seller
	// drains as fast as with no share at all (100 halved its drain: each
	// wave of releases waited for the one before), and half the workers of
	// one replica (worker.DefaultConcurrency), so a second seller always
	// finds workers free.
	DefaultShare = 200
	// DefaultSafetyNet is how far ahead a held event's task is due: asynq
	// runs it then if no dispatcher released it first.
	DefaultSafetyNet = 10 * time.Minute
	// DefaultReleasedBound is how long a released event counts against its
	// seller's share when its end is never told.
	DefaultReleasedBound = 5 * time.Minute
	// dispatchBatch bounds the sellers one pipeline of the dispatcher asks.
	dispatchBatch = 500
	// rearmBatch bounds the held events one re-arm script touches.
	rearmBatch = 1000
)

// readySellers are the sellers with held events, of every shard: one
// SMEMBERS a shard, in one pipeline.
func (q *Queue) readySellers(ctx context.Context) ([]string, error) {
	pipe := q.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, q.cfg.Layout.Shards)
	for n := range cmds {
		cmds[n] = pipe.SMembers(ctx, q.cfg.Layout.ReadyKey(n))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, Unavailable("sellers with held events", err)
	}
	var sellers []string
	for _, c := range cmds {
		sellers = append(sellers, c.Val()...)
	}
	return sellers, nil
}

// AdmitLua defines admit(ids): it adds ids to the seller's held events and
// releases the oldest held ones while fewer than the share are released; a
// new id goes straight to asynq's pending list when nothing of the seller's
// is held and the share has room. A held task is scheduled (a new event,
// due at its safety net) or in the retry set (a retry brought forward: a
// wake-up, Accurate back). A held id whose task is neither any more (run by
// its safety net or its backoff, a replay, or gone) is dropped without
// counting. A released entry older than the cutoff (its end never told)
// does not count, and goes when the share is full. When some are held
// already, ids join them without a count of the released: there is no room
// then, and the dispatcher's tick (admit with no ids) fills any that a held
// id gone or a stale released entry leaves. admit answers how many it
// released.
// KEYS: released, held, ready, asynq scheduled, asynq pending, asynq retry.
// ARGV: share, now (ms), released cutoff (ms), seller, asynq task key prefix.
const AdmitLua = `
local function admit(ids)
  local now = tonumber(ARGV[2])
  local held = redis.call("ZCARD", KEYS[2])
  if held > 0 and #ids > 0 then
    -- Events held already mean no room: every end releases the next held
    -- one into its place. New ones wait behind them, without counting the
    -- released (the busy intake's case); the dispatcher's tick counts
    -- them and fills any room a stale released entry leaves. The seller
    -- is on the ready set already: whatever holds an event puts it there
    -- in the same step, and only an admission that leaves none held takes
    -- it off.
    for _, id in ipairs(ids) do
      redis.call("ZADD", KEYS[2], "NX", now, id)
    end
    return 0
  end
  local free = tonumber(ARGV[1]) - redis.call("ZCOUNT", KEYS[1], ARGV[3], "+inf")
  if free <= 0 and redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[3]) > 0 then
    free = tonumber(ARGV[1]) - redis.call("ZCARD", KEYS[1])
  end
  local wasHeld = held > 0
  local n = 0
  local function release(id)
    local tk = ARGV[5] .. id
    local state = redis.call("HGET", tk, "state")
    if state ~= "scheduled" and state ~= "retry" then return end
    if state == "scheduled" then
      redis.call("ZREM", KEYS[4], id)
    else
      redis.call("ZREM", KEYS[6], id)
    end
    redis.call("LPUSH", KEYS[5], id)
    redis.call("HSET", tk, "state", "pending")
    redis.call("ZADD", KEYS[1], now, id)
    free = free - 1
    n = n + 1
  end
  for _, id in ipairs(ids) do
    if held == 0 and free > 0 then
      release(id)
    else
      held = held + redis.call("ZADD", KEYS[2], "NX", now, id)
    end
  end
  while free > 0 and held > 0 do
    local top = redis.call("ZPOPMIN", KEYS[2])
    if #top == 0 then break end
    held = held - 1
    release(top[1])
  end
  -- The ready set holds the sellers with held events; a dispatch (no ids)
  -- also mends it should it have drifted.
  if held > 0 then
    redis.call("SADD", KEYS[3], ARGV[4])
  elseif wasHeld or #ids == 0 then
    redis.call("SREM", KEYS[3], ARGV[4])
  end
  return n
end
`

// admitScript runs admit with ids ARGV[6..] (none: a dispatch).
// KEYS and ARGV[1..5]: AdmitLua's.
var admitScript = redis.NewScript(AdmitLua + `
local ids = {}
for i = 6, #ARGV do
  if ARGV[i] ~= "" then ids[#ids + 1] = ARGV[i] end
end
return admit(ids)
`)

// doneScript frees the place of the released task ARGV[6], then releases
// the seller's next held events into the room. KEYS and ARGV[1..5]:
// AdmitLua's.
var doneScript = redis.NewScript(AdmitLua + `
redis.call("ZREM", KEYS[1], ARGV[6])
if redis.call("ZCARD", KEYS[2]) == 0 then return 0 end
return admit({})
`)

// rearmScript moves the safety net of held events ARGV[2..] to ARGV[1]
// (unix seconds, asynq's scheduled score), if they are still scheduled.
// KEYS: asynq scheduled.
var rearmScript = redis.NewScript(`
for i = 2, #ARGV do
  redis.call("ZADD", KEYS[1], "XX", "GT", ARGV[1], ARGV[i])
end
return #ARGV - 1
`)

// AdmitKeys are AdmitLua's KEYS of this seller; AdmitArgsAt its ARGV.
func (s *Seller) AdmitKeys() []string {
	return []string{s.releasedKey(), s.heldKey(), s.readyKey(), s.asynqKey("scheduled"), s.asynqKey("pending"), s.asynqKey("retry")}
}

func (s *Seller) admitArgs(ids ...string) []any { return s.AdmitArgsAt(s.q.cfg.Now(), ids...) }

// AdmitArgsAt are AdmitLua's ARGV at the time now, then ids.
func (s *Seller) AdmitArgsAt(now time.Time, ids ...string) []any {
	args := []any{s.q.cfg.Share, now.UnixMilli(), now.Add(-s.q.cfg.ReleasedBound).UnixMilli(), s.scope.seller, s.asynqKey("t:")}
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// admit holds the event's task (enqueued scheduled SafetyNet ahead) and
// releases this seller's events while it is under its share.
func (s *Seller) admit(ctx context.Context, key string) error {
	if err := admitScript.Run(ctx, s.q.rdb, s.AdmitKeys(), s.admitArgs(s.taskID(key))...).Err(); err != nil {
		return Unavailable("admit "+key, err)
	}
	return nil
}

// bringForward holds the events of task ids waiting in asynq's retry set
// (or held already, scheduled) and releases them as the seller's share has
// room: a retry brought forward (a wake-up, Accurate back) takes its turn
// like a new event, so a seller whose thousands of retries come due at once
// holds up no other seller. Those not released yet keep their backoff as
// their safety net. Batches are as large as a re-arm's, to bound one script.
func (s *Seller) bringForward(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		batch := ids[:min(len(ids), rearmBatch)]
		ids = ids[len(batch):]
		if err := admitScript.Run(ctx, s.q.rdb, s.AdmitKeys(), s.admitArgs(batch...)...).Err(); err != nil {
			return Unavailable("bring retries forward", err)
		}
	}
	return nil
}

// Done frees the place of the event among its seller's released events
// and releases the seller's next held events in its place: the worker tells
// it when an attempt ended (synced, failed, voided, or retrying later).
// Each seller's own ends release its own held events, so nothing needs to
// look at the other sellers (a Cluster's shards) on every end; the
// dispatcher's tick catches up on the rest.
func (s *Seller) Done(ctx context.Context, key string) error {
	if err := doneScript.Run(ctx, s.q.rdb, s.AdmitKeys(), s.admitArgs(s.taskID(key))...).Err(); err != nil {
		return Unavailable("done "+key, err)
	}
	return nil
}

// Dispatch releases held events of every seller with some, every tick,
// until ctx ends; every replica runs it. It
// re-arms the safety net of held events every third of SafetyNet.
func (q *Queue) Dispatch(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	lastRearm, lastRecover := q.cfg.Now(), q.cfg.Now()
	for {
		if q.cfg.Now().Sub(lastRecover) >= q.cfg.HoldTimeout/2 {
			if n, err := q.recoverStranded(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("look for events no admission holds; tried again shortly (they run by their safety net otherwise)", zap.Error(err))
			} else {
				lastRecover = q.cfg.Now()
				if n > 0 {
					q.log.Warn("events accepted as a replica stopped, before their admission, are held again for their turn", zap.Int("events", n))
				}
			}
			taken, err := q.recoverTaken(ctx)
			if err != nil && ctx.Err() == nil {
				q.log.Warn("look for events taken by a replica that stopped; tried again shortly (asynq takes them back after its lease otherwise)", zap.Error(err))
			}
			for _, id := range taken {
				seller, key := SplitTaskID(id)
				q.log.Warn("event queued again: the replica that took it stopped before it began (killed, or lost Redis)",
					zap.String("seller", seller), zap.String("event_key", key), zap.Duration("hold_timeout", q.cfg.HoldTimeout))
			}
		}
		if err := q.dispatchOnce(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("release held events; tried again at the next tick (held events run by their safety net otherwise)", zap.Error(err))
		}
		if q.cfg.Now().Sub(lastRearm) >= q.cfg.SafetyNet/3 {
			if err := q.rearm(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("re-arm the safety net of held events; tried again shortly", zap.Error(err))
			} else {
				lastRearm = q.cfg.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// strandedScript puts back on their seller's held list the scheduled tasks
// ARGV[3..] that no seller's admission holds nor released: a replica killed
// between an event's enqueue and its admission left it to its safety net
// alone (minutes). It adds their sellers to the shard's ready set, for the
// dispatcher to release them in turn, and answers how many it put back.
// KEYS: the shard's ready set, asynq's scheduled set.
// ARGV: now (ms), the shard's key prefix, task ids.
var strandedScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local seller, prefix = "default", ARGV[2]
  local slash = string.find(id, "/", 1, true)
  if slash then
    seller = string.sub(id, 1, slash - 1)
    prefix = prefix .. ":s:" .. seller
  end
  if redis.call("ZSCORE", prefix .. ":fair:held", id) == false and
     redis.call("ZSCORE", prefix .. ":fair:released", id) == false and
     redis.call("ZSCORE", KEYS[2], id) ~= false then
    redis.call("ZADD", prefix .. ":fair:held", ARGV[1], id)
    redis.call("SADD", KEYS[1], seller)
    n = n + 1
  end
end
return n
`)

// recoverStranded holds again, for their turn, the events of every shard
// that were enqueued at least a hold timeout ago and never admitted (their
// replica died in between), so that they run within about HoldTimeout
// rather than at their safety net. A held event's safety net is re-armed
// ahead, so the stranded ones are among the earliest due: one bounded
// ZRANGEBYSCORE a shard finds them.
func (q *Queue) recoverStranded(ctx context.Context) (int, error) {
	// Enqueued at most now - hold: due at most now + safetyNet - hold.
	due := strconv.FormatInt(q.cfg.Now().Add(q.cfg.SafetyNet-q.cfg.HoldTimeout).Unix(), 10)
	pipe := q.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, q.cfg.Layout.Shards)
	for n := range cmds {
		cmds[n] = pipe.ZRangeByScore(ctx, AsynqKey(q.cfg.Layout.Queue(n), "scheduled"), &redis.ZRangeBy{Min: "-inf", Max: due, Count: rearmBatch})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, Unavailable("events due soonest", err)
	}
	total := 0
	for n, c := range cmds {
		if len(c.Val()) == 0 {
			continue
		}
		args := []any{q.cfg.Now().UnixMilli(), q.cfg.Layout.ShardPrefix(n)}
		for _, id := range c.Val() {
			args = append(args, id)
		}
		got, err := strandedScript.Run(ctx, q.rdb, []string{q.cfg.Layout.ReadyKey(n), AsynqKey(q.cfg.Layout.Queue(n), "scheduled")}, args...).Int()
		if err != nil {
			return total, Unavailable("hold again the events no admission holds", err)
		}
		total += got
	}
	return total, nil
}

// dispatchOnce runs the admission of every seller with held events: one
// pipeline per batch of sellers, so a pass costs the sellers with work, not
// the sellers configured.
func (q *Queue) dispatchOnce(ctx context.Context) error {
	sellers, err := q.readySellers(ctx)
	if err != nil {
		return err
	}
	if len(sellers) == 0 {
		return nil
	}
	if err := admitScript.Load(ctx, q.rdb).Err(); err != nil {
		return Unavailable("load the admission script", err)
	}
	for len(sellers) > 0 {
		batch := sellers[:min(len(sellers), dispatchBatch)]
		sellers = sellers[len(batch):]
		pipe := q.rdb.Pipeline()
		for _, id := range batch {
			st := q.Seller(id)
			admitScript.EvalSha(ctx, pipe, st.AdmitKeys(), st.admitArgs()...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return Unavailable("release held events", err)
		}
	}
	return nil
}

// rearm pushes the safety net of every held event SafetyNet ahead again, so
// that a backlog longer than SafetyNet is not run all at once by asynq.
func (q *Queue) rearm(ctx context.Context) error {
	sellers, err := q.readySellers(ctx)
	if err != nil {
		return err
	}
	due := strconv.FormatInt(q.cfg.Now().Add(q.cfg.SafetyNet).Unix(), 10)
	for _, id := range sellers {
		st := q.Seller(id)
		for start := int64(0); ; start += rearmBatch {
			ids, err := q.rdb.ZRange(ctx, st.heldKey(), start, start+rearmBatch-1).Result()
			if err != nil {
				return Unavailable("held events of seller "+id, err)
			}
			if len(ids) == 0 {
				break
			}
			args := make([]any, 0, len(ids)+1)
			args = append(args, due)
			for _, id := range ids {
				args = append(args, id)
			}
			if err := rearmScript.Run(ctx, q.rdb, []string{st.asynqKey("scheduled")}, args...).Err(); err != nil {
				return Unavailable("re-arm held events of seller "+id, err)
			}
			if len(ids) < rearmBatch {
				break
			}
		}
	}
	return nil
}

// Fairness is what GET /admin/sellers and tests see of a seller's share:
// its events released now and held.
type Fairness struct {
	Released int64
	Held     int64
}

// Fairness counts the seller's released and held events, for views that
// read every seller's from the namespace's queue.
func (q *Queue) Fairness(ctx context.Context, seller string) (Fairness, error) {
	return q.Seller(seller).Fairness(ctx)
}

// Fairness counts this seller's released and held events.
func (s *Seller) Fairness(ctx context.Context) (Fairness, error) {
	pipe := s.q.rdb.Pipeline()
	r := pipe.ZCount(ctx, s.releasedKey(), strconv.FormatInt(s.q.cfg.Now().Add(-s.q.cfg.ReleasedBound).UnixMilli(), 10), "+inf")
	h := pipe.ZCard(ctx, s.heldKey())
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Fairness{}, Unavailable("fairness", err)
	}
	return Fairness{Released: r.Val(), Held: h.Val()}, nil
}
