package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/queue"
)

// beginScript marks a record processing and counts the attempt
// (transitionLua), then answers its fields: one round trip.
var beginScript = redis.NewScript(historyLua + transitionBody + `return redis.call("HGETALL", KEYS[1])`)

// Begin marks an event as taken by a worker: the record is created from the
// task when intake could not write it, the state becomes processing and the
// attempt is counted.
func (s *Store) Begin(ctx context.Context, in Incoming) (Event, error) {
	keys := []string{s.recordKey(in.Key), s.historyKey(in.Key), s.indexPrefix()}
	args := s.transitionArgs(in.Key, change{state: StateProcessing, attempt: true}, 0, "")
	res, err := beginScript.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil && strings.Contains(err.Error(), "NOTFOUND") {
		// Intake could not write the record: the task has what it needs.
		if err := s.ensureRecord(ctx, in, StateQueued, "recorded by the worker"); err != nil {
			return Event{}, err
		}
		res, err = beginScript.Run(ctx, s.rdb, keys, args...).StringSlice()
	}
	switch {
	case err != nil && strings.Contains(err.Error(), "NOTFOUND"):
		return Event{}, fmt.Errorf("%s: %w", in.Key, ErrNotFound)
	case err != nil:
		return Event{}, unavailable("begin "+in.Key, err)
	}
	fields := make(map[string]string, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		fields[res[i]] = res[i+1]
	}
	return s.eventOf(ctx, in.Key, fields)
}

// Result is how an attempt ended.
type Result struct {
	State          string // synced, retrying, failed or voided
	Error          string // what went wrong, for retrying and failed; for voided, why
	AccurateID     int64
	AccurateNumber string
	NextAttemptAt  time.Time // for retrying
	VoidedBy       string    // for voided: the key of the invoice.voided event
	Note           string    // for synced: what else was done, for the history
	Failure        *Failure  // for failed: what to fix
}

// Finish records how an attempt ended.
func (s *Store) Finish(ctx context.Context, key string, r Result) error {
	r.Error = BoundNote(r.Error)
	// Only a failed event keeps a failure: any other end clears it.
	fields := map[string]string{"next_attempt_at": "", "failure": ""}
	note := r.Error
	switch r.State {
	case StateSynced:
		fields["last_error"] = ""
		fields["accurate_id"] = strconv.FormatInt(r.AccurateID, 10)
		fields["accurate_number"] = r.AccurateNumber
		note = "Accurate " + r.AccurateNumber
		if r.Note != "" {
			note += "; " + r.Note
		}
	case StateRetrying:
		fields["last_error"] = r.Error
		fields["next_attempt_at"] = strconv.FormatInt(r.NextAttemptAt.UnixMilli(), 10)
	case StateFailed:
		fields["last_error"] = r.Error
		fields["failure"] = encodeFailure(r.Failure)
	case StateVoided:
		fields["last_error"] = r.Error
		fields["voided_by"] = r.VoidedBy
		note = "voided by " + r.VoidedBy
		if r.Error != "" {
			note += ": " + r.Error
		}
	default:
		return fmt.Errorf("finish %s: %q is not a final state", key, r.State)
	}
	return s.transition(ctx, key, change{state: r.State, note: note, fields: fields})
}

// Replay queues a known event again, whatever its state, from the payload
// the store kept: ErrNotFound for an unknown key, ErrBusy while a worker
// holds it. A worker that died holding it blocks a replay only until its
// hold lapses (HoldTimeout). Safe because posting is idempotent at Accurate.
// What Accurate was found to lack is forgotten: the operator has usually
// just added it.
func (s *Store) Replay(ctx context.Context, key string) error {
	if err := s.forgetAllMissing(ctx); err != nil {
		return err
	}
	ev, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := refuseVoided(ev); err != nil {
		return err
	}
	return s.requeue(ctx, Incoming{Key: key, Type: ev.Type, Payload: ev.Payload}, "replayed by an operator")
}

// ReplayRaw queues an event from a body an operator supplies, even when its
// key was seen before (an event lost upstream or expired here).
func (s *Store) ReplayRaw(ctx context.Context, in Incoming) error {
	if err := s.forgetAllMissing(ctx); err != nil {
		return err
	}
	if err := s.indexOrders(ctx, in.Key, in.Orders); err != nil {
		return err
	}
	ev, err := s.Get(ctx, in.Key)
	switch {
	case errors.Is(err, ErrNotFound):
		if err := s.queue.Enqueue(ctx, in.Key, queue.TaskType, in.Payload); err != nil && !errors.Is(err, queue.ErrQueued) {
			return unavailable("queue "+in.Key, err)
		}
		return s.ensureRecord(ctx, in, StateQueued, "replayed from a body by an operator")
	case err != nil:
		return err
	}
	if err := refuseVoided(ev); err != nil {
		return err
	}
	busy, err := s.queue.Held(ctx, in.Key)
	switch {
	case err != nil:
		return err
	case busy:
		return fmt.Errorf("%s: %w", in.Key, ErrBusy)
	}
	if err := s.setPayload(ctx, in.Key, in.Payload); err != nil {
		return err
	}
	return s.requeue(ctx, in, "replayed from a body by an operator")
}

// refuseVoided keeps a voided invoice from being posted by a replay.
func refuseVoided(ev Event) error {
	if ev.State != StateVoided {
		return nil
	}
	return fmt.Errorf("%s was voided by %s and must never post; to book the sale after all, re-create the invoice in Forstok: %w",
		ev.Key, ev.VoidedBy, ErrVoided)
}

// requeue replaces the event's task with a fresh one (a fresh retry budget)
// and marks the record queued: ErrBusy while a worker holds the task.
func (s *Store) requeue(ctx context.Context, in Incoming, note string) error {
	err := s.queue.Delete(in.Key)
	if queue.IsActive(err) {
		// asynq still counts it running; it is, unless its worker stopped.
		released, rerr := s.release(ctx, in.Key)
		switch {
		case rerr != nil:
			return rerr
		case !released:
			return fmt.Errorf("%s: %w", in.Key, ErrBusy)
		}
		err = s.queue.Delete(in.Key)
	}
	switch {
	case err == nil:
	case queue.IsActive(err):
		return fmt.Errorf("%s: %w", in.Key, ErrBusy)
	default:
		return unavailable("replay "+in.Key, err)
	}
	if err := s.queue.Enqueue(ctx, in.Key, queue.TaskType, in.Payload); err != nil && !errors.Is(err, queue.ErrQueued) {
		// A conflict means a delivery queued it in between: queued all the same.
		return unavailable("replay "+in.Key, err)
	}
	return s.transition(ctx, in.Key, change{state: StateQueued, note: note,
		fields: map[string]string{"next_attempt_at": ""}})
}

// voidScript moves an event that has not posted (queued, retrying, failed)
// to voided in one step (transitionLua); any other state is left alone and
// returned. KEYS and ARGV: transitionLua's.
var voidScript = redis.NewScript(historyLua + `
local prior = redis.call("HGET", KEYS[1], "state")
if not prior then return "" end
if prior ~= "queued" and prior ~= "retrying" and prior ~= "failed" then return prior end
` + transitionBody + "return prior\n")

// VoidUnposted ends an event that has not posted in the state voided, by
// the event voidKey, and drops its queued task. It returns the state the
// event was in: "" when there is no such event, and any state but queued,
// retrying and failed (processing, synced, voided) unchanged.
func (s *Store) VoidUnposted(ctx context.Context, key, voidKey string) (previous string, err error) {
	reason := "its invoice was voided (" + voidKey + ") before its faktur was posted; nothing to do"
	keys := []string{s.recordKey(key), s.historyKey(key), s.indexPrefix()}
	c := change{state: StateVoided, note: "voided by " + voidKey, fields: map[string]string{
		"voided_by": voidKey, "last_error": reason, "next_attempt_at": "", "failure": ""}}
	old, err := voidScript.Run(ctx, s.rdb, keys, s.transitionArgs(key, c, 0, "")...).Text()
	if err != nil {
		return "", unavailable("void "+key, err)
	}
	if old == "queued" || old == "retrying" || old == "failed" {
		// The task would only find the void and stop; dropping it saves the
		// attempt. A task running right now cannot be deleted, and needs not be.
		if err := s.queue.Delete(key); err != nil && !queue.IsActive(err) {
			return old, unavailable("drop the task of "+key, err)
		}
	}
	return old, nil
}

// callSlot is the width of one slot of the Accurate request count.
const callSlot = 10 * time.Second

// CountAccurateCall counts one request of this seller to Accurate, for
// every replica to see; a slot of ten seconds lives a little over a minute.
func (s *Store) CountAccurateCall(ctx context.Context) error {
	key := s.callsKey(s.now().UnixNano() / int64(callSlot))
	pipe := s.rdb.Pipeline()
	pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, time.Minute+2*callSlot)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("count an Accurate request", err)
	}
	return nil
}

// AccurateCallsLastMinute is how many requests this seller made to
// Accurate in the last minute (by ten-second slots: the current one and
// the five before it), from every replica.
func (s *Store) AccurateCallsLastMinute(ctx context.Context) (int64, error) {
	now := s.now().UnixNano() / int64(callSlot)
	keys := make([]string, 0, 6)
	for i := int64(0); i < 6; i++ {
		keys = append(keys, s.callsKey(now-i))
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, unavailable("Accurate requests in the last minute", err)
	}
	var n int64
	for _, v := range vals {
		if str, ok := v.(string); ok {
			c, _ := strconv.ParseInt(str, 10, 64)
			n += c
		}
	}
	return n, nil
}
