package accurate

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"forstok-accurate-sync/internal/defaults"
)

// Batcher is a Client whose saves and look-ups of fakturs, penerimaan and
// retur are gathered across concurrent callers and sent in bulk: the saves
// of one kind in one bulk-save.do, the look-ups of one kind in one
// multi-value list.do, each up to MaxBulk. A caller still saves or looks up
// one document and gets that document's own answer; Accurate's 8 requests a
// second then carry up to 100 documents each.
//
// A call waits at most Linger for others to join it while the kind has no
// request in flight, so a lone document is not held up; while requests are
// in flight (up to InFlight per kind), the calls that arrive wait for one of
// them to end and go together in the next.
type Batcher struct {
	*Client
	saves map[Kind]*lane
	finds map[Kind]*lane
	known map[ListKind]*lane
	// waiting counts the callers whose calls are queued or in a request
	// in flight (Waiting).
	waiting atomic.Int64
}

// Defaults of BatchConfig.
const (
	DefaultLinger        = 5 * time.Millisecond
	DefaultBatchInFlight = 1
	// bulkTries bounds how often a batch is sent again after answers lost
	// in a row, each time less the records found saved.
	bulkTries = 3
)

// BatchConfig tunes a Batcher; the zero value takes the defaults.
type BatchConfig struct {
	// Linger is how long the first call of a batch waits for others.
	// Default DefaultLinger.
	Linger time.Duration
	// InFlight bounds the requests of one kind (and of its look-ups) in
	// flight at once. Default DefaultBatchInFlight.
	InFlight int
}

// NewBatcher wraps c.
func NewBatcher(c *Client, cfg BatchConfig) *Batcher {
	defaults.Positive(&cfg.Linger, DefaultLinger)
	defaults.Positive(&cfg.InFlight, DefaultBatchInFlight)
	b := &Batcher{Client: c, saves: map[Kind]*lane{}, finds: map[Kind]*lane{}, known: map[ListKind]*lane{}}
	for _, k := range []Kind{KindSalesInvoice, KindSalesReceipt, KindSalesReturn} {
		b.saves[k] = &lane{linger: cfg.Linger, inFlight: cfg.InFlight, send: b.sendSaves(k)}
		b.finds[k] = &lane{linger: cfg.Linger, inFlight: cfg.InFlight, send: b.sendFinds(k)}
	}
	for k := range numberFilters {
		b.known[k] = &lane{linger: cfg.Linger, inFlight: cfg.InFlight, send: b.sendKnown(k)}
	}
	return b
}

// Waiting is how many callers wait for Accurate through b: their saves or
// look-ups are queued or in a request in flight. A caller stops counting
// when its last answer is in, before it is woken; so a test that holds a
// request until Waiting reaches what it has started knows that every caller
// has joined a batch, however slowly the scheduler ran them.
func (b *Batcher) Waiting() int { return int(b.waiting.Load()) }

// enter counts a caller of calls until the last of them is answered.
func (b *Batcher) enter(calls []*call) {
	b.waiting.Add(1)
	left := new(atomic.Int32)
	left.Store(int32(len(calls)))
	done := func() {
		if left.Add(-1) == 0 {
			b.waiting.Add(-1)
		}
	}
	for _, c := range calls {
		c.answered = done
	}
}

// KnownNumbers is Client.KnownNumbers gathered across callers: the numbers
// that the events in flight ask about go together in one list.do, each
// number once, so that explaining many refusals costs what is asked, not
// how many ask.
func (b *Batcher) KnownNumbers(ctx context.Context, kind ListKind, numbers []string) (map[string]bool, error) {
	l, ok := b.known[kind]
	if !ok {
		return b.Client.KnownNumbers(ctx, kind, numbers)
	}
	if len(numbers) == 0 {
		return map[string]bool{}, nil
	}
	calls := make([]*call, len(numbers))
	for i, n := range numbers {
		calls[i] = &call{number: n, done: make(chan struct{})}
	}
	b.enter(calls)
	for _, c := range calls {
		l.add(c)
	}
	found := make(map[string]bool, len(numbers))
	for _, c := range calls {
		if err := l.await(ctx, c); err != nil {
			return nil, err
		}
		if c.err != nil {
			return nil, c.err
		}
		if c.found {
			found[c.number] = true
		}
	}
	return found, nil
}

// sendKnown asks list.do about a batch of numbers, each once.
func (b *Batcher) sendKnown(kind ListKind) func([]*call) {
	return func(calls []*call) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		numbers := slices.Compact(slices.Sorted(slices.Values(numbersOf(calls))))
		found, err := b.Client.KnownNumbers(ctx, kind, numbers)
		for _, c := range calls {
			c.err, c.found = err, found[c.number]
			c.finish()
		}
	}
}

// SaveSalesInvoice creates a faktur in the next bulk-save.do of fakturs.
func (b *Batcher) SaveSalesInvoice(ctx context.Context, inv *SalesInvoice) (SavedDocument, error) {
	if inv == nil {
		return b.Client.SaveSalesInvoice(ctx, inv) // refused with the client's words
	}
	return b.save(ctx, KindSalesInvoice, inv.Number, inv)
}

// SaveSalesReceipt creates a penerimaan in the next bulk-save.do of penerimaan.
func (b *Batcher) SaveSalesReceipt(ctx context.Context, rec *SalesReceipt) (SavedDocument, error) {
	if rec == nil {
		return b.Client.SaveSalesReceipt(ctx, rec)
	}
	return b.save(ctx, KindSalesReceipt, rec.Number, rec)
}

// SaveSalesReturn creates a retur in the next bulk-save.do of retur.
func (b *Batcher) SaveSalesReturn(ctx context.Context, ret *SalesReturn) (SavedDocument, error) {
	if ret == nil {
		return b.Client.SaveSalesReturn(ctx, ret)
	}
	return b.save(ctx, KindSalesReturn, ret.Number, ret)
}

// FindSalesInvoice looks a faktur up in the next list.do of fakturs.
func (b *Batcher) FindSalesInvoice(ctx context.Context, number string) (SavedDocument, bool, error) {
	return b.find(ctx, KindSalesInvoice, number)
}

// FindSalesReceipt looks a penerimaan up in the next list.do of penerimaan.
func (b *Batcher) FindSalesReceipt(ctx context.Context, number string) (SavedDocument, bool, error) {
	return b.find(ctx, KindSalesReceipt, number)
}

// FindSalesReturn looks a retur up in the next list.do of retur.
func (b *Batcher) FindSalesReturn(ctx context.Context, number string) (SavedDocument, bool, error) {
	return b.find(ctx, KindSalesReturn, number)
}

func (b *Batcher) save(ctx context.Context, kind Kind, number string, doc any) (SavedDocument, error) {
	if number == "" {
		// Without a number the answer of a lost request cannot be found
		// again: such a document goes alone, as save.do.
		return b.Client.save(ctx, string(kind)+"/save", doc, number)
	}
	c := &call{number: number, doc: doc, done: make(chan struct{})}
	b.enter([]*call{c})
	if err := b.saves[kind].wait(ctx, c); err != nil {
		return SavedDocument{}, err
	}
	return c.doc2, c.err
}

func (b *Batcher) find(ctx context.Context, kind Kind, number string) (SavedDocument, bool, error) {
	if number == "" {
		return b.Client.find(ctx, string(kind)+"/list", number)
	}
	c := &call{number: number, done: make(chan struct{})}
	b.enter([]*call{c})
	if err := b.finds[kind].wait(ctx, c); err != nil {
		return SavedDocument{}, false, err
	}
	return c.doc2, c.found, c.err
}

// sendSaves posts a batch in one bulk-save.do and gives each call its
// record's answer. When the answer is lost (a timeout, a broken
// connection, an unreadable answer), one list.do tells which records were
// saved; the others are sent again, at most bulkTries times in all.
func (b *Batcher) sendSaves(kind Kind) func([]*call) {
	return func(calls []*call) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for try := 1; len(calls) > 0; try++ {
			records := make([]Record, len(calls))
			for i, c := range calls {
				records[i] = Record{Number: c.number, Doc: c.doc}
			}
			results, err := b.BulkSave(ctx, kind, records)
			if err == nil {
				for i, r := range results {
					calls[i].answer(r)
				}
				return
			}
			if !IsAmbiguous(err) || try >= bulkTries {
				for _, c := range calls {
					c.fail(err)
				}
				return
			}
			found, ferr := b.Existing(ctx, kind, numbersOf(calls))
			if ferr != nil {
				for _, c := range calls {
					c.fail(err) // still ambiguous: the caller's retry looks its number up
				}
				return
			}
			left := calls[:0]
			for _, c := range calls {
				if doc, ok := found[c.number]; ok {
					c.doc2 = withNumber(doc, c.number)
					c.finish()
				} else {
					left = append(left, c)
				}
			}
			calls = left
		}
	}
}

// sendFinds looks a batch of numbers up in one list.do.
func (b *Batcher) sendFinds(kind Kind) func([]*call) {
	return func(calls []*call) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		found, err := b.Existing(ctx, kind, numbersOf(calls))
		for _, c := range calls {
			if err != nil {
				c.fail(err)
				continue
			}
			c.doc2, c.found = found[c.number]
			c.finish()
		}
	}
}

func numbersOf(calls []*call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.number
	}
	return out
}

// call is one caller's document in a batch, and its answer.
type call struct {
	number string
	doc    any
	done   chan struct{}
	// the answer
	doc2  SavedDocument
	found bool
	err   error
	// answered, when set, is told before the caller is woken.
	answered func()
}

func (c *call) finish() {
	if c.answered != nil {
		c.answered()
	}
	close(c.done)
}

func (c *call) fail(err error) {
	c.err = err
	c.finish()
}

// answer gives the call its record's answer in a bulk-save.do: saved, or
// the record's own error (a number that exists is ClassDuplicate, which the
// caller looks up, as after save.do).
func (c *call) answer(r BulkResult) {
	if r.Outcome == OutcomeSaved {
		c.doc2 = withNumber(r.Doc, c.number)
	} else {
		c.err = r.Err
	}
	c.finish()
}

// lane gathers the calls of one kind of request into batches.
type lane struct {
	linger   time.Duration
	inFlight int
	send     func([]*call)

	mu      sync.Mutex
	pending []*call
	flying  int
	timer   *time.Timer
}

// wait queues the call and waits for its answer, or for ctx to end: the
// batch goes on without the caller, whose retry looks the number up.
func (l *lane) wait(ctx context.Context, c *call) error {
	l.add(c)
	return l.await(ctx, c)
}

// await waits for the answer of a call already added.
func (l *lane) await(ctx context.Context, c *call) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return &Error{Class: ClassTransient, Ambiguous: true, Err: errors.Join(errors.New("gave up waiting for the bulk request"), ctx.Err())}
	}
}

func (l *lane) add(c *call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, c)
	switch {
	case l.flying >= l.inFlight:
		// The next request to end sends it.
	case len(l.pending) >= MaxBulk:
		l.dispatchAll()
	case l.timer == nil:
		l.timer = time.AfterFunc(l.linger, l.flush)
	}
}

func (l *lane) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	l.dispatchAll()
}

// dispatchAll sends what is pending, as far as the requests in flight
// allow; l.mu is held.
func (l *lane) dispatchAll() {
	for l.flying < l.inFlight && len(l.pending) > 0 {
		l.dispatch()
	}
}

// dispatch sends up to MaxBulk pending calls; l.mu is held.
func (l *lane) dispatch() {
	n := min(len(l.pending), MaxBulk)
	batch := make([]*call, n)
	copy(batch, l.pending[:n])
	l.pending = append(l.pending[:0], l.pending[n:]...)
	l.flying++
	go func() {
		l.send(batch)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.flying--
		// The calls that came meanwhile have waited already: no linger.
		l.dispatchAll()
	}()
}
