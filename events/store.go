// Package events is the service's memory: the idempotency keys and every
// accepted event with its state and history, beside the queue the workers
// drain (package queue, on hibiken/asynq). All of it lives in Redis.
//
// Intake schedules each event's task with the idempotency key as asynq's
// task id, in one Lua script (acceptScript, which composes the queue's Lua)
// that refuses a key whose record or task is kept and otherwise writes the
// task, its admission, the store's own record of the event (payload,
// state, attempts, history, Accurate's id and number, for listing and
// replay) and its order index: taking the key and queueing the event durably are one
// atomic step, and no crash can leave a key taken with no event behind it.
// The task carries no body (unless Config.BodyInTask): the worker reads the
// record's. A task found without its record (one an earlier version queued
// before writing the record) gets it from the worker, which creates it
// then from the body that such a task carries.
package events

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/queue"
)

// States an event goes through.
const (
	StateQueued     = "queued"
	StateProcessing = "processing"
	StateRetrying   = "retrying"
	StateSynced     = "synced"
	StateFailed     = "failed"
	// StateVoided is an invoice.created whose invoice was voided before it
	// posted: terminal, like synced; it never posts.
	StateVoided = "voided"
)

// States lists every state, in lifecycle order.
var States = []string{StateQueued, StateProcessing, StateRetrying, StateSynced, StateFailed, StateVoided}

// Errors the edges map to statuses.
var (
	// ErrUnavailable: Redis could not be reached; nothing was recorded.
	ErrUnavailable = queue.ErrUnavailable
	// ErrNotFound: no event has that key.
	ErrNotFound = errors.New("event not found")
	// ErrBusy: a worker holds the event right now.
	ErrBusy = queue.ErrBusy
	// ErrVoided: the event is an invoice.created that was voided; it must
	// never post, so it cannot be replayed.
	ErrVoided = errors.New("event was voided")
)

// Defaults of Config, the one home of these figures (the service's settings
// fall back to them).
const (
	DefaultNamespace = "fas"
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultHoldTimeout is how long a worker may go without renewing its
	// hold on an event before the event is taken back from it.
	DefaultHoldTimeout = 10 * time.Second
)

// unavailable wraps a Redis failure met while doing op so that errors.Is
// finds both ErrUnavailable and the cause. A context the caller cancelled is
// the caller's doing, not Redis being away: it is wrapped without
// ErrUnavailable, so the edge does not report a Redis outage.
func unavailable(op string, err error) error { return queue.Unavailable(op, err) }

// Config tunes a Store. The zero value is usable.
type Config struct {
	// Namespace prefixes every Redis key and names the asynq queues, so that
	// tests and several services can share one Redis. Default
	// DefaultNamespace.
	Namespace string
	// Shards is how many shards the sellers spread over (Layout); fixed for
	// the life of a deployment. Default 1, the layout before shards (one
	// Redis gains nothing from more).
	Shards int
	// Retention is how long events, keys and history are kept after their
	// last change. Default DefaultRetention.
	Retention time.Duration
	// MaxRetry is asynq's retry budget per task; the worker decides by error
	// class when to give up well before it. Default 10,000.
	MaxRetry int
	// HoldTimeout is how long a worker's hold on an event lasts unless
	// renewed (it is renewed every third of it while the worker runs): an
	// event whose worker died or lost Redis is released for another worker,
	// and can be replayed, this long after the last renewal, rather than
	// after asynq's lease and recoverer (30 s, then up to 90 s more).
	// Default DefaultHoldTimeout.
	HoldTimeout time.Duration
	// Share is how many of one seller's events are released to the
	// workers at a time (the queue's fair scheduling); the rest are held.
	// Default queue.DefaultShare.
	Share int
	// SafetyNet is how far ahead a held event's task is due, for asynq to
	// run it if no dispatcher released it. Default queue.DefaultSafetyNet.
	SafetyNet time.Duration
	// ReleasedBound is how long a released event whose end was never told
	// counts against its seller's share. Default queue.DefaultReleasedBound.
	ReleasedBound time.Duration
	// BodyInTask makes intake's tasks carry the webhook's body beside the
	// copy the record keeps, as versions before 2026-12-05 wrote them (and
	// the only way those read them): for a rolling update from such a
	// version, or a way back to one. By default a task carries no body and
	// the worker reads the record's (docs/deployment.md, "Tasks without
	// their body").
	BodyInTask bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger hears what the store handles itself (a record left to the
	// worker); nil logs nothing.
	Logger *zap.Logger
}

// base is what a namespace and each of its sellers' stores share: the
// Redis, the layout and the settings of the records.
type base struct {
	rdb       redis.UniversalClient
	layout    queue.Layout
	retention time.Duration
	hold      time.Duration
	now       func() time.Time
	codec     *payloadCodec  // shared by every seller's store
	accepts   *acceptBatcher // shared likewise
	bodyTask  bool           // Config.BodyInTask
}

// Namespace is the whole of a namespace: every shard's queue and every
// seller's events. What runs across sellers lives here (its queue, named
// rather than embedded: the dispatcher, the recovery of stranded and taken
// events, the queue's depth; the release of abandoned events and the pruning of the indexes);
// what one seller's events go through lives on its Store (Seller). They
// are distinct types, so that a call meant for every seller cannot be made
// on one seller's part, nor the other way.
type Namespace struct {
	*base
	queue   *queue.Queue // every seller's queue, built once
	log     *zap.Logger
	sellers *sync.Map // id → *Store, built once each
}

// Queue is the namespace's queue, for what runs across sellers (the
// dispatcher, its depth, its layout); the events types do not carry its
// methods, so it is clear which package owns each step.
func (n *Namespace) Queue() *queue.Queue { return n.queue }

// Store is one seller's events: intake, the records, replay, its day book
// and what Accurate lacks. Its part of the queue (its share, holds and
// wake-ups) is named rather than embedded, as the Namespace's is: the
// worker takes it apart from the records.
type Store struct {
	*base
	queue *queue.Seller
	scope SellerScope // the seller whose events these are
	log   *zap.Logger
}

// New builds the namespace of cfg on rdb.
func New(rdb redis.UniversalClient, cfg Config) *Namespace {
	defaults.Empty(&cfg.Namespace, DefaultNamespace)
	defaults.Positive(&cfg.Retention, DefaultRetention)
	defaults.Positive(&cfg.MaxRetry, 10000)
	defaults.Positive(&cfg.HoldTimeout, DefaultHoldTimeout)
	defaults.Positive(&cfg.Share, queue.DefaultShare)
	defaults.Positive(&cfg.SafetyNet, queue.DefaultSafetyNet)
	defaults.Positive(&cfg.ReleasedBound, queue.DefaultReleasedBound)
	cfg.Now = defaults.Clock(cfg.Now)
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	layout := queue.NewLayout(cfg.Namespace, cfg.Shards)
	codec := newPayloadCodec()
	n := &Namespace{log: cfg.Logger, sellers: new(sync.Map), base: &base{
		rdb:       rdb,
		layout:    layout,
		retention: cfg.Retention,
		hold:      cfg.HoldTimeout,
		now:       cfg.Now,
		bodyTask:  cfg.BodyInTask,
		codec:     codec,
		accepts:   &acceptBatcher{rdb: rdb, fields: func(body []byte) []any { return payloadFields(codec.pack(body)) }},
	}}
	n.queue = queue.New(rdb, queue.Config{Layout: layout, MaxRetry: cfg.MaxRetry, HoldTimeout: cfg.HoldTimeout,
		Share: cfg.Share, SafetyNet: cfg.SafetyNet, ReleasedBound: cfg.ReleasedBound, Retention: cfg.Retention,
		Now: cfg.Now, Logger: cfg.Logger,
		Release: func(ctx context.Context, id string) (bool, error) {
			seller, key := queue.SplitTaskID(id)
			return n.Seller(seller).release(ctx, key)
		}})
	return n
}

// Seller is the store of one seller's events: the same Redis, its shard's
// queue, its own keys (Layout.SellerPrefix) and task ids (TaskID), so that
// keys, idempotency, number claims, order memory and replay are the
// seller's own. "" is the default seller. Asking again gives the same
// Store.
func (n *Namespace) Seller(id string) *Store {
	defaults.Empty(&id, DefaultSeller)
	if s, ok := n.sellers.Load(id); ok {
		return s.(*Store)
	}
	s, _ := n.sellers.LoadOrStore(id, &Store{base: n.base, queue: n.queue.Seller(id), scope: SellerScope{n.layout.Seller(id)},
		log: n.log.With(zap.String("seller", id))})
	return s.(*Store)
}

// Ping tells whether Redis answers.
func (n *Namespace) Ping(ctx context.Context) error { return n.ping(ctx) }

// Ping tells whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.ping(ctx) }

func (b *base) ping(ctx context.Context) error {
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// SellerID is the seller whose events this store holds.
func (s *Store) SellerID() string { return s.scope.ID() }

// Scope is where this seller's part of the store lives, for the parts
// built beside the store (the order memory).
func (s *Store) Scope() SellerScope { return s.scope }

// Retention is how long events and what is remembered of them are kept.
func (s *Store) Retention() time.Duration { return s.retention }

// taskID is the asynq task id of one of this seller's events.
func (s *Store) taskID(key string) string { return s.scope.TaskID(key) }

// Queue is this seller's part of the queue: its share among the workers,
// the holds on its events and their wake-ups.
func (s *Store) Queue() *queue.Seller { return s.queue }

// Incoming is an event as intake hands it over: its idempotency key, its
// type and the webhook body exactly as received.
type Incoming struct {
	Key     string
	Type    string
	Payload []byte
	// Orders are the marketplace order numbers the event is about, for the
	// search by order number; optional.
	Orders []string
}

// Outcome of Accept.
type Outcome int

// Accept outcomes.
const (
	Accepted Outcome = iota + 1
	Duplicate
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	}
	return "unknown"
}

// Accept takes the event's key and queues it, atomically; a key seen before
// is a Duplicate and queues nothing. An error means nothing was accepted:
// ErrUnavailable when Redis failed (never a duplicate), or the context's
// error when the caller gave up.
func (s *Store) Accept(ctx context.Context, in Incoming) (Outcome, error) {
	if err := s.queue.Publish(ctx); err != nil {
		return 0, unavailable("queue "+in.Key, err)
	}
	id := s.taskID(in.Key)
	keys := append(s.queue.AdmitKeys(), s.recordKey(in.Key), s.indexKey(StateQueued), queue.TaskKey(s.scope.Queue(), id))
	for _, no := range in.Orders {
		if NormalizeOrderNumber(no) != "" {
			keys = append(keys, s.orderKey(no))
		}
	}
	now := s.now()
	// The record keeps the body; the task carries it too only when
	// replicas of an older version may run it.
	var taskBody []byte
	if s.bodyTask {
		taskBody = in.Payload
	}
	args := s.queue.AdmitArgsAt(now, id)
	args = append(args, in.Key, in.Type, int64(s.retention/time.Second), historyLine(now, StateQueued, "accepted"),
		s.queue.NewMessage(in.Key, taskBody), s.queue.Due(now).Unix())
	// Batched with concurrent webhooks', the body packed by the batch's
	// sender (acceptbatch.go).
	n, err := s.accepts.run(ctx, keys, args, in.Payload)
	switch {
	case err != nil:
		return 0, unavailable("queue "+in.Key, err)
	case n < 0:
		return Duplicate, nil
	}
	return Accepted, nil
}

// acceptScript is all of intake in one step: a key whose record is kept
// (whatever became of its task: finished, or left behind in another layout
// by an upgrade) or whose task asynq holds is a duplicate (-1) and writes
// nothing; otherwise it schedules the task ARGV[6] as asynq's enqueue does
// (queue.ScheduleLua), due at its safety net, admits it to its seller's
// share (queue.AdmitLua), creates its record queued (createLua) and adds
// its key to the sets of its order numbers, and answers how many events it
// released.
// KEYS: AdmitLua's, record, index:queued, the task's hash, then the order
// sets.
// ARGV: AdmitLua's, task id, event key, type, retention (s), history line,
// the task's message, its due time (unix s), then the packed body's
// field/value pairs.
var acceptScript = redis.NewScript(queue.ScheduleLua + queue.AdmitLua + createLua + `
if redis.call("EXISTS", KEYS[7], KEYS[9]) > 0 then return -1 end
schedule(KEYS[9], KEYS[4], ARGV[6], ARGV[11], ARGV[12])
local n = admit({ARGV[6]})
create(KEYS[7], KEYS[8], ARGV[7], "queued", ARGV[8], ARGV[2], ARGV[9], ARGV[10], {unpack(ARGV, 13)})
for i = 10, #KEYS do
  redis.call("SADD", KEYS[i], ARGV[7])
  redis.call("EXPIRE", KEYS[i], ARGV[9])
end
return n
`)

// Unavailable wraps a Redis failure met while doing op for the parts kept
// beside the store (the order memory), as the store's own: errors.Is finds
// ErrUnavailable and the cause.
func Unavailable(op string, err error) error { return unavailable(op, err) }
