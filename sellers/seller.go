// Package sellers holds the configuration of every seller one deployment
// serves: reading and checking the files of SELLERS_DIR (or the environment
// of a single-seller setup, which becomes the seller "default"), resolving
// their secrets from the environment or from files, reloading them while the
// service runs, and the current valid version of each. It has no HTTP and no
// queue in it: the edge routes a webhook to a seller through it, the workers
// take a seller's mapping, Accurate credentials and limits from it.
package sellers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/mapping"
)

// DefaultID is the seller of a single-seller setup and of the webhook URL
// without a seller.
const DefaultID = "default"

// idPattern is what a seller id (and its file name) may be.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// ValidID tells whether id can name a seller.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Seller is one valid version of a seller's configuration, with its secrets
// resolved. It is never changed once loaded: a reload makes a new one.
type Seller struct {
	ID   string
	Name string
	// Verifier checks the seller's Forstok webhooks.
	Verifier *forstok.Verifier
	Accurate Accurate
	// AdminToken, when set, opens the admin API for this seller only.
	AdminToken string
	// AdminTokenFrom names where the admin token is set (the variable or
	// file), for problems that must never show the token.
	AdminTokenFrom string
	// Mapping is the mapping in use: the newest mapping version (Mappings),
	// or the file's when no version is known.
	Mapping *mapping.Settings
	// MappingYAML is the mapping as the seller's file holds it, imported
	// as a version whenever it changes.
	MappingYAML []byte
	// MappingVersion is the mapping version in Mapping; empty for the
	// file's own.
	MappingVersion string
	fileVersion    string // Version before the mapping version was added
	// Version identifies the configuration (file, mapping and resolved
	// secrets): it changes exactly when something in it changed.
	Version  string
	LoadedAt time.Time
	// File is where it was read from; empty for the environment.
	File string
}

// Accurate is how the seller's Accurate database is reached.
type Accurate struct {
	APIToken        string
	SignatureSecret string
	AccountURL      string
	Host            string // empty: discovered
	// Database names the Accurate database for sharing limits; sellers with
	// the same Database share one limit. Empty: the database the token
	// opens, as discovery reports it.
	Database       string
	RateLimit      int
	MaxConcurrency int
	// CredentialsFrom names where the API token and the signature secret
	// are set (variables or files, never their values), for the advice when
	// Accurate refuses them.
	CredentialsFrom string
}

// Defaults are the application-wide settings a seller file may leave out.
type Defaults struct {
	SignatureSecret string // ACCURATE_SIGNATURE_SECRET
	AccountURL      string // ACCURATE_ACCOUNT_URL
	RateLimit       int    // ACCURATE_RATE_LIMIT
	MaxConcurrency  int    // ACCURATE_MAX_CONCURRENCY
}

// Problem is one thing wrong with a seller's configuration. It names the
// seller, the key and what is missing; never a secret's value.
type Problem struct {
	Seller  string `json:"seller"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Key == "" {
		return "seller " + p.Seller + ": " + p.Message
	}
	return "seller " + p.Seller + ": " + p.Key + ": " + p.Message
}

// Problems is every problem of one seller, reported together.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// file is the shape of <seller>.yaml. Secrets are only ever names of
// variables or files.
type file struct {
	Name    string `yaml:"name"`
	Forstok struct {
		WebhookSecretsEnv  string `yaml:"webhook_secrets_env"`
		WebhookSecretsFile string `yaml:"webhook_secrets_file"`
	} `yaml:"forstok"`
	Accurate struct {
		APITokenEnv         string `yaml:"api_token_env"`
		APITokenFile        string `yaml:"api_token_file"`
		SignatureSecretEnv  string `yaml:"signature_secret_env"`
		SignatureSecretFile string `yaml:"signature_secret_file"`
		Host                string `yaml:"host"`
		Database            string `yaml:"database"`
		RateLimit           int    `yaml:"rate_limit"`
		MaxConcurrency      int    `yaml:"max_concurrency"`
	} `yaml:"accurate"`
	AdminTokenEnv  string    `yaml:"admin_token_env"`
	AdminTokenFile string    `yaml:"admin_token_file"`
	Mapping        yaml.Node `yaml:"mapping"`
	MappingFile    string    `yaml:"mapping_file"`
}

// credentialsFrom names where a seller file takes its Accurate credentials
// from, in names only (variables, files, keys), so that it reads the same
// in any language: "TOKO_TOKEN, ACCURATE_SIGNATURE_SECRET (toko.yaml:
// accurate.api_token_env)"; the app's signature secret is named without a
// key of the file.
func credentialsFrom(file, tokenEnv, tokenFile, secretEnv, secretFile string) string {
	token, keys := tokenEnv, []string{"accurate.api_token_env"}
	if token == "" {
		token, keys = tokenFile, []string{"accurate.api_token_file"}
	}
	secret := "ACCURATE_SIGNATURE_SECRET"
	switch {
	case secretEnv != "":
		secret, keys = secretEnv, append(keys, "accurate.signature_secret_env")
	case secretFile != "":
		secret, keys = secretFile, append(keys, "accurate.signature_secret_file")
	}
	return fmt.Sprintf("%s, %s (%s: %s)", token, secret, file, strings.Join(keys, ", "))
}

// loader reads seller files; getenv is the process environment (passed in:
// only cmd reads the environment).
type loader struct {
	getenv   func(string) string
	defaults Defaults
	now      func() time.Time
}

// load reads one seller file. Every problem found is returned together.
func (l *loader) load(path string) (*Seller, Problems) {
	id := strings.TrimSuffix(filepath.Base(path), ".yaml")
	c := &collector{seller: id}
	if !ValidID(id) {
		c.add("", "the file name must be <seller>.yaml with the seller id made of a-z, 0-9 and -, starting with a letter or digit, at most 40 characters")
		return nil, c.problems
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.add("", "cannot read "+path+": "+describeIOError(err))
		return nil, c.problems
	}
	var f file
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		c.add("", "not a valid seller file: "+err.Error())
		return nil, c.problems
	}
	hash := sha256.New()
	hash.Write(data)
	secret := func(key, envName, fileName string, required bool) string {
		return c.secret(l.getenv, hash, filepath.Dir(path), key, envName, fileName, required)
	}
	s := &Seller{ID: id, Name: strings.TrimSpace(f.Name), File: path}
	if s.Name == "" {
		s.Name = id
	}
	webhook := secret("forstok.webhook_secrets", f.Forstok.WebhookSecretsEnv, f.Forstok.WebhookSecretsFile, true)
	if webhook != "" {
		v, err := forstok.NewVerifier(webhook, forstok.DefaultTolerance)
		if err != nil {
			c.add("forstok.webhook_secrets", "the secrets are malformed: want one or more whsec_... secrets, space-separated")
		}
		s.Verifier = v
	}
	s.Accurate = Accurate{
		APIToken:        secret("accurate.api_token", f.Accurate.APITokenEnv, f.Accurate.APITokenFile, true),
		SignatureSecret: secret("accurate.signature_secret", f.Accurate.SignatureSecretEnv, f.Accurate.SignatureSecretFile, false),
		AccountURL:      l.defaults.AccountURL,
		Host:            strings.TrimRight(strings.TrimSpace(f.Accurate.Host), "/"),
		Database:        strings.TrimSpace(f.Accurate.Database),
		RateLimit:       orDefault(f.Accurate.RateLimit, l.defaults.RateLimit),
		MaxConcurrency:  orDefault(f.Accurate.MaxConcurrency, l.defaults.MaxConcurrency),
	}
	s.Accurate.CredentialsFrom = credentialsFrom(filepath.Base(path), f.Accurate.APITokenEnv, f.Accurate.APITokenFile,
		f.Accurate.SignatureSecretEnv, f.Accurate.SignatureSecretFile)
	if s.Accurate.SignatureSecret == "" {
		if l.defaults.SignatureSecret == "" && !c.has("accurate.signature_secret") {
			c.add("accurate.signature_secret", "no signature_secret_env or signature_secret_file, and ACCURATE_SIGNATURE_SECRET (the app's default) is not set")
		}
		s.Accurate.SignatureSecret = l.defaults.SignatureSecret
	}
	if f.Accurate.RateLimit < 0 || f.Accurate.MaxConcurrency < 0 {
		c.add("accurate", "rate_limit and max_concurrency must be whole numbers of at least 1")
	}
	if h := s.Accurate.Host; h != "" && !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
		c.add("accurate.host", "must be an http:// or https:// URL")
	}
	s.AdminToken = secret("admin_token", f.AdminTokenEnv, f.AdminTokenFile, false)
	s.AdminTokenFrom = tokenFrom(filepath.Base(path), f.AdminTokenEnv, f.AdminTokenFile)
	if s.AdminToken != "" && len(s.AdminToken) < MinAdminTokenBytes {
		c.add("admin_token", fmt.Sprintf("the admin token in %s is %d bytes: make it at least %d, so that it cannot be guessed (e.g. openssl rand -hex 32)",
			s.AdminTokenFrom, len(s.AdminToken), MinAdminTokenBytes))
	}
	s.Mapping, s.MappingYAML = l.mapping(c, hash, filepath.Dir(path), &f)
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	s.Version = hex.EncodeToString(hash.Sum(nil))[:12]
	s.LoadedAt = l.now().UTC()
	return s, nil
}

// mapping reads the inline mapping or mapping_file, relative to the folder.
func (l *loader) mapping(c *collector, hash interface{ Write([]byte) (int, error) }, dir string, f *file) (*mapping.Settings, []byte) {
	inline := f.Mapping.Kind != 0
	switch {
	case inline && f.MappingFile != "":
		c.add("mapping", "give either mapping: or mapping_file:, not both")
		return nil, nil
	case !inline && f.MappingFile == "":
		c.add("mapping", "missing: add a mapping: section or mapping_file: naming the mapping file")
		return nil, nil
	}
	var data []byte
	key := "mapping"
	if inline {
		out, err := yaml.Marshal(&f.Mapping)
		if err != nil {
			c.add(key, err.Error())
			return nil, nil
		}
		data = out
	} else {
		key = "mapping_file"
		path := f.MappingFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			c.add(key, "cannot read "+path+": "+describeIOError(err))
			return nil, nil
		}
		data = b
	}
	_, _ = hash.Write(data)
	settings, err := mapping.Parse(data)
	var problems *mapping.Problems
	if errors.As(err, &problems) {
		for _, p := range problems.List {
			msg := p.Message
			if p.Path != "" {
				msg = p.Path + ": " + msg
			}
			if !inline && p.Line > 0 {
				msg = fmt.Sprintf("line %d: %s", p.Line, msg)
			}
			c.add(key, msg)
		}
		return nil, nil
	}
	if err != nil {
		c.add(key, err.Error())
		return nil, nil
	}
	return settings, data
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// collector gathers a seller's problems.
type collector struct {
	seller   string
	problems Problems
}

func (c *collector) add(key, msg string) {
	c.problems = append(c.problems, Problem{Seller: c.seller, Key: key, Message: msg})
}

func (c *collector) has(key string) bool {
	for _, p := range c.problems {
		if p.Key == key {
			return true
		}
	}
	return false
}

// secret resolves key from the variable envName or the file fileName. The
// value goes into the version hash (so a rotated secret is a new version)
// but never into a problem.
func (c *collector) secret(getenv func(string) string, hash interface{ Write([]byte) (int, error) }, dir, key, envName, fileName string, required bool) string {
	envName, fileName = strings.TrimSpace(envName), strings.TrimSpace(fileName)
	var v string
	switch {
	case envName != "" && fileName != "":
		c.add(key, "give either "+key+"_env or "+key+"_file, not both")
		return ""
	case envName != "":
		v = strings.TrimSpace(getenv(envName))
		if v == "" {
			c.add(key, "the environment variable "+envName+" (named by "+lastPart(key)+"_env) is not set or empty")
			return ""
		}
	case fileName != "":
		path := fileName
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			c.add(key, "cannot read the file "+path+" (named by "+lastPart(key)+"_file): "+describeIOError(err))
			return ""
		}
		if v = strings.TrimSpace(string(b)); v == "" {
			c.add(key, "the file "+path+" (named by "+lastPart(key)+"_file) is empty")
			return ""
		}
	default:
		if required {
			c.add(key, "missing: add "+lastPart(key)+"_env naming an environment variable or "+lastPart(key)+"_file naming a file that holds it (never the secret itself)")
		}
		return ""
	}
	_, _ = hash.Write([]byte{0})
	_, _ = hash.Write([]byte(v))
	return v
}

// MinAdminTokenBytes is the shortest admin token taken, ADMIN_TOKEN's and
// every seller's.
const MinAdminTokenBytes = 32

// tokenFrom says where a seller file sets its admin token.
func tokenFrom(file, envName, fileName string) string {
	if envName = strings.TrimSpace(envName); envName != "" {
		return envName + " (admin_token_env of " + file + ")"
	}
	return strings.TrimSpace(fileName) + " (admin_token_file of " + file + ")"
}

func lastPart(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// describeIOError says what went wrong reading a file without the
// operating system's wording of the path twice.
func describeIOError(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// sortedIDs returns the keys of m in order.
func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
