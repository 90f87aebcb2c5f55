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
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// Store is what the worker needs of the event store.
type Store interface {
	Begin(ctx context.Context, in events.Incoming) (events.Event, error)
	Finish(ctx context.Context, key string, r events.Result) error
	RememberFaktur(ctx context.Context, number string, totalSen int64) error
	FakturTotal(ctx context.Context, number string) (int64, bool, error)
}

// Accurate is the part of the Accurate client the worker calls.
type Accurate interface {
	SaveSalesInvoice(ctx context.Context, doc *accurate.SalesInvoice) (accurate.SavedDocument, error)
	FindSalesInvoice(ctx context.Context, number string) (accurate.SavedDocument, bool, error)
	SalesInvoiceDetail(ctx context.Context, number string) (accurate.InvoiceDetail, error)
	SaveSalesReceipt(ctx context.Context, doc *accurate.SalesReceipt) (accurate.SavedDocument, error)
	FindSalesReceipt(ctx context.Context, number string) (accurate.SavedDocument, bool, error)
}

// Metrics receives how events end; nil counts nothing.
type Metrics interface {
	EventFinished(eventType, state string)
}

// Config builds a Worker.
type Config struct {
	Store    Store
	Accurate Accurate
	Mapping  *mapping.Settings
	Decoder  *forstok.Decoder
	Logger   *zap.Logger
	Metrics  Metrics
	// InvoiceWait is how long a payment waits for its faktur to appear in
	// Accurate before it fails. Default 24h.
	InvoiceWait time.Duration
	// MaxAttempts bounds attempts after transient failures. Default 20.
	MaxAttempts int
	// RetryBase and RetryCap shape the exponential backoff. Defaults 2s, 10m.
	RetryBase, RetryCap time.Duration
	Now                 func() time.Time
}

// Worker processes events; it is an asynq.Handler.
type Worker struct {
	Config
}

// New builds a Worker.
func New(cfg Config) *Worker {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Decoder == nil {
		cfg.Decoder = forstok.NewDecoder()
	}
	if cfg.InvoiceWait <= 0 {
		cfg.InvoiceWait = 24 * time.Hour
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 20
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.RetryCap <= 0 {
		cfg.RetryCap = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{Config: cfg}
}

// outcome is how one attempt ended, before it is recorded.
type outcome struct {
	state   string // synced, retrying, failed
	reason  string
	doc     accurate.SavedDocument
	waiting bool // a payment waiting for its faktur
}

func synced(doc accurate.SavedDocument) outcome { return outcome{state: events.StateSynced, doc: doc} }

func failed(format string, args ...any) outcome {
	return outcome{state: events.StateFailed, reason: fmt.Sprintf(format, args...)}
}

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
	retried, _ := asynq.GetRetryCount(ctx)
	log := w.Logger.With(zap.String("event_key", key))
	ev, decodeErr := w.Decoder.Decode(t.Payload())
	eventType := ev.Type
	if eventType == "" {
		eventType = "unknown"
	}
	rec, err := w.Store.Begin(ctx, events.Incoming{Key: key, Type: eventType, Payload: t.Payload()})
	if err != nil {
		log.Warn("could not mark the event processing; asynq retries it", zap.Error(err))
		return fmt.Errorf("begin %s: %w", key, err)
	}
	var out outcome
	switch {
	case decodeErr != nil:
		out = failed("the stored payload is not a valid webhook any more: %v; replay a corrected body with POST /admin/replay", decodeErr)
	case ev.Invoice != nil:
		out = w.syncInvoice(ctx, rec, ev.Invoice)
	case ev.Payment != nil:
		out = w.syncReceipt(ctx, rec, ev.Payment)
	default:
		out = failed("event type %q has no processing", ev.Type)
	}
	return w.record(ctx, log, rec, eventType, retried, out)
}

// record writes the outcome to the store and tells asynq what to do next.
func (w *Worker) record(ctx context.Context, log *zap.Logger, rec events.Event, eventType string, retried int, out outcome) error {
	now := w.Now()
	if out.state == events.StateRetrying {
		switch {
		case out.waiting && now.Sub(rec.CreatedAt) >= w.InvoiceWait:
			out = failed("%s; gave up after waiting %s: sync the invoice first, then replay this payment", out.reason, w.InvoiceWait)
		case !out.waiting && retried+1 >= w.MaxAttempts:
			out = failed("%s; gave up after %d attempts: replay when Accurate answers again", out.reason, retried+1)
		}
	}
	// The store must hear how it ended: if Redis is away now, asynq runs the
	// event again and the look-up before saving keeps Accurate whole.
	var delay time.Duration
	result := events.Result{State: out.state, Error: out.reason, AccurateID: out.doc.ID, AccurateNumber: out.doc.Number}
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
	switch out.state {
	case events.StateSynced:
		log.Info("event synced", zap.String("accurate_number", out.doc.Number), zap.Int64("accurate_id", out.doc.ID), zap.Int("attempt", rec.Attempts))
		return nil
	case events.StateFailed:
		log.Warn("event failed", zap.String("reason", out.reason), zap.Int("attempt", rec.Attempts))
		return fmt.Errorf("%s: %w", out.reason, asynq.SkipRetry)
	default:
		log.Info("event will be retried", zap.String("reason", out.reason), zap.Duration("in", delay), zap.Int("attempt", rec.Attempts))
		return &retryError{delay: delay, reason: out.reason}
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
	d := base
	for i := 0; i < retried && d < w.RetryCap; i++ {
		d *= 2
	}
	d = min(d, w.RetryCap)
	return d/2 + rand.N(d/2+1)
}

// classify turns an Accurate error into an outcome: what can pass on its own
// is retried, what needs a person fails now with Accurate's words and a hint.
func classify(doing string, err error) outcome {
	msg := err.Error()
	switch accurate.ClassOf(err) {
	case accurate.ClassNotFound:
		return failed("Accurate refused %s: %s. Create it in Accurate or fix the mapping, then replay", doing, msg)
	case accurate.ClassValidation, accurate.ClassDuplicate:
		return failed("Accurate refused %s: %s. Fix the data or the mapping, then replay", doing, msg)
	case accurate.ClassAuth:
		return retry("Accurate refused the API token while %s: check ACCURATE_API_TOKEN and ACCURATE_SIGNATURE_SECRET: %s", doing, msg)
	case accurate.ClassRateLimited:
		return retry("Accurate's rate limit while %s: %s", doing, msg)
	default:
		return retry("Accurate did not answer while %s: %s", doing, msg)
	}
}

// syncInvoice posts the faktur of an invoice.created event.
func (w *Worker) syncInvoice(ctx context.Context, rec events.Event, inv *forstok.Invoice) outcome {
	doc, err := w.Mapping.SalesInvoice(inv)
	if err != nil {
		return mappingFailure(err)
	}
	if rec.Attempts > 1 {
		// An earlier attempt may have saved it and lost the answer.
		found, ok, err := w.Accurate.FindSalesInvoice(ctx, doc.Number)
		if err != nil {
			return classify("looking up faktur "+doc.Number, err)
		}
		if ok {
			return w.invoiceSynced(ctx, found, doc)
		}
	}
	saved, err := w.Accurate.SaveSalesInvoice(ctx, &doc)
	if accurate.ClassOf(err) == accurate.ClassDuplicate {
		found, ok, ferr := w.Accurate.FindSalesInvoice(ctx, doc.Number)
		switch {
		case ferr != nil:
			return classify("looking up faktur "+doc.Number, ferr)
		case !ok:
			return retry("Accurate says faktur %s exists but does not list it yet", doc.Number)
		}
		return w.invoiceSynced(ctx, found, doc)
	}
	if err != nil {
		return classify("faktur "+doc.Number, err)
	}
	return w.invoiceSynced(ctx, saved, doc)
}

// invoiceSynced remembers the faktur's total so that its payment needs no
// detail.do call.
func (w *Worker) invoiceSynced(ctx context.Context, saved accurate.SavedDocument, doc accurate.SalesInvoice) outcome {
	if saved.Number == "" {
		saved.Number = doc.Number
	}
	if saved.TotalAmount > 0 {
		if err := w.Store.RememberFaktur(ctx, saved.Number, int64(saved.TotalAmount)); err != nil {
			w.Logger.Warn("could not remember the faktur total; its payment will ask Accurate", zap.String("accurate_number", saved.Number), zap.Error(err))
		}
	}
	return synced(saved)
}

// syncReceipt posts the penerimaan of a payment.received event, once every
// faktur it pays is in Accurate.
func (w *Worker) syncReceipt(ctx context.Context, rec events.Event, p *forstok.Payment) outcome {
	number := receiptNumber(p)
	if rec.Attempts > 1 {
		found, ok, err := w.Accurate.FindSalesReceipt(ctx, number)
		if err != nil {
			return classify("looking up penerimaan "+number, err)
		}
		if ok {
			return synced(withNumber(found, number))
		}
	}
	owing := map[string]money.Amount{}
	for _, invoiceNo := range mapping.InvoiceNumbers(p) {
		total, ok, err := w.Store.FakturTotal(ctx, invoiceNo)
		if err != nil {
			return retry("reading the recorded total of faktur %s: %v", invoiceNo, err)
		}
		if ok {
			owing[invoiceNo] = money.Amount(total)
			continue
		}
		detail, err := w.Accurate.SalesInvoiceDetail(ctx, invoiceNo)
		if isMissing(err) {
			out := retry("faktur %s is not in Accurate yet (its invoice.created has not synced)", invoiceNo)
			out.waiting = true
			return out
		}
		if err != nil {
			return classify("reading faktur "+invoiceNo, err)
		}
		owing[invoiceNo] = detail.PrimeOwing
	}
	doc, err := w.Mapping.SalesReceipt(p, owing)
	if err != nil {
		return mappingFailure(err)
	}
	saved, err := w.Accurate.SaveSalesReceipt(ctx, &doc)
	switch {
	case accurate.ClassOf(err) == accurate.ClassDuplicate:
		found, ok, ferr := w.Accurate.FindSalesReceipt(ctx, number)
		if ferr != nil {
			return classify("looking up penerimaan "+number, ferr)
		}
		if !ok {
			return retry("Accurate says penerimaan %s exists but does not list it yet", number)
		}
		return synced(withNumber(found, number))
	case isMissing(err) && mentionsAny(err, mapping.InvoiceNumbers(p)):
		out := retry("Accurate does not know a faktur this payment settles yet: %v", err)
		out.waiting = true
		return out
	case err != nil:
		return classify("penerimaan "+number, err)
	}
	return synced(withNumber(saved, number))
}

func withNumber(doc accurate.SavedDocument, number string) accurate.SavedDocument {
	if doc.Number == "" {
		doc.Number = number
	}
	return doc
}

// mappingFailure words a translation error: the mapping's own sentences
// already say what to add; anything else is a data problem.
func mappingFailure(err error) outcome {
	var me *mapping.Error
	if errors.As(err, &me) {
		return failed("%s, then replay", me.Error())
	}
	return failed("cannot build the Accurate document: %v; fix the data or the mapping, then replay", err)
}

// isMissing tells whether Accurate said the document does not exist.
func isMissing(err error) bool {
	if err == nil {
		return false
	}
	return accurate.ClassOf(err) == accurate.ClassNotFound ||
		strings.Contains(strings.ToLower(err.Error()), "tidak ditemukan")
}

func mentionsAny(err error, words []string) bool {
	msg := err.Error()
	for _, w := range words {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// receiptNumber is the penerimaan's number, known before the document is
// built so that a retry can look it up first.
func receiptNumber(p *forstok.Payment) string { return "FP-" + strconv.FormatInt(p.ID, 10) }
