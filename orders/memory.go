// Package orders is what the service remembers about fakturs and orders
// beyond single events, for payments, voids and returns: which invoices
// were voided and by which event, which penerimaan of this service paid a
// faktur and which fakturs it settles, which invoice.created posted a
// faktur and its total, what each retur gave back, which event owns an
// Accurate document number, and short locks and one-time marks so that
// concurrent workers do one thing once. It lives in Redis beside the event
// records, under the same seller's keys (events.SellerScope builds them).
package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
)

// Memory is one seller's order memory.
type Memory struct {
	rdb       redis.UniversalClient
	scope     events.SellerScope
	retention time.Duration
}

// New is the order memory of the seller of scope on rdb; what it remembers
// is kept for retention (the events' own, events.Store.Retention).
func New(rdb redis.UniversalClient, scope events.SellerScope, retention time.Duration) *Memory {
	return &Memory{rdb: rdb, scope: scope, retention: retention}
}

// For is the order memory beside store's seller's events.
func For(rdb redis.UniversalClient, store *events.Store) *Memory {
	return New(rdb, store.Scope(), store.Retention())
}

// MarkVoided records that an invoice was voided by the event voidKey, so
// that its invoice.created never posts and a payment of it fails at once.
func (m *Memory) MarkVoided(ctx context.Context, invoiceID int64, voidKey string) error {
	if err := m.rdb.Set(ctx, m.scope.VoidKey(invoiceID), voidKey, m.retention).Err(); err != nil {
		return events.Unavailable("mark invoice voided", err)
	}
	return nil
}

// VoidOf is the key of the event that voided an invoice; ok is false when
// it was not voided.
func (m *Memory) VoidOf(ctx context.Context, invoiceID int64) (voidKey string, ok bool, err error) {
	v, err := m.rdb.Get(ctx, m.scope.VoidKey(invoiceID)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, events.Unavailable("read void", err)
	}
	return v, true, nil
}

// NotePaid records that the penerimaan receipt (of this service) settles
// the fakturs: each faktur's penerimaan, so that a void finds it, and the
// penerimaan's fakturs, so that a void decides from this record (and
// Accurate's confirmation of it) whether the penerimaan may go.
func (m *Memory) NotePaid(ctx context.Context, receipt string, fakturs []string) error {
	pipe := m.rdb.TxPipeline()
	pipe.Del(ctx, m.scope.SettlesKey(receipt))
	if len(fakturs) > 0 {
		pipe.SAdd(ctx, m.scope.SettlesKey(receipt), anys(fakturs)...)
		pipe.Expire(ctx, m.scope.SettlesKey(receipt), m.retention)
	}
	for _, f := range fakturs {
		pipe.SAdd(ctx, m.scope.PaidByKey(f), receipt)
		pipe.Expire(ctx, m.scope.PaidByKey(f), m.retention)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return events.Unavailable("note penerimaan "+receipt, err)
	}
	return nil
}

// PaidBy lists the penerimaan of this service that settle a faktur.
func (m *Memory) PaidBy(ctx context.Context, faktur string) ([]string, error) {
	v, err := m.rdb.SMembers(ctx, m.scope.PaidByKey(faktur)).Result()
	if err != nil {
		return nil, events.Unavailable("penerimaan of "+faktur, err)
	}
	return v, nil
}

// Settles lists the fakturs the penerimaan receipt settles, as recorded
// when this service posted it; ok is false when there is no such record (a
// penerimaan this service did not post, or posted before the record was
// kept, or forgotten after the retention).
func (m *Memory) Settles(ctx context.Context, receipt string) (fakturs []string, ok bool, err error) {
	v, err := m.rdb.SMembers(ctx, m.scope.SettlesKey(receipt)).Result()
	if err != nil {
		return nil, false, events.Unavailable("fakturs of "+receipt, err)
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
func (m *Memory) ForgetFaktur(ctx context.Context, faktur string) error {
	if err := m.rdb.Del(ctx, m.scope.FakturKey(faktur)).Err(); err != nil {
		return events.Unavailable("forget faktur "+faktur, err)
	}
	return nil
}

// NotePosted records which invoice.created event posted a faktur, so that a
// return finds the faktur's lines as they were posted.
func (m *Memory) NotePosted(ctx context.Context, faktur, eventKey string) error {
	if err := m.rdb.Set(ctx, m.scope.PostedByKey(faktur), eventKey, m.retention).Err(); err != nil {
		return events.Unavailable("note faktur "+faktur, err)
	}
	return nil
}

// PostedBy is the key of the invoice.created that posted a faktur; ok is
// false when this service did not post it (or has forgotten).
func (m *Memory) PostedBy(ctx context.Context, faktur string) (eventKey string, ok bool, err error) {
	v, err := m.rdb.Get(ctx, m.scope.PostedByKey(faktur)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, events.Unavailable("faktur "+faktur, err)
	}
	return v, true, nil
}

// RecordReturn keeps what the retur number gave back of a faktur (opaque to
// the store); recording the same retur again replaces it.
func (m *Memory) RecordReturn(ctx context.Context, faktur, number string, what []byte) error {
	pipe := m.rdb.TxPipeline()
	pipe.HSet(ctx, m.scope.ReturnedKey(faktur), number, what)
	pipe.Expire(ctx, m.scope.ReturnedKey(faktur), m.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return events.Unavailable("record retur "+number, err)
	}
	return nil
}

// ReturnsOf lists what each recorded retur of a faktur gave back, by number.
func (m *Memory) ReturnsOf(ctx context.Context, faktur string) (map[string][]byte, error) {
	v, err := m.rdb.HGetAll(ctx, m.scope.ReturnedKey(faktur)).Result()
	if err != nil {
		return nil, events.Unavailable("returns of "+faktur, err)
	}
	out := make(map[string][]byte, len(v))
	for k, x := range v {
		out[k] = []byte(x)
	}
	return out, nil
}

// Lock takes the lock name for at most ttl, across every replica; ok is
// false when another holder has it. unlock releases it (only if still ours).
func (m *Memory) Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error) {
	token := events.NewToken()
	ok, err = m.rdb.SetNX(ctx, m.scope.LockKey(name), token, ttl).Result()
	if err != nil {
		return nil, false, events.Unavailable("lock "+name, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		// A lock left behind expires with its ttl.
		_ = events.Unlock(context.WithoutCancel(ctx), m.rdb, m.scope.LockKey(name), token)
	}, true, nil
}

// MarkDone records that the one-time action name happened (an item
// created in Accurate), for every replica to see.
func (m *Memory) MarkDone(ctx context.Context, name string) error {
	if err := m.rdb.Set(ctx, m.scope.DoneKey(name), 1, m.retention).Err(); err != nil {
		return events.Unavailable("mark "+name, err)
	}
	return nil
}

// IsDone reports whether MarkDone(name) happened.
func (m *Memory) IsDone(ctx context.Context, name string) (bool, error) {
	n, err := m.rdb.Exists(ctx, m.scope.DoneKey(name)).Result()
	if err != nil {
		return false, events.Unavailable("read "+name, err)
	}
	return n == 1, nil
}

// claimScript gives KEYS[1] to ARGV[1] unless another event holds it, and
// answers the owner. The owner's own claim is kept alive for the retention.
// ARGV: event key, retention (s).
var claimScript = redis.NewScript(`
local owner = redis.call("GET", KEYS[1])
if owner and owner ~= ARGV[1] then return owner end
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
return ARGV[1]
`)

// ClaimNumber makes the event key the owner of an Accurate document number,
// atomically, before anything is posted under it, and returns the owner: key
// itself when the number is free or already its own (a retry, a replay, a
// worker that died after posting), another event's key when that event
// claimed the number first. A claim lasts as long as the events are kept.
func (m *Memory) ClaimNumber(ctx context.Context, kind, number, key string) (owner string, err error) {
	owner, err = claimScript.Run(ctx, m.rdb, []string{m.scope.ClaimKey(kind, number)},
		key, int64(m.retention/time.Second)).Text()
	if err != nil {
		return "", events.Unavailable(fmt.Sprintf("claim %s %s for %s", kind, number, key), err)
	}
	return owner, nil
}

// NumberOwner is the event that claimed an Accurate number; ok is false when
// no event of this service has.
func (m *Memory) NumberOwner(ctx context.Context, kind, number string) (key string, ok bool, err error) {
	key, err = m.rdb.Get(ctx, m.scope.ClaimKey(kind, number)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, events.Unavailable(fmt.Sprintf("owner of %s %s", kind, number), err)
	}
	return key, true, nil
}

// RememberFaktur records the total of a synced faktur.
func (m *Memory) RememberFaktur(ctx context.Context, number string, totalSen int64) error {
	if err := m.rdb.Set(ctx, m.scope.FakturKey(number), totalSen, m.retention).Err(); err != nil {
		return events.Unavailable("remember faktur "+number, err)
	}
	return nil
}

// FakturTotal is the recorded total of a synced faktur; ok is false when
// this service has no record of it.
func (m *Memory) FakturTotal(ctx context.Context, number string) (totalSen int64, ok bool, err error) {
	v, err := m.rdb.Get(ctx, m.scope.FakturKey(number)).Int64()
	switch {
	case errors.Is(err, redis.Nil):
		return 0, false, nil
	case err != nil:
		return 0, false, events.Unavailable("faktur "+number, err)
	}
	return v, true, nil
}
