// Package queue is the service's queue, on hibiken/asynq: the shards the
// sellers spread over (Layout), each an asynq queue, and the task each
// accepted event is. It is the only code that knows asynq's private
// layout in Redis or builds its keys (asynq v0.26's; asynqlayout_test.go
// fails if an upgrade moves or retypes what the queue relies on), so that
// intake can schedule a task inside its own script (TaskMessage) and the
// queue's scripts can move tasks between asynq's states as asynq does.
package queue

import (
	"strconv"
	"strings"
	"time"
)

// TaskType is the asynq task type of every queued event.
const TaskType = "forstok:event"

// TaskTimeout is asynq's timeout of one attempt; the worker's calls have
// shorter ones of their own.
const TaskTimeout = 10 * time.Minute

// Lease is how far ahead asynq v0.26 sets the lease of a task it hands to
// a worker (its rdb.LeaseDuration): at the dequeue, and again at every
// heartbeat (every 5 s) of the server running it.
const Lease = 30 * time.Second

// AsynqPrefix starts every key of asynq's queue named q.
func AsynqPrefix(q string) string { return "asynq:{" + q + "}" }

// AsynqKey is a key of asynq's queue q, which the scripts move a task
// between as asynq's own code does (asynq v0.26's layout: "pending" and
// "active", lists; "scheduled", "retry" and "lease", sorted sets of task
// ids scored in unix seconds; "t:<id>", the task's hash with its "msg" and
// its "state").
func AsynqKey(q, name string) string { return AsynqPrefix(q) + ":" + name }

// TaskKey is the hash of task id in asynq's queue q.
func TaskKey(q, id string) string { return AsynqKey(q, "t:"+id) }

// AsynqQueues is asynq's own set of every queue name it has seen, which its
// inspector reads.
const AsynqQueues = "asynq:queues"

// AsynqPatterns are SCAN patterns matching every key of asynq's queues of
// namespace ns: the one-shard layout's queue ns and the shards'
// "ns:<n>:<k>".
func AsynqPatterns(ns string) []string {
	return []string{AsynqPrefix(ns) + ":*", "asynq:{" + ns + ":[0-9]*}:*"}
}

// IsShardQueue tells whether q is "ns:<n>:<k>", a shard's queue of ns.
func IsShardQueue(ns, q string) bool {
	rest, ok := strings.CutPrefix(q, ns+":")
	n, k, found := strings.Cut(rest, ":")
	if !ok || !found {
		return false
	}
	_, err1 := strconv.Atoi(n)
	_, err2 := strconv.Atoi(k)
	return err1 == nil && err2 == nil
}
