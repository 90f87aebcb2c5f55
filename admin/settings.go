package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/sellers"
)

// The seller's Accurate settings (its mapping) as the admin API and the
// console edit them: read, check, save as a version, restore, and the
// choices from the seller's own Accurate.

// Mappings is what the settings need of the mapping versions
// (sellers.Mappings).
type Mappings interface {
	Current(ctx context.Context, seller string) (*sellers.Version, error)
	Versions(ctx context.Context, seller string) ([]sellers.Version, error)
	Get(ctx context.Context, seller, version string) (*sellers.Version, error)
	Save(ctx context.Context, seller string, yamlText []byte, source, by, ifMatch string) (*sellers.Version, error)
}

// SellerAccurate reads a seller's own Accurate (under its limiter): the
// rows of a master-data list matching q, and every entry of a mapping the
// database lacks (check --online).
type SellerAccurate interface {
	Search(ctx context.Context, seller string, kind accurate.ListKind, q string, limit int) ([]accurate.Entity, bool, error)
	Missing(ctx context.Context, seller string, settings *mapping.Settings) ([]mapping.Problem, error)
}

// MappingView is a seller's current mapping version.
type MappingView struct {
	Seller    string         `json:"seller"`
	Version   string         `json:"version"`
	Source    string         `json:"source"`
	UpdatedAt time.Time      `json:"updated_at"`
	UpdatedBy string         `json:"updated_by"`
	Mapping   map[string]any `json:"mapping"`
	// YAML is the mapping file itself, for Accept: application/yaml.
	YAML string `json:"-"`
}

// PathProblem is one problem of a mapping, at its path
// (stores.1009.customer_no).
type PathProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// MappingErrors is a mapping refused: every problem, nothing saved (422).
type MappingErrors struct {
	Problems []PathProblem
}

func (e *MappingErrors) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Path + ": " + p.Message
	}
	return "the mapping was not saved: " + strings.Join(parts, "; ")
}

// Saved is a new mapping version.
type Saved struct {
	Version string   `json:"version"`
	Changed []string `json:"changed"`
	// Unchecked names the online checks that could not be made because the
	// seller's Accurate did not answer; the offline rules were applied.
	Unchecked []string `json:"unchecked,omitempty"`
}

// ErrNoSettings is a Service built without mapping versions.
var ErrNoSettings = errors.New("mapping versions are not kept by this service")

// mappingOf checks the scope and the seller: another seller's, or an
// unknown one, is not found.
func (s *Service) mappingOf(scope Scope, seller string) error {
	if !scope.Allows(seller) || !s.knownSeller(seller) {
		return notFound(NotFoundSeller, seller)
	}
	if s.mappings == nil {
		return ErrNoSettings
	}
	return nil
}

// Mapping is the seller's current mapping version.
func (s *Service) Mapping(ctx context.Context, scope Scope, seller string) (*MappingView, error) {
	if err := s.mappingOf(scope, seller); err != nil {
		return nil, err
	}
	v, err := s.mappings.Current(ctx, seller)
	if err != nil {
		return nil, mappingStoreError(seller, err)
	}
	m, err := MappingAsData([]byte(v.YAML))
	if err != nil {
		return nil, err
	}
	return &MappingView{Seller: seller, Version: v.Version, Source: v.Source, UpdatedAt: v.UpdatedAt, UpdatedBy: v.UpdatedBy, Mapping: m, YAML: v.YAML}, nil
}

// Versions lists the seller's mapping versions, newest first (without
// their mappings).
func (s *Service) Versions(ctx context.Context, scope Scope, seller string) ([]sellers.Version, error) {
	if err := s.mappingOf(scope, seller); err != nil {
		return nil, err
	}
	vs, err := s.mappings.Versions(ctx, seller)
	if err != nil {
		return nil, mappingStoreError(seller, err)
	}
	for i := range vs {
		vs[i].YAML = ""
	}
	return vs, nil
}

// SaveMapping checks a mapping file with every rule of check and, while
// the seller's Accurate answers, of check --online, and saves it as the
// seller's newest version. by is who saves it (ScopeName). ifMatch, when
// set, must be the current version.
func (s *Service) SaveMapping(ctx context.Context, scope Scope, seller string, yamlText []byte, ifMatch string) (*Saved, error) {
	if err := s.mappingOf(scope, seller); err != nil {
		return nil, err
	}
	settings, err := parseMapping(yamlText)
	if err != nil {
		return nil, err
	}
	var unchecked []string
	if s.accurate != nil {
		missing, err := s.accurate.Missing(ctx, seller, settings)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			unchecked = []string{"the seller's Accurate did not answer (" + err.Error() + "), so whether its customers, accounts, items, warehouses and branches exist there was not checked: the offline rules were; check again with `check --online`"}
		case len(missing) > 0:
			return nil, &MappingErrors{Problems: pathProblems(missing)}
		}
	}
	v, err := s.mappings.Save(ctx, seller, yamlText, sellers.SourceConsole, ScopeName(scope), ifMatch)
	if err != nil {
		return nil, mappingStoreError(seller, err)
	}
	return &Saved{Version: v.Version, Changed: v.Changed, Unchecked: unchecked}, nil
}

// parseMapping checks a mapping file with the offline rules of check; its
// problems are a MappingErrors naming each path.
func parseMapping(yamlText []byte) (*mapping.Settings, error) {
	settings, err := mapping.Parse(yamlText)
	var problems *mapping.Problems
	if errors.As(err, &problems) {
		return nil, &MappingErrors{Problems: pathProblems(problems.List)}
	}
	return settings, err
}

// Restore saves a kept version's mapping as the newest, checked like any
// save.
func (s *Service) Restore(ctx context.Context, scope Scope, seller, version string) (*Saved, error) {
	if err := s.mappingOf(scope, seller); err != nil {
		return nil, err
	}
	v, err := s.mappings.Get(ctx, seller, version)
	if err != nil {
		return nil, mappingStoreError(seller, err)
	}
	return s.SaveMapping(ctx, scope, seller, []byte(v.YAML), "")
}

// ScopeName is who a scope is in a version's updated_by: "admin", or the
// seller whose own token it is.
func ScopeName(scope Scope) string {
	if scope.Seller == "" {
		return "admin"
	}
	return scope.Seller
}

func mappingStoreError(seller string, err error) error {
	switch {
	case errors.Is(err, sellers.ErrStale):
		return &StaleError{Err: err}
	case errors.Is(err, sellers.ErrNoVersion):
		return &NotFoundError{What: NotFoundVersion, More: "of seller " + seller}
	}
	return fmt.Errorf("seller %s: %w: %w", seller, events.ErrUnavailable, err)
}

// StaleError is a save whose If-Match is no longer the current version
// (412).
type StaleError struct{ Err error }

func (e *StaleError) Error() string { return e.Err.Error() }
func (e *StaleError) Unwrap() error { return e.Err }

// quotedKey is one quoted key in a mapping path: stores."1009".
var quotedKey = regexp.MustCompile(`\."((?:[^"\\]|\\.)*)"`)

// FieldPath writes a mapping path as the console names its fields, store
// and warehouse ids unquoted: stores."1009".bank_no → stores.1009.bank_no.
func FieldPath(path string) string {
	return quotedKey.ReplaceAllStringFunc(path, func(m string) string {
		if u, err := strconv.Unquote(m[1:]); err == nil {
			return "." + u
		}
		return m
	})
}

func pathProblems(ps []mapping.Problem) []PathProblem {
	out := make([]PathProblem, 0, len(ps))
	for _, p := range ps {
		path := FieldPath(p.Path)
		if path == "" {
			path = "mapping"
		}
		out = append(out, PathProblem{Path: path, Message: p.Message})
	}
	return out
}

// MappingAsData reads a mapping file as plain data, for JSON.
func MappingAsData(yamlText []byte) (map[string]any, error) {
	var doc any
	if err := yaml.Unmarshal(yamlText, &doc); err != nil {
		return nil, fmt.Errorf("reading the mapping: %w", err)
	}
	out, _ := plain(doc).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// plain turns YAML's maps with non-string keys (store ids read as numbers)
// into JSON objects.
func plain(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = plain(c)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[fmt.Sprint(k)] = plain(c)
		}
		return out
	case []any:
		for i, c := range t {
			t[i] = plain(c)
		}
	}
	return v
}

// MappingFromJSON writes the "mapping" object of a JSON body as a mapping
// file, to be checked like one: an unknown key or a wrong type is reported
// at its path.
func MappingFromJSON(body []byte) ([]byte, error) {
	var in struct {
		Mapping json.RawMessage `json:"mapping"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, &MappingErrors{Problems: []PathProblem{{Path: "mapping", Message: "the body must be a JSON object {\"mapping\": {...}}: " + err.Error()}}}
	}
	return mappingYAML(in.Mapping)
}

// mappingYAML writes a JSON mapping object as a mapping file.
func mappingYAML(raw json.RawMessage) ([]byte, error) {
	var m any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, &MappingErrors{Problems: []PathProblem{{Path: "mapping", Message: "missing or not JSON: " + err.Error()}}}
	}
	if _, ok := m.(map[string]any); !ok {
		return nil, &MappingErrors{Problems: []PathProblem{{Path: "mapping", Message: "must be an object of the mapping file's sections (stores, warehouses, amounts, ...)"}}}
	}
	out, err := yaml.Marshal(numbersAsYAML(m))
	if err != nil {
		return nil, fmt.Errorf("writing the mapping: %w", err)
	}
	return out, nil
}

// numbersAsYAML keeps a JSON number a number in YAML (an account number
// sent as 610202 is read as the file would read it).
func numbersAsYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = numbersAsYAML(c)
		}
	case []any:
		for i, c := range t {
			t[i] = numbersAsYAML(c)
		}
	case json.Number:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: t.String()}
		if strings.ContainsAny(t.String(), ".eE") {
			n.Tag = "!!float"
		}
		return n
	}
	return v
}

// Choice lists the settings choose from.
var Choice = map[string]accurate.ListKind{
	"accounts":   accurate.ListGLAccounts,
	"customers":  accurate.ListCustomers,
	"warehouses": accurate.ListWarehouses,
	"items":      accurate.ListItems,
	"branches":   accurate.ListBranches,
}

// ChoiceRow is one record of the seller's Accurate to choose.
type ChoiceRow struct {
	No   string `json:"no"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// MaxChoices is how many rows a list gives; a longer list is searched.
const MaxChoices = 200

// ChoicesTTL is how long a list read from a seller's Accurate is reused.
const ChoicesTTL = 2 * time.Minute

// choiceCache keeps lists read from sellers' Accurate for ChoicesTTL.
type choiceCache struct {
	mu   sync.Mutex
	rows map[string]cachedChoices
}

type cachedChoices struct {
	rows []ChoiceRow
	more bool
	at   time.Time
}

// Choices lists the records of a seller's own Accurate matching q (number
// or name), at most MaxChoices; more reports that others match too.
func (s *Service) Choices(ctx context.Context, scope Scope, seller, list, q string) ([]ChoiceRow, bool, error) {
	if !scope.Allows(seller) || !s.knownSeller(seller) {
		return nil, false, notFound(NotFoundSeller, seller)
	}
	kind, ok := Choice[list]
	if !ok {
		return nil, false, &NotFoundError{What: NotFoundList, Name: list, More: "accounts, customers, warehouses, items or branches"}
	}
	if len(q) > 100 {
		return nil, false, &InputError{Field: "q", Msg: "is longer than 100 characters; search with a part of the number or name", Problem: ProblemLong}
	}
	if s.accurate == nil {
		return nil, false, ErrNoSettings
	}
	key := seller + "\x00" + list + "\x00" + strings.ToLower(q)
	now := s.now()
	s.choices.mu.Lock()
	c, hit := s.choices.rows[key]
	s.choices.mu.Unlock()
	if hit && now.Sub(c.at) < ChoicesTTL {
		return c.rows, c.more, nil
	}
	ents, more, err := s.accurate.Search(ctx, seller, kind, q, MaxChoices)
	if err != nil {
		return nil, false, &AccurateError{Err: err}
	}
	rows := make([]ChoiceRow, len(ents))
	for i, e := range ents {
		rows[i] = ChoiceRow{No: e.No, Name: e.Name, Type: e.Type}
	}
	s.choices.mu.Lock()
	if s.choices.rows == nil || len(s.choices.rows) > 10000 {
		s.choices.rows = map[string]cachedChoices{}
	}
	s.choices.rows[key] = cachedChoices{rows: rows, more: more, at: now}
	s.choices.mu.Unlock()
	return rows, more, nil
}

// AccurateError is a read of the seller's Accurate that failed (502).
type AccurateError struct{ Err error }

func (e *AccurateError) Error() string {
	if accurate.ClassOf(e.Err) == accurate.ClassAuth {
		// Waiting a minute would not help: the credentials are the fix.
		return "the seller's Accurate refused its credentials while listing (" + e.Err.Error() + "): correct them where the sellers' page says, then try again"
	}
	return "the seller's Accurate did not answer the list (" + e.Err.Error() + "); try again in a minute"
}
func (e *AccurateError) Unwrap() error { return e.Err }

// MappingWith sets values (mapping path → value, as the console's form
// names its fields) in a mapping file and writes it again, to be checked
// and saved like any other. "true"/"false" under tax are booleans; an
// empty value leaves the key out (an amount kind unmapped).
func MappingWith(yamlText []byte, values map[string]string) ([]byte, error) {
	m, err := MappingAsData(yamlText)
	if err != nil {
		return nil, err
	}
	for path, v := range values {
		parts := pathParts(path)
		if len(parts) < 2 {
			return nil, &MappingErrors{Problems: []PathProblem{{Path: path, Message: "is not a field of the mapping"}}}
		}
		at := m
		for _, p := range parts[:len(parts)-1] {
			next, ok := at[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				at[p] = next
			}
			at = next
		}
		key := parts[len(parts)-1]
		switch {
		case parts[0] == "tax" || path == "auto_create.customers":
			at[key] = v == "true"
		case strings.TrimSpace(v) == "":
			delete(at, key) // not mapped
		default:
			at[key] = strings.TrimSpace(v)
		}
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("writing the mapping: %w", err)
	}
	return out, nil
}

// pathParts splits a field path; a store id, warehouse id or SKU may hold
// dots of its own, so those sections split around it.
func pathParts(path string) []string {
	section, rest, ok := strings.Cut(path, ".")
	if !ok {
		return []string{path}
	}
	switch section {
	case "warehouses", "items":
		return []string{section, rest}
	case "stores":
		i := strings.LastIndex(rest, ".")
		if i < 0 {
			return []string{section, rest}
		}
		return []string{section, rest[:i], rest[i+1:]}
	}
	return append([]string{section}, strings.Split(rest, ".")...)
}
