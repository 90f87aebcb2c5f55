// Package worker turns one queued Forstok event into one Accurate document.
// It decides, by the class of each failure, whether to retry (Accurate busy
// or down, the faktur of a payment not there yet) or to fail at once with a
// reason the seller can act on (mapping, data, Accurate's validation), and
// makes posting idempotent at Accurate: a retry looks the number up before
// saving again, and "the number exists" counts as synced.
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/outage"
	"forstok-accurate-sync/reconcile"
)

// Store is what the worker needs of the event records.
type Store interface {
	Begin(ctx context.Context, in events.Incoming) (events.Event, error)
	Finish(ctx context.Context, key string, r events.Result) error
	Get(ctx context.Context, key string) (events.Event, error)
	VoidUnposted(ctx context.Context, key, voidKey string) (string, error)
}

// Orders is what the worker remembers across events of one order, for
// payments, voids and returns (package orders).
type Orders interface {
	RememberFaktur(ctx context.Context, number string, totalSen int64) error
	FakturTotal(ctx context.Context, number string) (int64, bool, error)
	ClaimNumber(ctx context.Context, kind, number, key string) (owner string, err error)
	NumberOwner(ctx context.Context, kind, number string) (key string, ok bool, err error)
	MarkVoided(ctx context.Context, invoiceID int64, voidKey string) error
	VoidOf(ctx context.Context, invoiceID int64) (string, bool, error)
	NotePaid(ctx context.Context, receipt string, fakturs []string) error
	PaidBy(ctx context.Context, faktur string) ([]string, error)
	Settles(ctx context.Context, receipt string) ([]string, bool, error)
	ForgetFaktur(ctx context.Context, faktur string) error
	NotePosted(ctx context.Context, faktur, eventKey string) error
	PostedBy(ctx context.Context, faktur string) (string, bool, error)
	RecordReturn(ctx context.Context, faktur, number string, what []byte) error
	ReturnsOf(ctx context.Context, faktur string) (map[string][]byte, error)
	Lock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error)
	MarkDone(ctx context.Context, name string) error
	IsDone(ctx context.Context, name string) (bool, error)
}

// Wakes brings waiting events forward when what they wait for happens.
type Wakes interface {
	// AwaitFaktur registers the event as waiting for the faktur.
	AwaitFaktur(ctx context.Context, faktur, key string) error
	// WakeFaktur runs now the events waiting for the faktur.
	WakeFaktur(ctx context.Context, faktur string) (int, error)
	// NoteAccurateDown marks Accurate as not answering; AccurateDown reads
	// the mark; RunRetries clears it and runs every retrying event now.
	NoteAccurateDown(ctx context.Context) error
	AccurateDown(ctx context.Context) (bool, error)
	RunRetries(ctx context.Context) (int, error)
}

// Missing remembers briefly what Accurate was found to lack, so that many
// refusals naming one missing item cost one look-up.
type Missing interface {
	NoteMissing(ctx context.Context, kind string, numbers []string, ttl time.Duration) error
	RememberedMissing(ctx context.Context, kind string, numbers []string) (map[string]bool, error)
	ForgetMissing(ctx context.Context, kind string, numbers []string) error
}

// Queue is the seller's part of the queue an attempt goes through: the hold
// that keeps an event to one worker at a time, and its place among its
// seller's events released to the workers (the fair scheduling), freed when
// the attempt ends.
type Queue interface {
	Hold(ctx context.Context, key string) (held context.Context, release func(), err error)
	Done(ctx context.Context, key string) error
}

// Accurate is the part of the Accurate client the worker calls.
type Accurate interface {
	SaveSalesInvoice(ctx context.Context, doc *accurate.SalesInvoice) (accurate.SavedDocument, error)
	FindSalesInvoice(ctx context.Context, number string) (accurate.SavedDocument, bool, error)
	SalesInvoiceDetail(ctx context.Context, number string) (accurate.InvoiceDetail, error)
	SaveSalesReceipt(ctx context.Context, doc *accurate.SalesReceipt) (accurate.SavedDocument, error)
	FindSalesReceipt(ctx context.Context, number string) (accurate.SavedDocument, bool, error)
	SalesReceiptDetail(ctx context.Context, number string) (accurate.ReceiptDetail, error)
	DeleteSalesInvoice(ctx context.Context, number string) error
	DeleteSalesReceipt(ctx context.Context, number string) error
	SaveSalesReturn(ctx context.Context, doc *accurate.SalesReturn) (accurate.SavedDocument, error)
	FindSalesReturn(ctx context.Context, number string) (accurate.SavedDocument, bool, error)
	SaveItem(ctx context.Context, item *accurate.Item) error
	SaveCustomer(ctx context.Context, cust *accurate.Customer) error
	KnownNumbers(ctx context.Context, kind accurate.ListKind, numbers []string) (map[string]bool, error)
}

// Days files each event's document under its day, for the
// reconciliation.
type Days interface {
	FileDay(ctx context.Context, day string, l events.DayLine) error
}

// Prober is the Accurate client's cheap call that touches no document, for
// Recover.
type Prober interface {
	CheckCredentials(ctx context.Context) error
}

// Metrics receives how events end; nil counts nothing.
type Metrics interface {
	EventFinished(eventType, state string)
}

// Defaults of Config, the one home of these figures (the service's settings
// fall back to them).
const (
	DefaultInvoiceWait = 24 * time.Hour
	DefaultMaxAttempts = 20
	// DefaultConcurrency is how many events one replica works at once:
	// enough to fill a bulk-save.do (the Accurate client gathers the saves
	// of events in flight into bulk requests; its limiter, not this figure,
	// bounds the requests to Accurate), twice over for one seller's share
	// of the workers (queue.DefaultShare), so that another seller's events
	// always find workers free.
	DefaultConcurrency = 4 * accurate.MaxBulk
	DefaultRetryBase   = 2 * time.Second
	DefaultRetryCap    = 10 * time.Minute
	// DefaultMissingMemory is how long a missing item or customer is
	// remembered: long enough to explain a flash sale's refusals with one
	// look-up, short enough that one added by hand is soon seen (a replay
	// forgets at once).
	DefaultMissingMemory = time.Minute
)

// Config builds a Worker. The parts of the event store it uses are wired
// one by one (the service wires them all); a worker built for previews
// needs Store and Orders only, as it neither runs events nor recovers.
type Config struct {
	Store   Store
	Orders  Orders
	Queue   Queue
	Wakes   Wakes
	Days    Days
	Missing Missing
	// Probe tells whether Accurate answers again, for Recover (the
	// client's CheckCredentials).
	Probe Prober
	// MissingMemory is how long what Accurate was found to lack is
	// remembered. Default DefaultMissingMemory.
	MissingMemory time.Duration
	Accurate      Accurate
	Mapping       *mapping.Settings
	Decoder       *forstok.Decoder
	Logger        *zap.Logger
	Metrics       Metrics
	// InvoiceWait is how long a payment or a return waits for its faktur to
	// appear in Accurate before it fails. Default DefaultInvoiceWait.
	InvoiceWait time.Duration
	// MaxAttempts bounds the attempts in all (the first one included) while
	// failures are transient. Default DefaultMaxAttempts.
	MaxAttempts int
	// RetryBase and RetryCap shape the exponential backoff. Defaults
	// DefaultRetryBase, DefaultRetryCap.
	RetryBase, RetryCap time.Duration
	// Credentials names where this seller's Accurate API token and
	// signature secret are set, for the advice when Accurate refuses them.
	// Default DefaultCredentials.
	Credentials string
	// Outage, when set, follows the seller's Accurate: the first event that
	// finds it down names it once in the log, not every event's retry.
	Outage *outage.Watch
	Now    func() time.Time
}

// Worker processes events; it is an asynq.Handler.
type Worker struct {
	Config
	process map[string]processor
}

// New builds a Worker.
func New(cfg Config) *Worker {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Decoder == nil {
		cfg.Decoder = forstok.NewDecoder()
	}
	defaults.Positive(&cfg.MissingMemory, DefaultMissingMemory)
	defaults.Positive(&cfg.InvoiceWait, DefaultInvoiceWait)
	defaults.Positive(&cfg.MaxAttempts, DefaultMaxAttempts)
	defaults.Positive(&cfg.RetryBase, DefaultRetryBase)
	defaults.Positive(&cfg.RetryCap, DefaultRetryCap)
	cfg.Now = defaults.Clock(cfg.Now)
	defaults.Empty(&cfg.Credentials, DefaultCredentials)
	w := &Worker{Config: cfg}
	w.process = w.processors()
	return w
}

// processor turns one decoded event into its Accurate document. Each event
// type of forstok's table has one, in a file of its own.
type processor func(ctx context.Context, rec events.Event, ev forstok.Event) outcome

// processors is the worker's dispatch, by event type.
func (w *Worker) processors() map[string]processor {
	return map[string]processor{
		forstok.TypeInvoiceCreated:  w.processInvoiceCreated,
		forstok.TypePaymentReceived: w.processPaymentReceived,
		forstok.TypeInvoiceVoided:   w.processInvoiceVoided,
		forstok.TypeReturnCreated:   w.processReturnCreated,
	}
}

// outcome is how one attempt ended, before it is recorded.
type outcome struct {
	state    string // synced, retrying, failed, voided
	reason   string
	doc      accurate.SavedDocument
	waiting  bool   // a payment or return waiting for its faktur
	waitsFor string // the faktur it waits for, when known: its sync wakes the event
	down     bool   // Accurate did not answer (5xx, timeout, connection): the recovery probe watches it
	voidedBy string // for voided: the invoice.voided event
	note     string // for synced: what else was done, for the history
	// failure is what to fix: for failed, as recorded; for retrying, what
	// the event fails with should its attempts or its wait run out.
	failure events.Failure
	// advice, for retrying, tells what happens meanwhile; it is said while
	// the event retries, not once it has given up (the hint says then).
	advice string
}

func synced(doc accurate.SavedDocument) outcome { return outcome{state: events.StateSynced, doc: doc} }

func retry(format string, args ...any) outcome {
	return outcome{state: events.StateRetrying, reason: fmt.Sprintf(format, args...)}
}

// retryError carries the delay the worker chose to asynq's RetryDelay.
type retryError struct {
	delay  time.Duration
	reason string
}

func (e *retryError) Error() string { return e.reason }

// ProcessTask handles one event task. It returns nil when the event is
// synced, an asynq.SkipRetry error when it failed for good, and a retryError
// when it should run again.
func (w *Worker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	key, _ := asynq.GetTaskID(ctx)
	return w.processKey(ctx, key, t)
}

// processKey handles the task of the event key (the task id less its seller).
func (w *Worker) processKey(ctx context.Context, key string, t *asynq.Task) error {
	retried, _ := asynq.GetRetryCount(ctx)
	log := w.Logger.With(zap.String("event_key", key))
	defer w.done(ctx, log, key)
	// The task's body, when it carries one (an older version's intake, a
	// replay, TASK_BODY=task), is the event's. A task without one, as
	// intake enqueues them, is read from its record once it is begun.
	body := t.Payload()
	var (
		ev        forstok.Event
		decodeErr error
	)
	if len(body) > 0 {
		ev, decodeErr = w.Decoder.Decode(body)
	}
	eventType := ev.Type
	defaults.Empty(&eventType, "unknown")
	// Held before it shows processing, so that an event shown processing
	// without a hold is one whose worker stopped. The work stops when the
	// hold lapses: the event may be another worker's by then.
	ctx, release, err := w.Queue.Hold(ctx, key)
	if err != nil {
		log.Warn("could not take the event (another worker holds it, or Redis did not answer); asynq runs it again", zap.Error(err))
		return fmt.Errorf("hold %s: %w", key, err)
	}
	defer release()
	rec, err := w.Store.Begin(ctx, events.Incoming{Key: key, Type: eventType, Payload: body})
	if err != nil {
		log.Warn("could not mark the event processing; asynq retries it", zap.Error(err))
		return fmt.Errorf("begin %s: %w", key, err)
	}
	if len(body) == 0 {
		body = rec.Payload
		ev, decodeErr = w.Decoder.Decode(body)
		eventType = ev.Type
		defaults.Empty(&eventType, "unknown")
	}
	var out outcome
	if len(body) == 0 {
		out = fail(events.Failure{Kind: events.FailForstok, Hint: "Replay the webhook's body with POST /admin/replay"},
			"the event's body is kept neither in its task nor in its record: there is nothing to post")
	} else if decodeErr != nil {
		out = fail(events.Failure{Kind: events.FailForstok, Hint: "Replay a corrected body with POST /admin/replay"},
			"the stored payload is not a valid webhook any more: %v", decodeErr)
	} else if process, ok := w.process[ev.Type]; ok {
		if day, line, ok := reconcile.Filing(w.Mapping, key, ev); ok {
			w.fileDay(ctx, log, day, line)
		}
		out = process(ctx, rec, ev)
		if out.waitsFor != "" && w.awaitFaktur(ctx, log, rec.Key, out.waitsFor) {
			// The faktur synced while this attempt looked for it.
			out = process(ctx, rec, ev)
		}
	} else {
		out = fail(events.Failure{Kind: events.FailOther, Hint: "Nothing to replay: this service posts nothing for such events"},
			"event type %q has no processing", ev.Type)
	}
	return w.record(ctx, log, rec, eventType, retried, out)
}

// fileDay files the event's document in the day book. A reconciliation
// without it would call the event unknown; the event itself goes on.
func (w *Worker) fileDay(ctx context.Context, log *zap.Logger, day string, line events.DayLine) {
	if err := w.Days.FileDay(ctx, day, line); err != nil {
		log.Warn("could not file the event under its day; the reconciliation will not count it until it is filed on its next attempt",
			zap.String("day", day), zap.Error(err))
	}
}

// done frees the event's place among its seller's released events once the
// attempt has ended, however it ended; when Redis does not answer, the place
// is freed by its bound.
func (w *Worker) done(ctx context.Context, log *zap.Logger, key string) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := w.Queue.Done(bg, key); err != nil {
		log.Warn("could not free the event's place among its seller's released events; freed by its bound", zap.Error(err))
	}
}

// invoiceWaitNote names the setting that bounds a wait for a faktur; a
// reason that gives up waiting names it once, at its end.
const invoiceWaitNote = " (PAYMENT_INVOICE_WAIT)"

// record writes the outcome to the store and tells asynq what to do next.
func (w *Worker) record(ctx context.Context, log *zap.Logger, rec events.Event, eventType string, retried int, out outcome) error {
	now := w.Now()
	if out.state == events.StateRetrying {
		switch {
		case out.waiting && now.Sub(rec.CreatedAt) >= w.InvoiceWait:
			f := out.failure
			if f.Kind == "" {
				f = events.Failure{Kind: events.FailInvoice, Record: "faktur " + out.waitsFor}
			}
			defaults.Empty(&f.Hint, hintInvoiceFirst)
			out = fail(f, "%s; gave up after waiting %s"+invoiceWaitNote, strings.TrimSuffix(out.reason, invoiceWaitNote), w.InvoiceWait)
		case !out.waiting && retried+1 >= w.MaxAttempts:
			f := out.failure
			if f.Kind == "" {
				f = events.Failure{Kind: events.FailOther, Hint: hintReplay + " once the cause above is gone"}
			}
			out = fail(f, "%s; gave up after %d attempts (MAX_ATTEMPTS)", out.reason, retried+1)
		}
	}
	out.reason = out.words()
	// The reason may quote a huge field of the webhook: the log line and the
	// record get the same bounded text.
	out.reason = events.BoundNote(out.reason)
	// The store must hear how it ended: if Redis is away now, asynq runs the
	// event again and the look-up before saving keeps Accurate whole.
	var delay time.Duration
	result := events.Result{State: out.state, Error: out.reason, AccurateID: out.doc.ID, AccurateNumber: out.doc.Number,
		VoidedBy: out.voidedBy, Note: out.note}
	if out.state == events.StateFailed {
		result.Failure = &out.failure
	}
	if out.state == events.StateRetrying {
		delay = w.backoff(retried, out.waiting)
		result.NextAttemptAt = now.Add(delay)
	}
	if err := w.Store.Finish(ctx, rec.Key, result); err != nil {
		log.Warn("could not record the outcome; asynq runs the event again", zap.String("state", out.state), zap.Error(err))
		return fmt.Errorf("finish %s: %w", rec.Key, err)
	}
	if w.Metrics != nil {
		w.Metrics.EventFinished(eventType, out.state)
	}
	if out.state == events.StateSynced && eventType == forstok.TypeInvoiceCreated {
		w.wakeWaiters(ctx, log, out.doc.Number)
	}
	if w.Outage != nil {
		switch {
		case out.down:
			w.Outage.Down(errors.New(out.reason))
		case out.state == events.StateSynced:
			w.Outage.Up()
		}
	}
	if out.state == events.StateRetrying && out.down {
		if err := w.Wakes.NoteAccurateDown(ctx); err != nil {
			log.Warn("could not note that Accurate is down; the event waits out its backoff after Accurate is back", zap.Error(err))
		}
	}
	switch out.state {
	case events.StateSynced:
		log.Info("event synced", zap.String("accurate_number", out.doc.Number), zap.Int64("accurate_id", out.doc.ID), zap.Int("attempt", rec.Attempts))
		return nil
	case events.StateVoided:
		log.Info("event voided before it posted", zap.String("voided_by", out.voidedBy))
		return nil
	case events.StateFailed:
		log.Warn("event failed", zap.String("reason", out.reason), zap.Int("attempt", rec.Attempts))
		return fmt.Errorf("%s: %w", out.reason, asynq.SkipRetry)
	default:
		log.Info("event will be retried", zap.String("reason", out.reason), zap.Duration("in", delay), zap.Int("attempt", rec.Attempts))
		return &retryError{delay: delay, reason: out.reason}
	}
}

// awaitFaktur registers the event as a waiter of the faktur, then reports
// whether the faktur's invoice event has synced meanwhile. The invoice event
// records its sync before it wakes the waiters, and a waiter registers
// before it looks: one of the two always sees the other.
func (w *Worker) awaitFaktur(ctx context.Context, log *zap.Logger, key, faktur string) bool {
	if err := w.Wakes.AwaitFaktur(ctx, faktur, key); err != nil {
		log.Warn("could not register the event as waiting for its faktur; it waits out its backoff", zap.String("faktur", faktur), zap.Error(err))
		return false
	}
	inv, ok := w.fakturOwner(ctx, faktur)
	return ok && inv.State == events.StateSynced
}

// wakeWaiters runs now the payments and returns waiting for the faktur
// that has just synced.
func (w *Worker) wakeWaiters(ctx context.Context, log *zap.Logger, faktur string) {
	if faktur == "" {
		return
	}
	n, err := w.Wakes.WakeFaktur(ctx, faktur)
	switch {
	case err != nil:
		log.Warn("could not wake the events waiting for the faktur; they run at their next retry", zap.String("faktur", faktur), zap.Error(err))
	case n > 0:
		log.Info("woke the events waiting for the faktur", zap.String("faktur", faktur), zap.Int("events", n))
	}
}

// RetryDelay is the asynq.RetryDelayFunc: the delay the worker chose, or an
// exponential backoff for failures outside the worker's own decisions.
func (w *Worker) RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var re *retryError
	if errors.As(err, &re) {
		return re.delay
	}
	return w.backoff(n, false)
}

// backoff is exponential with jitter: half the step fixed, half random, so
// that replicas retrying together spread out. A payment waiting for its
// faktur polls less eagerly.
func (w *Worker) backoff(retried int, waiting bool) time.Duration {
	base := w.RetryBase
	if waiting {
		base *= 5
	}
	return backoff(base, w.RetryCap, retried)
}

func backoff(base, ceiling time.Duration, retried int) time.Duration {
	d := base
	for i := 0; i < retried && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d/2 + rand.N(d/2+1)
}

// classify turns an Accurate error met while doing something ("looking
// up", "" for a save) to a record ("faktur SO-1") into an outcome: what can
// pass on its own is retried, what needs a person fails now with
// Accurate's words and a hint.
func (w *Worker) classify(doing, record string, err error) outcome {
	what := record
	if doing != "" {
		what = doing + " " + record
	}
	// "while saving faktur X" where a refusal says "refused faktur X".
	while := what
	if doing == "" {
		while = "saving " + record
	}
	msg := err.Error()
	words := accurateWords(err)
	switch accurate.ClassOf(err) {
	case accurate.ClassNotFound:
		return fail(events.Failure{Kind: events.FailAccurate, Record: record, AccurateMessage: words, Hint: hintAccurateMissing},
			"Accurate refused %s: %s", what, msg)
	case accurate.ClassValidation, accurate.ClassDuplicate:
		return fail(events.Failure{Kind: events.FailAccurate, Record: record, AccurateMessage: words, Hint: hintAccurateData},
			"Accurate refused %s: %s", what, msg)
	case accurate.ClassAuth:
		return retry("Accurate refused the API token or its signature while %s: %s", while, msg).
			pending(events.Failure{Kind: events.FailCredentials, AccurateMessage: words,
				Hint: "Check " + w.Credentials + " and correct them, then replay this event"}).
			meanwhile("Check " + w.Credentials + " and correct them; the event is retried meanwhile")
	case accurate.ClassRateLimited:
		return retry("Accurate's rate limit stopped %s: %s", while, msg).
			pending(events.Failure{Kind: events.FailWait, AccurateMessage: words,
				Hint: hintAccurateAway + "; if Accurate's rate limit keeps stopping it, another program shares the database's limit"}).
			meanwhile("It is retried after a pause; if this persists, another program shares the database's limit")
	default:
		if errors.Is(err, accurate.ErrLimitUnavailable) {
			// Nothing reached Accurate: Redis, which holds the limit, is down.
			return retry("Redis, which holds the seller's shared Accurate rate limit, did not answer while %s: %s", while, msg).
				pending(events.Failure{Kind: events.FailOther, Hint: "Redis did not answer: once it answers again, replay this event"}).
				meanwhile("It is retried; nothing was sent to Accurate")
		}
		out := retry("Accurate did not answer while %s: %s", while, msg).
			pending(events.Failure{Kind: events.FailWait, Hint: hintAccurateAway}).
			meanwhile("It is retried; nothing to do unless Accurate stays down")
		out.down = !errors.Is(err, context.Canceled)
		return out
	}
}

// claim makes the event the owner of an Accurate number before anything is
// posted under it. Only the owner goes on: its own retries and replays find
// the number theirs and look it up before saving, while another event with
// the same number (two Forstok invoices sharing an order.local_name) fails,
// naming the owner, instead of being taken for the owner's document.
func (w *Worker) claim(ctx context.Context, rec events.Event, kind, number string) (outcome, bool) {
	owner, err := w.Orders.ClaimNumber(ctx, kind, number, rec.Key)
	switch {
	case err != nil:
		return retry("could not claim %s %s for this event (the event store did not answer): %v", kind, number, err), false
	case owner != rec.Key:
		return fail(events.Failure{Kind: events.FailForstok, Record: kind + " " + number,
			Hint: "Give this order its own local_name in Forstok and replay the corrected body with POST /admin/replay"},
			"%s %s already belongs to event %s: two Forstok events cannot share one Accurate number, and this one's content was not posted",
			kind, number, owner), false
	}
	return outcome{}, true
}

func withNumber(doc accurate.SavedDocument, number string) accurate.SavedDocument {
	defaults.Empty(&doc.Number, number)
	return doc
}

// mappingFailure words a translation error: the mapping's own sentences
// already say what to add (a mapping key) or what is wrong with the data.
func mappingFailure(err error) outcome {
	var me *mapping.Error
	if errors.As(err, &me) {
		if me.Key == "" {
			return fail(events.Failure{Kind: events.FailForstok, Hint: hintForstokData}, "%s", me.Error())
		}
		return fail(events.Failure{Kind: events.FailMapping, Key: me.Key, Hint: hintMapping}, "%s", me.Error())
	}
	return fail(events.Failure{Kind: events.FailOther, Hint: hintAccurateData}, "cannot build the Accurate document: %v", err)
}

func mentionsAny(err error, words []string) bool { return firstMentioned(err, words) != "" }

// firstMentioned is the first of words the error's text mentions, or "".
func firstMentioned(err error, words []string) string {
	msg := err.Error()
	for _, w := range words {
		if w != "" && strings.Contains(msg, w) {
			return w
		}
	}
	return ""
}
