package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// What the store remembers about fakturs and orders beyond single events,
// for voids and returns: which invoices were voided and by which event,
// which penerimaan of this service paid a faktur, which invoice.created
// posted a faktur, what each retur gave back, and short locks and claims
// so that concurrent workers do one thing once.

func (s *Store) voidKey(invoiceID int64) string {
	return fmt.Sprintf("%s:void:%d", s.keyPrefix, invoiceID)
}
func (s *Store) paidByKey(faktur string) string   { return s.keyPrefix + ":paidby:" + faktur }
func (s *Store) settlesKey(receipt string) string { return s.keyPrefix + ":settles:" + receipt }
func (s *Store) postedByKey(faktur string) string { return s.keyPrefix + ":postedby:" + faktur }
func (s *Store) returnedKey(faktur string) string { return s.keyPrefix + ":returned:" + faktur }
func (s *Store) lockKey(name string) string       { return s.keyPrefix + ":lock:" + name }
func (s *Store) doneKey(name string) string       { return s.keyPrefix + ":done:" + name }

// MarkVoided records that an invoice was voided by the event voidKey, so
// that its invoice.created never posts and a payment of it fails at once.
func (s *Store) MarkVoided(ctx context.Context, invoiceID int64, voidKey string) error {
	if err := s.rdb.Set(ctx, s.voidKey(invoiceID), voidKey, s.retention).Err(); err != nil {
		return unavailable("mark invoice voided", err)
	}
	return nil
}

// VoidOf is the key of the event that voided an invoice; ok is false when
// it was not voided.
func (s *Store) VoidOf(ctx context.Context, invoiceID int64) (voidKey string, ok bool, err error) {
	v, err := s.rdb.Get(ctx, s.voidKey(invoiceID)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, unavailable("read void", err)
	}
	return v, true, nil
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
	keys := []string{s.recordKey(key), s.historyKey(key), s.keyPrefix + ":index:"}
	c := change{state: StateVoided, note: "voided by " + voidKey, fields: map[string]string{
		"voided_by": voidKey, "last_error": reason, "next_attempt_at": "", "failure": ""}}
	old, err := voidScript.Run(ctx, s.rdb, keys, s.transitionArgs(key, c, 0, "")...).Text()
	if err != nil {
		return "", unavailable("void "+key, err)
	}
	if old == "queued" || old == "retrying" || old == "failed" {
		// The task would only find the void and stop; dropping it saves the
		// attempt. A task running right now cannot be deleted, and needs not be.
		if err := s.inspector.DeleteTask(s.queueName, s.taskID(key)); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) &&
			!errors.Is(err, asynq.ErrQueueNotFound) && !isActiveTaskError(err) {
			return old, unavailable("drop the task of "+key, err)
		}
	}
	return old, nil
}

// NotePaid records that the penerimaan receipt (of this service) settles
// the fakturs: each faktur's penerimaan, so that a void finds it, and the
// penerimaan's fakturs, so that a void decides from this record (and
// Accurate's confirmation of it) whether the penerimaan may go.
func (s *Store) NotePaid(ctx context.Context, receipt string, fakturs []string) error {
	pipe := s.rdb.TxPipeline()
	pipe.Del(ctx, s.settlesKey(receipt))
	if len(fakturs) > 0 {
		pipe.SAdd(ctx, s.settlesKey(receipt), anys(fakturs)...)
		pipe.Expire(ctx, s.settlesKey(receipt), s.retention)
	}
	for _, f := range fakturs {
		pipe.SAdd(ctx, s.paidByKey(f), receipt)
		pipe.Expire(ctx, s.paidByKey(f), s.retention)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("note penerimaan "+receipt, err)
	}
	return nil
}

// PaidBy lists the penerimaan of this service that settle a faktur.
func (s *Store) PaidBy(ctx context.Context, faktur string) ([]string, error) {
	v, err := s.rdb.SMembers(ctx, s.paidByKey(faktur)).Result()
	if err != nil {
		return nil, unavailable("penerimaan of "+faktur, err)
	}
	return v, nil
}

// Settles lists the fakturs the penerimaan receipt settles, as recorded
// when this service posted it; ok is false when there is no such record (a
// penerimaan this service did not post, or posted before the record was
// kept, or forgotten after the retention).
func (s *Store) Settles(ctx context.Context, receipt string) (fakturs []string, ok bool, err error) {
	v, err := s.rdb.SMembers(ctx, s.settlesKey(receipt)).Result()
	if err != nil {
		return nil, false, unavailable("fakturs of "+receipt, err)
	}
	return v, len(v) > 0, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return out
}

// ForgetFaktur drops what the store remembers of a faktur whose figures
// changed in Accurate (a retur, a void): its total and who paid it, so that
// what it owes is asked of Accurate.
func (s *Store) ForgetFaktur(ctx context.Context, faktur string) error {
	if err := s.rdb.Del(ctx, s.fakturKey(faktur)).Err(); err != nil {
		return unavailable("forget faktur "+faktur, err)
	}
	return nil
}

// NotePosted records which invoice.created event posted a faktur, so that a
// return finds the faktur's lines as they were posted.
func (s *Store) NotePosted(ctx context.Context, faktur, eventKey string) error {
	if err := s.rdb.Set(ctx, s.postedByKey(faktur), eventKey, s.retention).Err(); err != nil {
		return unavailable("note faktur "+faktur, err)
	}
	return nil
}

// PostedBy is the key of the invoice.created that posted a faktur; ok is
// false when this service did not post it (or has forgotten).
func (s *Store) PostedBy(ctx context.Context, faktur string) (eventKey string, ok bool, err error) {
	v, err := s.rdb.Get(ctx, s.postedByKey(faktur)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, unavailable("faktur "+faktur, err)
	}
	return v, true, nil
}

// RecordReturn keeps what the retur number gave back of a faktur (opaque to
// the store); recording the same retur again replaces it.
func (s *Store) RecordReturn(ctx context.Context, faktur, number string, what []byte) error {
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.returnedKey(faktur), number, what)
	pipe.Expire(ctx, s.returnedKey(faktur), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("record retur "+number, err)
	}
	return nil
}

// ReturnsOf lists what each recorded retur of a faktur gave back, by number.
func (s *Store) ReturnsOf(ctx context.Context, faktur string) (map[string][]byte, error) {
	v, err := s.rdb.HGetAll(ctx, s.returnedKey(faktur)).Result()
	if err != nil {
		return nil, unavailable("returns of "+faktur, err)
	}
	out := make(map[string][]byte, len(v))
	for k, x := range v {
		out[k] = []byte(x)
	}
	return out, nil
}

// unlockScript deletes a lock only while it is still the caller's.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`)

// Lock takes the lock name for at most ttl, across every replica; ok is
// false when another holder has it. unlock releases it (only if still ours).
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error) {
	token := newToken()
	ok, err = s.rdb.SetNX(ctx, s.lockKey(name), token, ttl).Result()
	if err != nil {
		return nil, false, unavailable("lock "+name, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		// A lock left behind expires with its ttl.
		_ = unlockScript.Run(context.WithoutCancel(ctx), s.rdb, []string{s.lockKey(name)}, token).Err()
	}, true, nil
}

// newToken tells one holder of a lock or an event from another.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// MarkDone records that the one-time action name happened (an item
// created in Accurate), for every replica to see.
func (s *Store) MarkDone(ctx context.Context, name string) error {
	if err := s.rdb.Set(ctx, s.doneKey(name), 1, s.retention).Err(); err != nil {
		return unavailable("mark "+name, err)
	}
	return nil
}

// IsDone reports whether MarkDone(name) happened.
func (s *Store) IsDone(ctx context.Context, name string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.doneKey(name)).Result()
	if err != nil {
		return false, unavailable("read "+name, err)
	}
	return n == 1, nil
}
