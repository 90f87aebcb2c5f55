package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"forstok-accurate-sync/internal/defaults"
)

// Errors the edges map to statuses (the events package's are these).
var (
	// ErrUnavailable: Redis could not be reached; nothing was recorded.
	ErrUnavailable = errors.New("event store unavailable")
	// ErrBusy: a worker holds the event right now.
	ErrBusy = errors.New("event is being processed")
	// ErrQueued: Enqueue found a task of that id in asynq's queue already.
	ErrQueued = asynq.ErrTaskIDConflict
)

// Unavailable wraps a Redis failure met while doing op so that errors.Is
// finds both ErrUnavailable and the cause. A context the caller cancelled
// is the caller's doing, not Redis being away: it is wrapped without
// ErrUnavailable, so the edge does not report a Redis outage.
func Unavailable(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

// Config tunes a Queue; New's caller gives every figure (the events
// package sets the defaults).
type Config struct {
	Layout   Layout
	MaxRetry int
	// HoldTimeout is how long a worker's hold on an event lasts unless
	// renewed (hold.go).
	HoldTimeout time.Duration
	// Share, SafetyNet and ReleasedBound tune the fair scheduling
	// (fair.go).
	Share         int
	SafetyNet     time.Duration
	ReleasedBound time.Duration
	// Retention is how long an event's wait for a faktur is remembered.
	Retention time.Duration
	Now       func() time.Time
	Logger    *zap.Logger
	// Release takes back the event of task id from a worker that took it
	// and holds it no more, and queues it again (the records are the
	// events package's); false when nothing needed doing.
	Release func(ctx context.Context, id string) (bool, error)
}

// Queue is the queue of a whole namespace: every shard's asynq queue. What
// runs across sellers lives here (the dispatcher, the recovery of stranded
// and taken events, the depth); a seller's part is its Seller.
type Queue struct {
	rdb       redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	cfg       Config
	log       *zap.Logger
	published *sync.Map // the queues this process has added to asynq:queues
	sellers   *sync.Map // id → *Seller
}

// New is the queue of cfg.Layout on rdb.
func New(rdb redis.UniversalClient, cfg Config) *Queue {
	cfg.Now = defaults.Clock(cfg.Now)
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Queue{rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), inspector: asynq.NewInspectorFromRedisClient(rdb),
		cfg: cfg, log: cfg.Logger, published: new(sync.Map), sellers: new(sync.Map)}
}

// Seller is one seller's part of the queue: its share, its holds, its
// wake-ups. "" is the default seller; asking again gives the same Seller.
func (q *Queue) Seller(id string) *Seller {
	defaults.Empty(&id, DefaultSeller)
	if s, ok := q.sellers.Load(id); ok {
		return s.(*Seller)
	}
	s, _ := q.sellers.LoadOrStore(id, &Seller{q: q, scope: q.cfg.Layout.Seller(id), log: q.log.With(zap.String("seller", id))})
	return s.(*Seller)
}

// Layout is how the namespace spreads sellers over shards.
func (q *Queue) Layout() Layout { return q.cfg.Layout }

// Queues are the asynq queues the workers must serve, every shard's, each
// of the same weight (asynq's Queues; strict priority off).
func (q *Queue) Queues() map[string]int {
	out := map[string]int{}
	for _, name := range q.cfg.Layout.Queues() {
		out[name] = 1
	}
	return out
}

// QueueDepth is the number of tasks waiting or scheduled to run again, in
// every shard's queue: three counts a shard, in one pipeline (asynq's
// GetQueueInfo samples memory too, too dear for every metrics scrape).
func (q *Queue) QueueDepth(ctx context.Context) (int, error) {
	pipe := q.rdb.Pipeline()
	var cmds []*redis.IntCmd
	for _, name := range q.cfg.Layout.Queues() {
		cmds = append(cmds, pipe.LLen(ctx, AsynqKey(name, "pending")),
			pipe.ZCard(ctx, AsynqKey(name, "scheduled")), pipe.ZCard(ctx, AsynqKey(name, "retry")))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, Unavailable("queue depth", err)
	}
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	return n, nil
}

// Seller is one seller's part of the queue.
type Seller struct {
	q     *Queue
	scope Scope
	log   *zap.Logger
}

// taskID is the asynq task id of one of this seller's events.
func (s *Seller) taskID(key string) string { return s.scope.TaskID(key) }

// asynqKey is a key of asynq's queue of this seller's shard.
func (s *Seller) asynqKey(name string) string { return AsynqKey(s.scope.queue, name) }

// The seller's own keys of the queue.
func (s *Seller) releasedKey() string             { return s.scope.Key("fair:released") }
func (s *Seller) heldKey() string                 { return s.scope.Key("fair:held") }
func (s *Seller) readyKey() string                { return s.q.cfg.Layout.ReadyKey(s.scope.shard) }
func (s *Seller) waitersKey(faktur string) string { return s.scope.Key("waiters:faktur:" + faktur) }
func (s *Seller) downKey() string                 { return s.scope.Key("accurate:down") }
func (s *Seller) holderKey(key string) string     { return s.scope.Key("holder:" + key) }

// HolderKey is the key of the worker's hold on the event key, for the
// scripts of the records that must not take an event from its worker.
func (s *Seller) HolderKey(key string) string { return s.holderKey(key) }

// ReadyKey is the set of the sellers with held events of shard n.
func (l Layout) ReadyKey(n int) string { return l.ShardPrefix(n) + ":fair:ready" }

// Publish adds this seller's shard's queue to asynq's list of queues
// (asynq:queues, which asynq's inspector reads) the first time this
// process queues on it, as asynq's client does before its enqueue.
func (s *Seller) Publish(ctx context.Context) error {
	if _, ok := s.q.published.Load(s.scope.queue); ok {
		return nil
	}
	if err := s.q.rdb.SAdd(ctx, AsynqQueues, s.scope.queue).Err(); err != nil {
		return err
	}
	s.q.published.Store(s.scope.queue, true)
	return nil
}

// Enqueue queues the task of the seller's event key, held until the
// seller's share has room (fair.go): due SafetyNet ahead, then admitted,
// which releases it at once when the seller is under its share. A crash
// between the two leaves it to its safety net, or to the recovery of
// stranded events. A task of that id asynq holds already is ErrQueued.
func (s *Seller) Enqueue(ctx context.Context, key, typ string, payload []byte) error {
	_, err := s.q.client.EnqueueContext(ctx, asynq.NewTask(typ, payload),
		asynq.TaskID(s.taskID(key)),
		asynq.Queue(s.scope.queue),
		asynq.MaxRetry(s.q.cfg.MaxRetry),
		// No asynq.Retention: a finished task goes at once, its payload with
		// it; the record keeps the payload and answers for the key for the
		// retention.
		asynq.Timeout(TaskTimeout),
		asynq.ProcessAt(s.q.cfg.Now().Add(s.q.cfg.SafetyNet)),
	)
	if err != nil {
		return err
	}
	if err := s.admit(ctx, key); err != nil {
		// Queued all the same: its safety net runs it.
		s.log.Warn("event queued but not admitted; it runs when its safety net is due", zap.String("event_key", key),
			zap.Duration("safety_net", s.q.cfg.SafetyNet), zap.Error(err))
	}
	return nil
}

// Delete drops the task of the seller's event key: nil when there is none;
// an error IsActive tells when a worker runs it.
func (s *Seller) Delete(key string) error {
	err := s.q.inspector.DeleteTask(s.scope.queue, s.taskID(key))
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	return err
}

// IsActive recognises asynq's refusal to delete a running task; it has no
// exported error value for it.
func IsActive(err error) bool {
	return err != nil && strings.Contains(err.Error(), "active state")
}

// Due is when a task scheduled now is due: its safety net.
func (s *Seller) Due(now time.Time) time.Time { return now.Add(s.q.cfg.SafetyNet) }

// NewMessage is the message of the task of the seller's event key
// (TaskMessage), as Enqueue would give it.
func (s *Seller) NewMessage(key string, payload []byte) []byte {
	return TaskMessage(TaskType, payload, s.taskID(key), s.scope.queue, s.q.cfg.MaxRetry, TaskTimeout)
}

// MoveTasks queues every unfinished task of the one-shard queue again in
// its seller's shard's queue of layout l, with its payload, due time and
// retry budget, then deletes it from the old one; a running task's old copy
// stays, to go with the old queue. It returns how many it moved. Safe to
// run again: a task moved before is left as it is.
func MoveTasks(ctx context.Context, rdb redis.UniversalClient, l Layout) (int, error) {
	insp := asynq.NewInspectorFromRedisClient(rdb)
	client := asynq.NewClientFromRedisClient(rdb)
	old := l.Namespace
	lists := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		insp.ListPendingTasks, insp.ListScheduledTasks, insp.ListRetryTasks, insp.ListActiveTasks,
	}
	moved := 0
	for _, list := range lists {
		for {
			// Always page 1: each task moved leaves the list.
			tasks, err := list(old, asynq.PageSize(500))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				return moved, nil
			}
			if err != nil {
				return moved, Unavailable("list the tasks to move", err)
			}
			left := 0
			for _, t := range tasks {
				seller, _ := SplitTaskID(t.ID)
				opts := []asynq.Option{asynq.TaskID(t.ID), asynq.Queue(l.SellerQueue(seller)),
					asynq.MaxRetry(t.MaxRetry), asynq.Timeout(t.Timeout), asynq.Retention(t.Retention)}
				if t.State == asynq.TaskStateScheduled || t.State == asynq.TaskStateRetry {
					opts = append(opts, asynq.ProcessAt(t.NextProcessAt))
				}
				_, err := client.EnqueueContext(ctx, asynq.NewTask(t.Type, t.Payload), opts...)
				switch {
				case err == nil:
					moved++
				case !errors.Is(err, asynq.ErrTaskIDConflict): // a conflict: moved by a run before
					return moved, Unavailable("move task "+t.ID, err)
				}
				if err := insp.DeleteTask(old, t.ID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
					if !IsActive(err) {
						return moved, Unavailable("delete moved task "+t.ID, err)
					}
					left++ // a running task's old copy goes with the old queue
				}
			}
			if len(tasks) < 500 || left == len(tasks) {
				break
			}
		}
	}
	return moved, nil
}
