package events

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Intake sends the accept scripts of concurrent webhooks to Redis together:
// while one batch is in flight, the scripts that arrive meanwhile wait and
// go as the next batch, one go-redis pipeline (split by node on a Cluster),
// so a busy intake makes one write and one read for many webhooks instead
// of one each. An idle intake adds no delay: a script that finds nothing in
// flight goes at once, alone. Each script is still its own atomic step, and
// each webhook is answered from its own script's reply only; a batch that
// fails (Redis unreachable, a connection cut mid-batch) answers every
// script in it with the error.

// The sender also packs each webhook's body for its record (payloadCodec)
// just before the batch goes: S2's encoder keeps a 64 kB table on the
// stack, which grew the stack of each connection's goroutine again after
// every garbage collection had shrunk it (about 2 µs a webhook in a CPU
// profile of intake); the sender's one goroutine keeps its stack grown.

// maxAcceptBatch bounds one pipeline; more waiting goes in the next.
const maxAcceptBatch = 128

// acceptBatcher sends accept scripts in batches; one is shared by every
// seller's copy of a Store.
type acceptBatcher struct {
	rdb redis.UniversalClient
	// fields are the record's fields of a webhook's body, appended to its
	// script's arguments by the sender.
	fields func(body []byte) []any

	mu      sync.Mutex
	pending []*acceptCall
	sending bool // a batch is in flight, and its sender sends what is pending after it
}

// acceptCall is one webhook's script and, once done is closed, its reply.
type acceptCall struct {
	ctx  context.Context
	keys []string
	args []any
	body []byte // whose fields go after args
	n    int64
	err  error
	done chan struct{}
}

// run runs acceptScript with keys, and args followed by body's fields, in
// the next batch and returns its reply, or ctx's error if ctx ends first
// (the script may then still run, as a single command may after its caller
// gave up).
func (b *acceptBatcher) run(ctx context.Context, keys []string, args []any, body []byte) (int64, error) {
	c := &acceptCall{ctx: ctx, keys: keys, args: args, body: body, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	if !b.sending {
		// Nothing in flight: a sender goes now, c in its first batch. It
		// runs apart from every caller, so that any caller may give up.
		b.sending = true
		go b.drain()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.n, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// take removes the next batch from what is pending; nil, with nothing in
// flight from then on, when nothing is.
func (b *acceptBatcher) take() []*acceptCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		b.sending = false
		return nil
	}
	n := min(len(b.pending), maxAcceptBatch)
	batch := make([]*acceptCall, n)
	copy(batch, b.pending)
	b.pending = append(b.pending[:0], b.pending[n:]...)
	return batch
}

// drain sends batches until nothing is pending.
func (b *acceptBatcher) drain() {
	for batch := b.take(); batch != nil; batch = b.take() {
		b.send(batch)
	}
}

// send runs batch's scripts in one pipeline and answers each call. The
// pipeline does not stop when one caller gives up: the others wait on it.
// Callers that gave up before it went are left out.
func (b *acceptBatcher) send(batch []*acceptCall) {
	live := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		c.args = append(c.args, b.fields(c.body)...)
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.WithoutCancel(live[0].ctx)
	cmds := make([]*redis.Cmd, len(live))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range live {
			cmds[i] = acceptScript.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	// A node that lost its scripts (restarted, or a failover) gets them
	// whole, as Script.Run does; EVAL caches them again.
	var again []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range again {
				cmds[i] = acceptScript.Eval(ctx, p, live[i].keys, live[i].args...)
			}
			return nil
		})
	}
	for i, c := range live {
		c.n, c.err = cmds[i].Int64()
		close(c.done)
	}
}
