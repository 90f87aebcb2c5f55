// Package outage keeps a dependency's outage (Redis, a seller's Accurate) to
// a few lines of log: the first failure names the dependency and its
// address, later ones are counted and summed up at most once an interval,
// and its return is said once. Without it every loop that touches the
// dependency writes its own line each tick: hundreds a minute, none of them
// saying which address is down.
package outage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/internal/defaults"
)

// DefaultEvery is how often, at most, a Watch repeats that its dependency
// is still down.
const DefaultEvery = 30 * time.Second

// Watch follows one dependency. Its methods are safe for concurrent use.
type Watch struct {
	log   *zap.Logger
	name  string
	addr  string
	every time.Duration
	now   func() time.Time

	mu       sync.Mutex
	down     bool
	since    time.Time // when the outage began
	lastLine time.Time // when the last line about it was written
	failures int       // failures since the outage began
	held     int       // failures since the last line
	lastErr  string
}

// Config describes a Watch. Name and Addr are what the lines say ("Redis",
// "127.0.0.1:6379"): the address never carries a password.
type Config struct {
	Logger *zap.Logger
	Name   string
	Addr   string
	// Every is the least time between two lines of one outage; default
	// DefaultEvery.
	Every time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// New makes a Watch that writes to cfg.Logger (nil: nowhere).
func New(cfg Config) *Watch {
	w := &Watch{log: cfg.Logger, name: cfg.Name, addr: cfg.Addr, every: cfg.Every, now: cfg.Now}
	if w.log == nil {
		w.log = zap.NewNop()
	}
	defaults.Positive(&w.every, DefaultEvery)
	w.now = defaults.Clock(w.now)
	return w
}

// Name and Addr are the dependency's, as the lines say them.
func (w *Watch) Name() string { return w.name }
func (w *Watch) Addr() string { return w.addr }

// Down records a failure of the dependency. The first of an outage is
// logged with the address; the others only in a summary, at most once an
// interval.
func (w *Watch) Down(err error) {
	words := "unknown error"
	if err != nil {
		words = err.Error()
	}
	w.mu.Lock()
	now := w.now()
	w.failures++
	w.held++
	w.lastErr = words
	if !w.down {
		w.down, w.since, w.lastLine, w.held = true, now, now, 0
		w.mu.Unlock()
		w.log.Warn(fmt.Sprintf("%s at %s does not answer", w.name, w.addr),
			zap.String("dependency", w.name), zap.String("addr", w.addr), zap.String("error", words))
		return
	}
	if now.Sub(w.lastLine) < w.every {
		w.mu.Unlock()
		return
	}
	held, since := w.held, w.since
	w.lastLine, w.held = now, 0
	w.mu.Unlock()
	w.log.Warn(fmt.Sprintf("%s at %s still does not answer", w.name, w.addr),
		zap.String("dependency", w.name), zap.String("addr", w.addr), zap.String("down_for", now.Sub(since).Round(time.Second).String()),
		zap.Int("failures_since_last_line", held), zap.String("error", words))
}

// Up records that the dependency answered; after an outage it is logged
// once, with how long it lasted.
func (w *Watch) Up() {
	w.mu.Lock()
	if !w.down {
		w.mu.Unlock()
		return
	}
	now := w.now()
	since, failures := w.since, w.failures
	w.down, w.failures, w.held, w.lastErr = false, 0, 0, ""
	w.mu.Unlock()
	w.log.Info(fmt.Sprintf("%s at %s answers again", w.name, w.addr),
		zap.String("dependency", w.name), zap.String("addr", w.addr), zap.String("down_for", now.Sub(since).Round(time.Second).String()),
		zap.Int("failures", failures))
}

// IsDown reports whether the dependency's last news was a failure.
func (w *Watch) IsDown() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.down
}

// About tells whether a warning or error line is about the dependency being
// down: from the entry (its message, its logger's name) and the line's error
// field, nil when it has none.
type About func(ent zapcore.Entry, err error) bool

// Divert wraps core so that the warnings and errors about the dependency
// count as its failures (see Down) instead of each being written: while it
// is down, every loop that touches it would otherwise write a line a tick.
// The lines of a logger that carries one of the scoped fields (the key of
// one event, say) are always written: there is one a thing, not one a tick.
// The Watch's own logger must not write through the wrapped core.
func (w *Watch) Divert(core zapcore.Core, about About, scoped ...string) zapcore.Core {
	return divert{Core: core, w: w, about: about, scoped: scoped}
}

type divert struct {
	zapcore.Core
	w      *Watch
	about  About
	scoped []string
}

func (d divert) With(fields []zapcore.Field) zapcore.Core {
	for _, f := range fields {
		if slices.Contains(d.scoped, f.Key) {
			return d.Core.With(fields)
		}
	}
	return divert{Core: d.Core.With(fields), w: d.w, about: d.about, scoped: d.scoped}
}

func (d divert) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if d.Enabled(ent.Level) {
		return ce.AddCore(ent, d)
	}
	return ce
}

func (d divert) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	if ent.Level >= zapcore.WarnLevel {
		err := errorField(fields)
		if d.about(ent, err) {
			if err == nil {
				err = errors.New(ent.Message)
			}
			d.w.Down(err)
			return nil
		}
	}
	return d.Core.Write(ent, fields)
}

// errorField is the error of a line's zap.Error field, nil when it has none.
func errorField(fields []zapcore.Field) error {
	for _, f := range fields {
		if f.Type == zapcore.ErrorType {
			if err, ok := f.Interface.(error); ok {
				return err
			}
		}
	}
	return nil
}

// Follow asks the dependency every interval whether it answers (ask), and
// records the answer (Down or Up), until ctx ends.
func (w *Watch) Follow(ctx context.Context, every time.Duration, ask func(ctx context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		actx, cancel := context.WithTimeout(ctx, every)
		err := ask(actx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.Down(err)
		default:
			w.Up()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Await runs try until it succeeds, fails for another reason than the
// dependency (down says which errors are the dependency's), or ctx ends;
// each of the dependency's failures is recorded, and tried again after
// every. A start that needs the dependency waits for it this way rather
// than exiting, and says so once.
func (w *Watch) Await(ctx context.Context, every time.Duration, try func(ctx context.Context) error, down func(error) bool) error {
	for {
		err := try(ctx)
		if err == nil || !down(err) || ctx.Err() != nil {
			if err == nil {
				w.Up()
			}
			return err
		}
		w.Down(err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}
