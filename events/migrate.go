package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"forstok-accurate-sync/queue"
)

// The layout a namespace is in is marked in Redis ("{ns}:layout", its
// number of shards), so that a replica started with another REDIS_SHARDS
// refuses to start rather than look for sellers in the wrong shards. A
// namespace from before shards has no mark: its one shard is moved to the
// configured shards once, by the first replica to start (or by the migrate
// command), under a lock the other replicas wait on.

// ErrLayout is a namespace laid out in another number of shards than asked.
var ErrLayout = errors.New("the namespace is laid out in another number of shards")

// Migration is what Migrate did.
type Migration struct {
	From, To int // shards before and after
	Keys     int // store keys moved
	Tasks    int // queued, scheduled, retrying or running tasks moved
	Took     time.Duration
}

// migrateLockTTL bounds a migration's lock, should its replica die.
const migrateLockTTL = 10 * time.Minute

// Migrate brings namespace l.Namespace to layout l: nothing to do when it
// is marked so already; ErrLayout when it is marked with another number of
// shards; otherwise (a namespace from before shards, or a new one) every
// key and every unfinished task of the one-shard layout moves to its
// seller's shard and the mark is written. Each seller's records, indexes,
// order memory and claims move with it, so redeliveries of what it
// accepted stay duplicates; unfinished tasks are queued again in their
// shard's queue with their payload, due time and retry budget (asynq's
// count of retries starts again), and finished ones are dropped: the
// records answer for their keys. Safe to run again after a crash midway,
// and by several replicas at once (one migrates, the others wait).
func Migrate(ctx context.Context, rdb redis.UniversalClient, l queue.Layout, log *zap.Logger) (Migration, error) {
	if log == nil {
		log = zap.NewNop()
	}
	began := time.Now()
	m := Migration{To: l.Shards}
	token := queue.NewToken()
	for {
		marked, err := markedShards(ctx, rdb, l.Namespace)
		if err != nil {
			return m, err
		}
		if marked > 0 {
			m.From = marked
			if marked != l.Shards {
				return m, fmt.Errorf("%w: namespace %s has %d shards, REDIS_SHARDS says %d; set REDIS_SHARDS=%d (the number of shards is fixed for the life of a deployment)",
					ErrLayout, l.Namespace, marked, l.Shards, marked)
			}
			return m, nil
		}
		ok, err := rdb.SetNX(ctx, migrateLockKey(l.Namespace), token, migrateLockTTL).Result()
		if err != nil {
			return m, unavailable("lock the migration", err)
		}
		if ok {
			break
		}
		log.Info("another replica is migrating the namespace to shards; waiting for it", zap.String("namespace", l.Namespace))
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	defer func() {
		_ = queue.Unlock(context.WithoutCancel(ctx), rdb, migrateLockKey(l.Namespace), token)
	}()
	m.From = 1
	if l.Shards > 1 {
		var err error
		if m.Keys, err = moveKeys(ctx, rdb, l); err != nil {
			return m, err
		}
		if m.Tasks, err = queue.MoveTasks(ctx, rdb, l); err != nil {
			return m, err
		}
		if _, err := dropQueue(ctx, rdb, l.Namespace); err != nil {
			return m, err
		}
	}
	if err := rdb.Set(ctx, layoutKey(l.Namespace), l.Shards, 0).Err(); err != nil {
		return m, unavailable("mark the namespace's layout", err)
	}
	m.Took = time.Since(began)
	if m.Keys > 0 || m.Tasks > 0 {
		log.Info("namespace moved to shards", zap.String("namespace", l.Namespace), zap.Int("shards", l.Shards),
			zap.Int("keys", m.Keys), zap.Int("tasks", m.Tasks), zap.Duration("took", m.Took))
	}
	return m, nil
}

// markedShards is the number of shards the namespace is marked with; 0
// when it has no mark.
func markedShards(ctx context.Context, rdb redis.UniversalClient, ns string) (int, error) {
	v, err := rdb.Get(ctx, layoutKey(ns)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return 0, nil
	case err != nil:
		return 0, unavailable("read the namespace's layout", err)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("namespace %s: its layout mark %s holds %q, not a number of shards", ns, layoutKey(ns), v)
	}
	return n, nil
}

// movedKey is the name in layout l of key, a key of the one-shard layout;
// "" for the namespace's own keys and those rebuilt rather than moved.
func movedKey(l queue.Layout, key string) (moved, seller string) {
	rest, ok := strings.CutPrefix(key, queue.KeyPrefix(l.Namespace))
	if !ok || !strings.HasPrefix(rest, ":") {
		return "", ""
	}
	switch rest {
	case ":layout", ":migrate:lock", ":fair:ready":
		return "", ""
	}
	seller = DefaultSeller
	if r, ok := strings.CutPrefix(rest, ":s:"); ok {
		s, tail, found := strings.Cut(r, ":")
		if !found {
			return "", ""
		}
		seller, rest = s, ":"+tail
	}
	return l.SellerPrefix(seller) + rest, seller
}

// moveKeys moves every store key of the one-shard layout to its seller's
// shard: DUMP, RESTORE with what is left of its expiry, DEL, a batch at a
// time. A key already in its shard (a migration run again) keeps the
// shard's. A seller with held events is put on its shard's ready set.
func moveKeys(ctx context.Context, rdb redis.UniversalClient, l queue.Layout) (int, error) {
	moved := 0
	pattern := queue.KeyPrefix(l.Namespace) + ":*"
	err := eachKeyMatching(ctx, rdb, pattern, func(keys []string) error {
		type move struct {
			from, to, seller string
			dump             *redis.StringCmd
			ttl              *redis.DurationCmd
		}
		var ms []*move
		pipe := rdb.Pipeline()
		for _, k := range keys {
			if k == queue.KeyPrefix(l.Namespace)+":fair:ready" {
				pipe.Del(ctx, k) // rebuilt in the shards from the held lists moved
				continue
			}
			to, seller := movedKey(l, k)
			if to == "" {
				continue
			}
			m := &move{from: k, to: to, seller: seller}
			m.dump, m.ttl = pipe.Dump(ctx, k), pipe.PTTL(ctx, k)
			ms = append(ms, m)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return unavailable("read keys to move", err)
		}
		pipe = rdb.Pipeline()
		restores := make([]*redis.StatusCmd, len(ms))
		for i, m := range ms {
			if m.dump.Err() != nil {
				continue // gone since the scan
			}
			ttl := m.ttl.Val()
			if ttl < 0 {
				ttl = 0 // no expiry
			}
			restores[i] = pipe.Restore(ctx, m.to, ttl, m.dump.Val())
			if strings.HasSuffix(m.to, ":fair:held") {
				pipe.SAdd(ctx, l.ReadyKey(l.ShardOf(m.seller)), m.seller)
			}
		}
		_, _ = pipe.Exec(ctx)
		pipe = rdb.Pipeline()
		for i, m := range ms {
			if r := restores[i]; r != nil {
				if err := r.Err(); err != nil && !strings.Contains(err.Error(), "BUSYKEY") {
					return unavailable("move "+m.from, err)
				}
			}
			pipe.Del(ctx, m.from)
			moved++
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return unavailable("delete moved keys", err)
		}
		return nil
	})
	return moved, err
}

// dropQueue deletes every key of the one-shard queue (finished tasks
// included: the records answer for their keys) and takes it off asynq's
// list.
func dropQueue(ctx context.Context, rdb redis.UniversalClient, q string) (int, error) {
	deleted := 0
	err := eachKeyMatching(ctx, rdb, queue.AsynqPrefix(q)+":*", func(keys []string) error {
		pipe := rdb.Pipeline()
		for _, k := range keys {
			pipe.Unlink(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return unavailable("drop the old queue", err)
		}
		deleted += len(keys)
		return nil
	})
	if err != nil {
		return deleted, err
	}
	if err := rdb.SRem(ctx, queue.AsynqQueues, q).Err(); err != nil {
		return deleted, unavailable("drop the old queue", err)
	}
	return deleted, nil
}
