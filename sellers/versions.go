package sellers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"

	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/queue"
)

// KeepVersions is how many mapping versions of a seller are kept.
const KeepVersions = 100

// Sources of a mapping version.
const (
	SourceFile    = "file"
	SourceConsole = "console"
)

// Version is one mapping version of a seller: the YAML mapping file as it
// was saved, who made it and which mapping paths it changed.
type Version struct {
	Version   string    `json:"version"`
	Source    string    `json:"source"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Changed   []string  `json:"changed"`
	YAML      string    `json:"yaml"`
}

// ErrStale is a save whose If-Match is not the current version.
var ErrStale = errors.New("the mapping changed since it was read: load it again and repeat the change")

// ErrNoVersion is a version id the seller does not have (or no longer keeps).
var ErrNoVersion = errors.New("no such mapping version")

// Mappings keeps every seller's mapping versions in Redis, so that all
// replicas and restarts agree on the newest, and hands each replica the
// current one. The seller's file is imported as a version when its content
// is new; the file itself is never written.
type Mappings struct {
	rdb redis.UniversalClient
	ns  string
	log *zap.Logger
	now func() time.Time

	mu       sync.Mutex
	imported map[string]string // seller → hash of the file content known to be in Redis
	current  map[string]*current
}

// current is the version a replica uses for a seller, parsed once.
type current struct {
	version  string
	settings *mapping.Settings
	// seller is the overlaid Seller, remembered per file version so that
	// Get hands out the same pointer until something changes.
	seller *Seller
}

// NewMappings keeps versions under the namespace ns.
func NewMappings(rdb redis.UniversalClient, ns string, log *zap.Logger) *Mappings {
	if log == nil {
		log = zap.NewNop()
	}
	return &Mappings{rdb: rdb, ns: ns, log: log, now: time.Now, imported: map[string]string{}, current: map[string]*current{}}
}

func (m *Mappings) keys(seller string) []string {
	// One hash tag for every seller's versions: the save script touches
	// three keys of a seller at once, and the versions are small.
	p := queue.KeyPrefix(m.ns) + ":mapping:" + seller + ":"
	return []string{p + "versions", p + "file", p + "head"}
}

// save pushes a version when the rules hold: a file import only when the
// file's content is not the one imported last; an edit only when If-Match
// (ARGV[3]) is empty or the head; and either only when the head is still
// the one the change was computed against (ARGV[6]).
var save = redis.NewScript(`
local head = redis.call('GET', KEYS[3]) or ''
if ARGV[1] == 'file' and redis.call('GET', KEYS[2]) == ARGV[4] then return {'same', head} end
if ARGV[3] ~= '' and ARGV[3] ~= head then return {'stale', head} end
if ARGV[6] ~= head then return {'moved', head} end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[5]) - 1)
redis.call('SET', KEYS[3], ARGV[7])
if ARGV[1] == 'file' then redis.call('SET', KEYS[2], ARGV[4]) end
return {'ok', head}
`)

// Save makes a new current version of the seller's mapping from an edit
// (the API or the console); by is who made it. ifMatch, when not empty,
// must be the current version (else ErrStale). The YAML must already be
// checked.
func (m *Mappings) Save(ctx context.Context, seller string, yamlText []byte, source, by, ifMatch string) (*Version, error) {
	v, _, err := m.push(ctx, seller, yamlText, source, by, ifMatch, "")
	if err != nil {
		return nil, err
	}
	// This replica uses it at once (a replay right after the save runs
	// under it here); the others within their next refresh.
	if settings, perr := mapping.Parse(yamlText); perr == nil {
		m.mu.Lock()
		m.current[seller] = &current{version: v.Version, settings: settings}
		m.mu.Unlock()
	}
	return v, nil
}

// Import makes the seller's file mapping a version when its content is not
// the one imported last; it reports whether it made one.
func (m *Mappings) Import(ctx context.Context, s *Seller) (bool, error) {
	if len(s.MappingYAML) == 0 {
		return false, nil
	}
	hash := hashOf(s.MappingYAML)
	m.mu.Lock()
	known := m.imported[s.ID] == hash
	m.mu.Unlock()
	if known {
		return false, nil
	}
	_, made, err := m.push(ctx, s.ID, s.MappingYAML, SourceFile, SourceFile, "", hash)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	m.imported[s.ID] = hash
	m.mu.Unlock()
	if made {
		m.log.Info("the seller's mapping file changed: imported as its newest mapping version", zap.String("seller", s.ID))
	}
	return made, nil
}

func (m *Mappings) push(ctx context.Context, seller string, yamlText []byte, source, by, ifMatch, fileHash string) (*Version, bool, error) {
	mode := "edit"
	if fileHash != "" {
		mode = "file"
	}
	for range 10 {
		cur, err := m.Current(ctx, seller)
		if err != nil && !errors.Is(err, ErrNoVersion) {
			return nil, false, err
		}
		base := ""
		var before []byte
		if cur != nil {
			base, before = cur.Version, []byte(cur.YAML)
		}
		changed, err := ChangedPaths(before, yamlText)
		if err != nil {
			return nil, false, err
		}
		v := &Version{Version: m.newID(), Source: source, UpdatedAt: m.now().UTC(), UpdatedBy: by, Changed: changed, YAML: string(yamlText)}
		rec, err := json.Marshal(v)
		if err != nil {
			return nil, false, fmt.Errorf("mapping version: %w", err)
		}
		res, err := save.Run(ctx, m.rdb, m.keys(seller), mode, rec, ifMatch, fileHash, KeepVersions, base, v.Version).StringSlice()
		if err != nil {
			return nil, false, fmt.Errorf("saving the mapping version of seller %s: %w", seller, err)
		}
		switch res[0] {
		case "ok":
			return v, true, nil
		case "same":
			return cur, false, nil
		case "stale":
			return nil, false, ErrStale
		}
		// "moved": another save came between; compute changed again.
	}
	return nil, false, fmt.Errorf("seller %s: the mapping kept changing while saving: %w", seller, ErrStale)
}

// newID is an opaque version id that sorts by time.
func (m *Mappings) newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%s", m.now().UnixMilli(), hex.EncodeToString(b[:]))
}

// Versions lists the seller's kept versions, newest first.
func (m *Mappings) Versions(ctx context.Context, seller string) ([]Version, error) {
	recs, err := m.rdb.LRange(ctx, m.keys(seller)[0], 0, KeepVersions-1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the mapping versions of seller %s: %w", seller, err)
	}
	out := make([]Version, 0, len(recs))
	for _, r := range recs {
		var v Version
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			return nil, fmt.Errorf("mapping version of seller %s: %w", seller, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Current is the seller's newest version; ErrNoVersion when it has none.
func (m *Mappings) Current(ctx context.Context, seller string) (*Version, error) {
	rec, err := m.rdb.LIndex(ctx, m.keys(seller)[0], 0).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoVersion
	}
	if err != nil {
		return nil, fmt.Errorf("reading the mapping of seller %s: %w", seller, err)
	}
	var v Version
	if err := json.Unmarshal([]byte(rec), &v); err != nil {
		return nil, fmt.Errorf("mapping version of seller %s: %w", seller, err)
	}
	return &v, nil
}

// Get is one kept version of the seller.
func (m *Mappings) Get(ctx context.Context, seller, version string) (*Version, error) {
	vs, err := m.Versions(ctx, seller)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(vs, func(v Version) bool { return v.Version == version })
	if i < 0 {
		return nil, ErrNoVersion
	}
	return &vs[i], nil
}

// Refresh brings this replica up to date for the sellers of reg: each file
// whose content is new is imported, and each seller's newest version is
// read (one round trip for all) and parsed when it changed. A seller whose
// Redis cannot be read keeps the version it had.
func (m *Mappings) Refresh(ctx context.Context, reg *Registry) error {
	ids := reg.IDs()
	var errs []error
	for _, id := range ids {
		if s, ok := reg.file(id); ok {
			if _, err := m.Import(ctx, s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	pipe := m.rdb.Pipeline()
	heads := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		heads[i] = pipe.Get(ctx, m.keys(id)[2])
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, id := range ids {
		head, err := heads[i].Result()
		if err != nil {
			if !errors.Is(err, redis.Nil) {
				errs = append(errs, err)
			}
			continue
		}
		m.mu.Lock()
		have := m.current[id]
		m.mu.Unlock()
		if have != nil && have.version == head {
			continue
		}
		v, err := m.Current(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		settings, err := mapping.Parse([]byte(v.YAML))
		if err != nil {
			// Saves are checked first: only a hand-edited Redis gets here.
			m.log.Error("the seller's newest mapping version does not parse; it keeps the one it had", zap.String("seller", id), zap.String("version", v.Version), zap.Error(err))
			continue
		}
		m.mu.Lock()
		m.current[id] = &current{version: v.Version, settings: settings}
		m.mu.Unlock()
		m.log.Info("the seller's mapping version is now in use", zap.String("seller", id), zap.String("version", v.Version), zap.String("source", v.Source))
	}
	return errors.Join(errs...)
}

// apply is s with the current mapping version in place of its file's; s
// itself when this replica knows no version of the seller, or when the
// file's mapping is new content not yet imported (it will be the newest).
func (m *Mappings) apply(s *Seller) *Seller {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.current[s.ID]
	if c == nil {
		return s
	}
	if c.seller != nil && c.seller.fileVersion == s.Version && c.seller.File == s.File {
		return c.seller
	}
	if len(s.MappingYAML) > 0 && m.imported[s.ID] != hashOf(s.MappingYAML) {
		return s
	}
	o := *s
	o.Mapping = c.settings
	o.MappingVersion = c.version
	o.fileVersion = s.Version
	o.Version = s.Version + "/" + c.version
	c.seller = &o
	return &o
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ChangedPaths lists the mapping paths whose values differ between two
// mapping files (either may be empty), in order.
func ChangedPaths(before, after []byte) ([]string, error) {
	a, err := flatten(before)
	if err != nil {
		return nil, err
	}
	b, err := flatten(after)
	if err != nil {
		return nil, err
	}
	var out []string
	for k, v := range b {
		if w, ok := a[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// flatten reads a mapping file as path → value, paths written as the
// console names its fields (stores.1009.customer_no).
func flatten(data []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(data) == 0 {
		return out, nil
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading the mapping: %w", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				walk(child(path, k), c)
			}
		case map[any]any: // keys that read as numbers, as store ids do
			for k, c := range t {
				walk(child(path, fmt.Sprint(k)), c)
			}
		default:
			out[path] = fmt.Sprint(t)
		}
	}
	walk("", doc)
	return out, nil
}
