package events

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/queue"
)

// releaseScript takes an event back from a worker that no longer holds it,
// then (transitionLua) marks it queued. It releases nothing while the hold
// is there, nor an event a worker may have just taken: one not processing
// whose record changed after the cutoff. asynq's task goes from active back
// to pending (queue.TakeBackLua); a task waiting already stays.
// It answers "held" or "moved" when it released nothing, "lost" when the
// event is processing but its task is gone (or ended), 1 when it released.
// KEYS: transitionLua's, holder, then take_back's (Seller.TakeBackKeys).
// ARGV: transitionLua's; ARGV[7] is the cutoff (ms), ARGV[8] the task id.
var releaseScript = redis.NewScript(queue.TakeBackLua + `
if redis.call("EXISTS", KEYS[4]) == 1 then return "held" end
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "moved" end
if state ~= "processing" and tonumber(redis.call("HGET", KEYS[1], "updated_at")) > tonumber(ARGV[7]) then
  return "held"
end
local task = take_back(KEYS[5], KEYS[6], KEYS[7], KEYS[8], ARGV[8])
if task ~= "active" then
  if state ~= "processing" then return "moved" end
  if not waiting(task) then return "lost" end
end
` + transitionLua)

// release takes the event back from a worker that stopped holding it and
// queues it again; false when a worker holds it (or nothing needed doing).
func (s *Store) release(ctx context.Context, key string) (bool, error) {
	note := fmt.Sprintf("its worker stopped without finishing (no sign of it for %s: it died, or lost Redis); queued again", s.hold)
	keys := append([]string{s.recordKey(key), s.historyKey(key), s.indexPrefix(), s.queue.HolderKey(key)}, s.queue.TakeBackKeys(key)...)
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
		holders[i] = pipe.Exists(ctx, s.queue.HolderKey(k))
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

// Unlock deletes the lock key only while token is its holder's, for the
// locks kept beside the store (the order memory's): queue.Unlock.
func Unlock(ctx context.Context, rdb redis.UniversalClient, key, token string) error {
	return queue.Unlock(ctx, rdb, key, token)
}

// NewToken is a token for a lock kept beside the store: queue.NewToken.
func NewToken() string { return queue.NewToken() }
