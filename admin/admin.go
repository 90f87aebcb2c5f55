// Package admin is what an operator can do to the sync: list, read, search
// and replay events, see the overview and the sellers' configuration. The
// JSON admin API (handler) and the operator console (console) both call this
// one Service, so the two never disagree on what an action does or who may
// see what.
package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/queue"
	"forstok-accurate-sync/worker"
)

// Store is what the admin operations need of the event store.
type Store interface {
	Get(ctx context.Context, key string) (events.Event, error)
	List(ctx context.Context, f events.Filter) ([]events.Event, string, error)
	Replay(ctx context.Context, key string) error
	ReplayRaw(ctx context.Context, in events.Incoming) error
	ByOrder(ctx context.Context, number string) ([]events.Event, error)
	Counts(ctx context.Context) (map[string]int64, error)
	HourCounts(ctx context.Context, state string, until time.Time, hours int) ([]int64, error)
	Oldest(ctx context.Context, state string) (time.Time, bool, error)
	AccurateCallsLastMinute(ctx context.Context) (int64, error)
}

// Queue is the queue of every seller (events.Namespace.Queue), which the admin
// token's overview and the sellers' page read.
type Queue interface {
	// QueueDepth is how many tasks wait or are scheduled to run again.
	QueueDepth(ctx context.Context) (int, error)
	// Fairness is how many of the seller's events are released to the
	// workers and how many wait for room in its share.
	Fairness(ctx context.Context, seller string) (queue.Fairness, error)
}

// DefaultSeller is the name of the one seller of a single-seller setup.
const DefaultSeller = "default"

// Scope is who is asking: an admin token sees every seller, a seller's token
// only its own.
type Scope struct {
	Seller string // empty: every seller
}

// All is the admin token's scope.
var All = Scope{}

// Allows tells whether the scope may see the seller's events.
func (s Scope) Allows(seller string) bool { return s.Seller == "" || s.Seller == seller }

// InputError is a request the service refuses before touching anything; it
// names the field.
type InputError struct {
	Field string
	Msg   string
	// Problem names what is wrong as data (one of the Problem constants),
	// so that the console says it in the reader's language; Value is the
	// value refused, when it helps to show it.
	Problem string
	Value   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

// Problems of an InputError.
const (
	ProblemEscape  = "escape"  // a query string not validly escaped
	ProblemForm    = "form"    // a form body not validly escaped
	ProblemChoice  = "choice"  // a value that is none of the ones allowed
	ProblemRange   = "range"   // a number out of its range
	ProblemMissing = "missing" // a value that is required
	ProblemLong    = "long"    // a value longer than allowed
	ProblemDay     = "day"     // a day that is not yyyy-mm-dd
	ProblemBefore  = "before"  // a range that ends before it starts
	ProblemSpan    = "span"    // a range of days longer than a report covers
	ProblemSeller  = "seller"  // a seller that does not exist
	ProblemCursor  = "cursor"  // a cursor this service did not return
	ProblemBody    = "body"    // a request body that is not what was asked for
	ProblemWith    = "with"    // a parameter that does not go with another (Value)
)

// NotFoundError is a thing that does not exist, or that the scope may not
// see (the same answer, so that a seller's token learns nothing of the
// others). It is an events.ErrNotFound.
type NotFoundError struct {
	What string // one of the NotFound constants
	Name string
	// More says more, in words (a store's seller and its stores).
	More string
}

// What a NotFoundError names.
const (
	NotFoundSeller  = "seller"
	NotFoundEvent   = "event"
	NotFoundStore   = "store"
	NotFoundList    = "list"
	NotFoundVersion = "mapping version"
	NotFoundPreview = "event to preview"
	// NotFoundReconciliation: a service built without reconciliation.
	NotFoundReconciliation = "reconciliation"
)

func (e *NotFoundError) Error() string {
	msg := e.What
	if e.Name != "" {
		msg += " " + e.Name
	}
	if e.More != "" {
		msg += " (" + e.More + ")"
	}
	return msg + ": not found"
}

// Is makes a NotFoundError an events.ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == events.ErrNotFound }

// Config builds a Service.
type Config struct {
	// Store is the default seller's events.
	Store Store
	// StoreFor is one seller's part of the store; nil knows the default
	// seller's only (Store).
	StoreFor func(seller string) Store
	// Queue is every seller's queue; nil: the overview counts the events
	// queued and retrying instead, and the sellers' page shows no share
	// (released and held 0).
	Queue   Queue
	Decoder *forstok.Decoder
	// Sellers lists the sellers and their configuration; nil is the one
	// default seller with nothing known about its configuration.
	Sellers func() []Seller
	Now     func() time.Time
	// Reconciler makes reconciliation reports; nil has none to make.
	Reconciler Reconciler
	// DailyRuns are the kept daily reconciliations; nil: the overview
	// shows none.
	DailyRuns DailyRuns
	// Mappings keeps the sellers' mapping versions; nil: the settings
	// operations answer that they are not kept here.
	Mappings Mappings
	// Accurate reads the sellers' own Accurate for the settings; nil: the
	// online checks are not made and no choices are listed.
	Accurate SellerAccurate
	// PreviewFor is what a mapping preview reads of one seller; nil:
	// previews answer that they are not made here.
	PreviewFor PreviewFor
}

// PreviewFor is one seller's events as the worker reads them
// (events.Store) and its order memory (package orders: a return's recorded
// returns, a faktur's total), which a preview builds its documents from
// with the worker's own code.
type PreviewFor func(seller string) (worker.Store, worker.Orders)

// Service is the operators' operations.
type Service struct {
	storeFor   func(seller string) Store
	queue      Queue
	previewFor PreviewFor
	decoder    *forstok.Decoder
	sellers    func() []Seller
	now        func() time.Time
	// reconciler makes the reconciliation reports (reconciliation.go).
	reconciler Reconciler
	dailyRuns  DailyRuns
	mappings   Mappings
	accurate   SellerAccurate
	choices    choiceCache
}

// New builds a Service.
func New(cfg Config) *Service {
	if cfg.Decoder == nil {
		cfg.Decoder = forstok.NewDecoder()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sellers == nil {
		cfg.Sellers = func() []Seller { return []Seller{{Name: DefaultSeller, Location: time.UTC}} }
	}
	if cfg.StoreFor == nil {
		only := cfg.Store
		cfg.StoreFor = func(string) Store { return only }
	}
	return &Service{storeFor: cfg.StoreFor, queue: cfg.Queue, previewFor: cfg.PreviewFor, decoder: cfg.Decoder, sellers: cfg.Sellers, now: cfg.Now,
		reconciler: cfg.Reconciler, dailyRuns: cfg.DailyRuns, mappings: cfg.Mappings, accurate: cfg.Accurate}
}

// SellerOf is the seller an event belongs to.
func SellerOf(ev events.Event) string {
	if ev.Seller == "" {
		return DefaultSeller
	}
	return ev.Seller
}

// notFound is what a scope is told of a thing it may not see or that does
// not exist.
func notFound(what, name string) error { return &NotFoundError{What: what, Name: name} }

// Known tells whether a seller is configured (or has a file with problems).
func (s *Service) Known(seller string) bool { return s.knownSeller(seller) }

// storeOf is the store of seller as scope may see it; seller "" is the
// scope's own seller, or the default seller for the admin token.
func (s *Service) storeOf(scope Scope, seller string) (Store, string, error) {
	if seller == "" {
		seller = scope.Seller
	}
	if seller == "" {
		seller = DefaultSeller
	}
	if !scope.Allows(seller) || (seller != DefaultSeller && !s.knownSeller(seller)) {
		return nil, seller, notFound(NotFoundSeller, seller)
	}
	return s.storeFor(seller), seller, nil
}

// visibleSellers are the ids of the sellers scope sees, in order.
func (s *Service) visibleSellers(scope Scope) []string {
	var out []string
	for _, sl := range s.sellers() {
		if scope.Allows(sl.SellerID()) {
			out = append(out, sl.SellerID())
		}
	}
	return out
}

// ListQuery selects events to list.
type ListQuery struct {
	// Seller whose events; "" is the scope's own seller (the default
	// seller for the admin token).
	Seller string
	State  string
	Type   string
	Limit  int // 0: 50
	Cursor string
}

// check refuses a query naming a state or type there is none of, or a
// limit out of bounds.
func (q ListQuery) check() error {
	if q.State != "" && !slices.Contains(events.States, q.State) {
		return &InputError{Field: "state", Msg: "must be one of " + strings.Join(events.States, ", "), Problem: ProblemChoice, Value: q.State}
	}
	if q.Type != "" && !forstok.IsType(q.Type) {
		return &InputError{Field: "type", Msg: "must be one of " + strings.Join(forstok.TypeNames(), ", "), Problem: ProblemChoice, Value: q.Type}
	}
	if q.Limit < 0 || q.Limit > 500 {
		return LimitError()
	}
	return nil
}

// LimitError refuses a page size out of bounds.
func LimitError() error {
	return &InputError{Field: "limit", Msg: "must be a number from 1 to 500", Problem: ProblemRange}
}

// List returns events newest first, a page at a time.
func (s *Service) List(ctx context.Context, scope Scope, q ListQuery) ([]events.Event, string, error) {
	if err := q.check(); err != nil {
		return nil, "", err
	}
	store, _, err := s.storeOf(scope, q.Seller)
	if err != nil {
		return nil, "", err
	}
	evs, next, err := store.List(ctx, events.Filter{State: q.State, Type: q.Type, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return nil, "", err
	}
	return visible(scope, evs), next, nil
}

func visible(scope Scope, evs []events.Event) []events.Event {
	out := evs[:0:0]
	for _, ev := range evs {
		if scope.Allows(SellerOf(ev)) {
			out = append(out, ev)
		}
	}
	return out
}

// Get returns one event with its payload and history, of the scope's own
// seller (the default seller's for the admin token).
func (s *Service) Get(ctx context.Context, scope Scope, key string) (events.Event, error) {
	return s.GetOf(ctx, scope, "", key)
}

// GetOf returns one event of a seller; an event of a seller the scope may
// not see is not found, as if it did not exist.
func (s *Service) GetOf(ctx context.Context, scope Scope, seller, key string) (events.Event, error) {
	if key == "" {
		return events.Event{}, &InputError{Field: "key", Msg: "is missing: name an event, as invoice.created:70001", Problem: ProblemMissing}
	}
	store, _, err := s.storeOf(scope, seller)
	if err != nil {
		return events.Event{}, notFound(NotFoundEvent, key)
	}
	ev, err := store.Get(ctx, key)
	if err != nil {
		return events.Event{}, err
	}
	if !scope.Allows(SellerOf(ev)) {
		return events.Event{}, notFound(NotFoundEvent, key)
	}
	ev.Failure = FailureOf(ev)
	return ev, nil
}

// Replay queues a known event of the scope's own seller again, whatever
// its state.
func (s *Service) Replay(ctx context.Context, scope Scope, key string) error {
	return s.ReplayOf(ctx, scope, "", key)
}

// ReplayOf queues a known event of a seller again, whatever its state.
func (s *Service) ReplayOf(ctx context.Context, scope Scope, seller, key string) error {
	if _, err := s.GetOf(ctx, scope, seller, key); err != nil {
		return err
	}
	store, _, err := s.storeOf(scope, seller)
	if err != nil {
		return err
	}
	return store.Replay(ctx, key)
}

// ReplayBody validates a webhook body like intake does (without a
// signature: the token stands for it) and queues it even if its key was
// seen before. It returns the event's key.
func (s *Service) ReplayBody(ctx context.Context, scope Scope, body []byte) (string, error) {
	return s.ReplayBodyOf(ctx, scope, "", body)
}

// ReplayBodyOf is ReplayBody for a seller ("" : the scope's own).
func (s *Service) ReplayBodyOf(ctx context.Context, scope Scope, seller string, body []byte) (string, error) {
	store, _, err := s.storeOf(scope, seller)
	if err != nil {
		return "", err
	}
	ev, err := s.decoder.Decode(body)
	if err != nil {
		return "", err
	}
	key := ev.Key()
	return key, store.ReplayRaw(ctx, events.Incoming{Key: key, Type: ev.Type, Payload: body, Orders: ev.OrderNumbers()})
}

// MaxReplayAll bounds one "replay every failed event": a seller with more
// presses again.
const MaxReplayAll = 5000

// Replayed is what a replay of every failed event did.
type Replayed struct {
	Queued []string `json:"queued"`
	// Busy were being processed (a worker took them in between); replay
	// them again if they fail.
	Busy []string `json:"busy"`
	// More is true when MaxReplayAll was reached and failed events remain.
	More bool `json:"more"`
}

// ReplayFailed queues every failed event of a seller again ("" : of every
// seller the scope sees).
func (s *Service) ReplayFailed(ctx context.Context, scope Scope, seller string) (Replayed, error) {
	if seller != "" && !scope.Allows(seller) {
		return Replayed{}, notFound(NotFoundSeller, seller)
	}
	if seller != "" && !s.knownSeller(seller) {
		return Replayed{}, &InputError{Field: "seller", Msg: fmt.Sprintf("no seller is named %q", seller), Problem: ProblemSeller, Value: seller}
	}
	ids := []string{seller}
	if seller == "" {
		ids = s.visibleSellers(scope)
	}
	var out Replayed
	for _, id := range ids {
		if len(out.Queued)+len(out.Busy) >= MaxReplayAll {
			out.More = true
			break
		}
		done, err := s.replayFailedOf(ctx, s.storeFor(id), MaxReplayAll-len(out.Queued)-len(out.Busy), nil)
		out.Queued = append(out.Queued, done.Queued...)
		out.Busy = append(out.Busy, done.Busy...)
		out.More = out.More || done.More
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// ReplayFailedFor queues again the failed events of a seller whose failure
// names one of the mapping paths keys (after a mapping version changed
// them).
func (s *Service) ReplayFailedFor(ctx context.Context, scope Scope, seller string, keys []string) (Replayed, error) {
	if !scope.Allows(seller) || !s.knownSeller(seller) {
		return Replayed{}, notFound(NotFoundSeller, seller)
	}
	return s.replayFailedOf(ctx, s.storeFor(seller), MaxReplayAll, func(ev events.Event) bool {
		f := FailureOf(ev)
		return f != nil && f.Key != "" && slices.Contains(keys, f.Key)
	})
}

// replayFailedOf replays at most limit failed events of one seller's store
// (those match takes; all of them when it is nil).
func (s *Service) replayFailedOf(ctx context.Context, store Store, limit int, match func(events.Event) bool) (Replayed, error) {
	// Collect first, then replay: a replayed event leaves the failed index,
	// which would shift the pages under a cursor.
	var keys []string
	cursor := ""
	for len(keys) <= limit {
		evs, next, err := store.List(ctx, events.Filter{State: events.StateFailed, Limit: 500, Cursor: cursor})
		if err != nil {
			return Replayed{}, err
		}
		for _, ev := range evs {
			if match == nil || match(ev) {
				keys = append(keys, ev.Key)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var out Replayed
	if len(keys) > limit {
		keys, out.More = keys[:limit], true
	}
	for _, key := range keys {
		err := store.Replay(ctx, key)
		switch {
		case err == nil:
			out.Queued = append(out.Queued, key)
		case errors.Is(err, events.ErrBusy):
			out.Busy = append(out.Busy, key)
		case errors.Is(err, events.ErrNotFound): // expired meanwhile
		default:
			return out, err
		}
	}
	return out, nil
}

// Search finds the events about a marketplace order number (across event
// types), newest first; an event key (invoice.created:70001) finds that
// event too.
func (s *Service) Search(ctx context.Context, scope Scope, order string) ([]events.Event, error) {
	return s.SearchOf(ctx, scope, "", order)
}

// SearchOf finds the events of an order number among one seller's events
// (seller "": every seller the scope sees), newest first.
func (s *Service) SearchOf(ctx context.Context, scope Scope, seller, order string) ([]events.Event, error) {
	if events.NormalizeOrderNumber(order) == "" {
		return nil, &InputError{Field: "order", Msg: "type a marketplace order number", Problem: ProblemMissing}
	}
	if len(order) > 200 {
		return nil, &InputError{Field: "order", Msg: "is longer than 200 characters; an order number is shorter", Problem: ProblemLong}
	}
	ids := s.visibleSellers(scope)
	if seller != "" {
		// A seller filter that names nobody is said, not ignored: the
		// caller would take an empty answer for "no such order".
		if !scope.Allows(seller) || !s.knownSeller(seller) {
			return nil, notFound(NotFoundSeller, seller)
		}
		ids = []string{seller}
	}
	var all []events.Event
	for _, id := range ids {
		store := s.storeFor(id)
		evs, err := store.ByOrder(ctx, order)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			if ev, err := store.Get(ctx, order); err == nil {
				ev.Payload, ev.History = nil, nil
				evs = []events.Event{ev}
			}
		}
		all = append(all, evs...)
	}
	slices.SortStableFunc(all, func(a, b events.Event) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return visible(scope, all), nil
}

func (s *Service) knownSeller(id string) bool {
	for _, sl := range s.sellers() {
		if sl.SellerID() == id {
			return true
		}
	}
	return false
}
