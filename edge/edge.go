// Package edge bounds what an unauthenticated client can make the service
// hold: bytes of request bodies in flight, the time a body may take to
// arrive, open connections, and the length of what is logged from a
// request. The HTTP handler and the server's listener are built on it.
package edge

import (
	"sync"

	"forstok-accurate-sync/internal/defaults"
)

// DefaultBodyBudget is MAX_BODY_BYTES_IN_FLIGHT's default: 64 MiB.
const DefaultBodyBudget = 64 << 20

// Budget is a process-wide allowance of request-body bytes being read at
// once. A request takes its share before its body is read and gives it back
// when done; when the allowance is spent the request is refused (503) rather
// than queued, so that slow senders cannot pile up memory.
//
// Large bodies (over LargeBody) may hold only half the budget between them:
// a crowd of slow senders claiming a megabyte each then never leaves a
// usual webhook of a few kilobytes without room.
type Budget struct {
	mu    sync.Mutex
	limit int64
	used  int64
	large int64
}

// LargeBody is the size above which a body counts against the large half.
const LargeBody = 64 << 10

// NewBudget makes a budget of limit bytes; limit <= 0 is DefaultBodyBudget.
func NewBudget(limit int64) *Budget {
	defaults.Positive(&limit, DefaultBodyBudget)
	return &Budget{limit: limit}
}

// Take reserves n bytes; false when they are not there (nothing is taken).
func (b *Budget) Take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit || (n > LargeBody && b.large+n > b.limit/2) {
		return false
	}
	b.used += n
	if n > LargeBody {
		b.large += n
	}
	return true
}

// Give returns n bytes taken before.
func (b *Budget) Give(n int64) {
	b.mu.Lock()
	b.used -= n
	if n > LargeBody {
		b.large -= n
	}
	b.mu.Unlock()
}

// InFlight is the bytes reserved now.
func (b *Budget) InFlight() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// LogCut is the most bytes of a request path or header value written to a
// log line: a client's 60,000-byte path must not become 60,000 bytes of log
// per request.
const LogCut = 256

// Cut shortens s to LogCut bytes (at a rune boundary), marking the cut.
func Cut(s string) string {
	if len(s) <= LogCut {
		return s
	}
	i := LogCut
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
