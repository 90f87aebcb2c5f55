package sellers

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"forstok-accurate-sync/internal/defaults"
)

// Registry is the current set of sellers: the last valid version of each,
// and the problems of the files that are not valid now.
type Registry struct {
	dir    string // empty: a fixed set (the single-seller setup)
	loader loader
	log    *zap.Logger

	mu       sync.RWMutex
	current  map[string]*Seller
	problems map[string]Problems // by seller id, problems of its file as it is now
	inFolder map[string]bool     // sellers whose file is in the folder now
	byToken  map[string]string   // admin token → seller id

	adminToken string    // ADMIN_TOKEN, which no seller's token may equal
	state      string    // folderState as of the last reload
	mappings   *Mappings // nil: every seller uses its file's mapping
}

// UseMappings makes Get hand out each seller with its newest mapping
// version, as m last refreshed it.
func (r *Registry) UseMappings(m *Mappings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mappings = m
}

// file is the seller as its file (or the environment) defines it, without
// a mapping version.
func (r *Registry) file(id string) (*Seller, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.current[id]
	return s, ok
}

// Config builds a Registry over a folder.
type Config struct {
	Dir      string
	Getenv   func(string) string
	Defaults Defaults
	Logger   *zap.Logger
	Now      func() time.Time
	// AdminToken is ADMIN_TOKEN: a seller whose own token equals it is
	// refused, since it would quietly see every seller.
	AdminToken string
}

// Open reads every seller file of cfg.Dir. A folder that cannot be read is an
// error; invalid files are not: their problems are recorded (Status) and the
// other sellers start.
func Open(cfg Config) (*Registry, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	cfg.Now = defaults.Clock(cfg.Now)
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	r := newRegistry(cfg.Logger)
	r.dir = cfg.Dir
	r.loader = loader{getenv: cfg.Getenv, defaults: cfg.Defaults, now: cfg.Now}
	r.adminToken = cfg.AdminToken
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Fixed is a registry of sellers that never change: the single-seller setup,
// where the environment defines the seller "default".
func Fixed(ss ...*Seller) *Registry {
	r := newRegistry(zap.NewNop())
	for _, s := range ss {
		r.current[s.ID] = s
		r.inFolder[s.ID] = true
	}
	r.indexTokens()
	return r
}

func newRegistry(log *zap.Logger) *Registry {
	return &Registry{log: log, current: map[string]*Seller{}, problems: map[string]Problems{},
		inFolder: map[string]bool{}, byToken: map[string]string{}}
}

// Dir is the folder the sellers come from; empty for a fixed set.
func (r *Registry) Dir() string { return r.dir }

// Get returns the seller's current valid version, with its newest mapping
// version when UseMappings was called; false for a seller that is unknown,
// removed, or never had a valid file.
func (r *Registry) Get(id string) (*Seller, bool) {
	r.mu.RLock()
	s, ok := r.current[id]
	m := r.mappings
	r.mu.RUnlock()
	if !ok || m == nil {
		return s, ok
	}
	return m.apply(s), true
}

// IDs lists the sellers that can take webhooks now, in order.
func (r *Registry) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedIDs(r.current)
}

// AdminTokens lists the sellers' own admin tokens now: token → seller.
func (r *Registry) AdminTokens() map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return maps.Clone(r.byToken)
}

// ByAdminToken returns the seller whose own admin token is token.
func (r *Registry) ByAdminToken(token string) (string, bool) {
	if token == "" {
		return "", false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, ok := r.byToken[token]
	return id, ok
}

// Status is what an operator sees of one seller's configuration.
type Status struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Version  string    `json:"config_version"`
	LoadedAt time.Time `json:"loaded_at"`
	// Active: the seller takes webhooks (it has a valid version).
	Active   bool     `json:"active"`
	Problems Problems `json:"problems"`
}

// Status lists every seller that is configured or has problems, in order.
func (r *Registry) Status() []Status {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := map[string]bool{}
	for id := range r.current {
		ids[id] = true
	}
	for id := range r.problems {
		ids[id] = true
	}
	out := make([]Status, 0, len(ids))
	for _, id := range sortedIDs(ids) {
		st := Status{ID: id, Name: id, Problems: r.problems[id]}
		if st.Problems == nil {
			st.Problems = Problems{}
		}
		if s, ok := r.current[id]; ok {
			st.Name, st.Version, st.LoadedAt, st.Active = s.Name, s.Version, s.LoadedAt, true
		}
		out = append(out, st)
	}
	return out
}

// Reload reads every file of the folder again. A valid file replaces its
// seller's version (when it changed); an invalid one keeps the last valid
// version and records its problems; a removed file removes its seller. It
// is an error only when the folder itself cannot be read, and then nothing
// changes.
func (r *Registry) Reload() error {
	if r.dir == "" {
		return nil
	}
	state := folderState(r.dir)
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("SELLERS_DIR %s: %s", r.dir, describeIOError(err))
	}
	loaded := map[string]*Seller{}
	problems := map[string]Problems{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".yaml") || strings.HasPrefix(name, ".") ||
			strings.HasSuffix(name, ".mapping.yaml") {
			continue // mapping files and editors' leftovers live beside the sellers
		}
		s, ps := r.loader.load(filepath.Join(r.dir, name))
		id := strings.TrimSuffix(name, ".yaml")
		if len(ps) > 0 {
			problems[id] = ps
			continue
		}
		loaded[id] = s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuseSharedTokens(loaded, problems)
	next := map[string]*Seller{}
	inFolder := map[string]bool{}
	for id, s := range loaded {
		inFolder[id] = true
		old, had := r.current[id]
		switch {
		case had && old.Version == s.Version:
			next[id] = old // unchanged: keep its load time
		case had:
			next[id] = s
			r.log.Info("seller configuration changed", zap.String("seller", id), zap.String("config_version", s.Version))
		default:
			next[id] = s
			r.log.Info("seller added", zap.String("seller", id), zap.String("config_version", s.Version))
		}
	}
	for id, ps := range problems {
		inFolder[id] = true
		if old, had := r.current[id]; had {
			next[id] = old
			r.log.Warn("seller file is invalid; the seller keeps its last valid configuration",
				zap.String("seller", id), zap.String("config_version", old.Version), zap.String("problems", ps.Error()))
		} else if !slices.Equal(ps, r.problems[id]) {
			r.log.Warn("seller file is invalid; the seller is not started", zap.String("seller", id), zap.String("problems", ps.Error()))
		}
	}
	for id := range r.current {
		if !inFolder[id] {
			r.log.Info("seller removed: its webhooks answer 404, its queued events are kept", zap.String("seller", id))
		}
	}
	r.current, r.problems, r.inFolder, r.state = next, problems, inFolder, state
	r.indexTokens()
	return nil
}

// refuseSharedTokens moves to problems every seller whose admin token is
// ADMIN_TOKEN or another seller's: a token must say who is signing in. Of
// sellers sharing a token, one that held it before keeps it; when none did,
// none gets it. r.mu must be held.
func (r *Registry) refuseSharedTokens(loaded map[string]*Seller, problems map[string]Problems) {
	refuse := func(id, msg string) {
		problems[id] = append(problems[id], Problem{Seller: id, Key: "admin_token", Message: msg})
		delete(loaded, id)
	}
	byToken := map[string][]string{}
	for _, id := range sortedIDs(loaded) {
		s := loaded[id]
		switch {
		case s.AdminToken == "":
		case r.adminToken != "" && subtle.ConstantTimeCompare([]byte(s.AdminToken), []byte(r.adminToken)) == 1:
			refuse(id, "the admin token in "+s.AdminTokenFrom+" is ADMIN_TOKEN itself, which sees every seller: give this seller a token of its own")
		default:
			byToken[s.AdminToken] = append(byToken[s.AdminToken], id)
		}
	}
	for token, ids := range byToken {
		if len(ids) < 2 {
			continue
		}
		holder := ""
		for _, id := range ids {
			if old, ok := r.current[id]; ok && old.AdminToken == token {
				holder = id
			}
		}
		for _, id := range ids {
			if id == holder {
				continue
			}
			others := slices.DeleteFunc(slices.Clone(ids), func(o string) bool { return o == id })
			refuse(id, "the admin token in "+loaded[id].AdminTokenFrom+" is also the token of seller "+strings.Join(others, ", ")+
				": give each seller a token of its own")
		}
	}
}

// indexTokens rebuilds the admin token index; r.mu must be held.
func (r *Registry) indexTokens() {
	r.byToken = map[string]string{}
	for id, s := range r.current {
		if s.AdminToken != "" {
			r.byToken[s.AdminToken] = id
		}
	}
}

// Watch reloads on every change in the folder (within debounce, 1 s by
// default, so that an editor's burst of writes is one reload) and on every
// value from hup (SIGHUP), until ctx ends. A Kubernetes ConfigMap or Secret
// mounted as the folder changes by swapping its "..data" link, which is a
// change in the folder too.
//
// File events are the fast path, not the only one: the folder is also
// compared with what was last loaded when the watch starts (a file written
// before it would otherwise wait for the next change), and every few
// seconds, so a folder where inotify is unavailable or exhausted, or a
// network mount that sends no events, still reloads.
func (r *Registry) Watch(ctx context.Context, hup <-chan os.Signal, debounce time.Duration) error {
	defaults.Positive(&debounce, time.Second)
	var events <-chan fsnotify.Event
	var errs <-chan error
	rescanEvery := 30 * time.Second
	if r.dir != "" {
		w, err := watchFolder(r.dir)
		if err != nil {
			r.log.Warn("cannot watch SELLERS_DIR for changes; reading it every 2 s instead", zap.Error(err))
			rescanEvery = 2 * time.Second
		} else {
			defer w.Close()
			events, errs = w.Events, w.Errors
		}
	}
	var rescan <-chan time.Time
	if r.dir != "" {
		t := time.NewTicker(rescanEvery)
		defer t.Stop()
		rescan = t.C
	}
	var pending <-chan time.Time
	reload := func(why string) {
		if err := r.Reload(); err != nil {
			r.log.Warn("could not reload the sellers; the current ones stay", zap.String("why", why), zap.Error(err))
		}
	}
	reloadIfChanged := func(why string) {
		if r.dir != "" && folderState(r.dir) != r.loadedState() {
			reload(why)
		}
	}
	reloadIfChanged("the folder changed before the watch started")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			reload("SIGHUP")
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if pending == nil {
				pending = time.After(debounce)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				r.log.Warn("watching SELLERS_DIR", zap.Error(err))
			}
			pending = time.After(debounce)
		case <-rescan:
			reloadIfChanged("the folder changed (periodic check)")
		case <-pending:
			pending = nil
			reload("folder changed")
		}
	}
}

func watchFolder(dir string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching SELLERS_DIR: %w", err)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching SELLERS_DIR %s: %w", dir, err)
	}
	return w, nil
}

// folderState sums up the folder's entries (name, size, modification time,
// and for links their target) so that a periodic check can tell whether
// anything changed since the last reload without reading every file.
func folderState(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, e.Name())) // follows links: a swapped ..data is a change
		if err != nil {
			fmt.Fprintf(&b, "%s?;", e.Name())
			continue
		}
		fmt.Fprintf(&b, "%s %d %d;", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

func (r *Registry) loadedState() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.state
}
