// Package rig runs the pieces a load or reliability run needs as separate
// processes, the way an operator would: the accurate-sandbox and one or
// more replicas of forstok-accurate-sync, built from this module, on
// 127.0.0.1 only, each run under its own Redis namespace so that it never
// touches anyone else's keys on the shared Redis. A replica may be stopped,
// killed and started again (Service).
package rig

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/queue"
)

// Credentials are made up per run; none of them is a real secret and none
// is ever printed.
type Credentials struct {
	Webhook, APIToken, Signature, Admin string
}

// NewCredentials makes a fresh set.
func NewCredentials() Credentials {
	return Credentials{
		Webhook:   "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(24)),
		APIToken:  "aat.perf-" + hex.EncodeToString(randomBytes(8)),
		Signature: hex.EncodeToString(randomBytes(16)),
		Admin:     hex.EncodeToString(randomBytes(16)),
	}
}

// Namespace is a fresh Redis namespace for one run.
func Namespace(what string) string { return "perf-" + what + "-" + hex.EncodeToString(randomBytes(3)) }

// OpenRedis is a client of the Redis Cluster seeded by clusterAddrs
// (comma-separated, REDIS_PASSWORD its password) when given, else of the
// Redis at redisURL.
func OpenRedis(redisURL, clusterAddrs string) (redis.UniversalClient, error) {
	if clusterAddrs != "" {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: strings.Split(clusterAddrs, ","), Password: os.Getenv("REDIS_PASSWORD"),
		}), nil
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	return redis.NewClient(opt), nil
}

// DropNamespace deletes a run's keys from the Redis at redisURL, key by key
// (never a flush: the Redis is shared).
func DropNamespace(ctx context.Context, redisURL, ns string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("redis url: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	_, err = events.DropNamespace(ctx, rdb, ns)
	return err
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return b
}

// Root finds the module's root (where go.mod is) from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from inside the repository")
		}
		dir = parent
	}
}

// Binaries are the two commands a run starts.
type Binaries struct {
	Service, Sandbox string
}

// Build compiles both commands into dir, as an operator would run them.
func Build(ctx context.Context, root, dir string) (Binaries, error) {
	b := Binaries{Service: filepath.Join(dir, "forstok-accurate-sync"), Sandbox: filepath.Join(dir, "accurate-sandbox")}
	for out, pkg := range map[string]string{b.Service: "./cmd/forstok-accurate-sync", b.Sandbox: "./cmd/accurate-sandbox"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
		}
	}
	return b, nil
}

// Bench is what a load program starts from: a client of the shared Redis
// (or of the Redis Cluster the run is given), both commands built into a
// scratch directory, credentials made up for the run and a namespace of its
// own.
type Bench struct {
	RDB   redis.UniversalClient
	Root  string // the module's root
	Dir   string // scratch: binaries, seller files, logs
	Bins  Binaries
	Creds Credentials
	NS    string
	// RedisURL and Cluster are where the replicas keep their data: the
	// Cluster seeded by Cluster's addresses (comma-separated) when it is
	// set, else the Redis at RedisURL.
	RedisURL, Cluster string
}

// Setup prepares a Bench for the program named what, on the Redis Cluster
// seeded by clusterAddrs when given, else on the Redis at redisURL; Close
// undoes it.
func Setup(ctx context.Context, what, redisURL, clusterAddrs string) (*Bench, error) {
	rdb, err := OpenRedis(redisURL, clusterAddrs)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	b := &Bench{RDB: rdb, Creds: NewCredentials(), NS: Namespace(what), RedisURL: redisURL, Cluster: clusterAddrs}
	if b.Root, err = Root(); err != nil {
		b.Close()
		return nil, err
	}
	if b.Dir, err = os.MkdirTemp("", "fas-"+what+"-"); err != nil {
		b.Close()
		return nil, err
	}
	if b.Bins, err = Build(ctx, b.Root, b.Dir); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Shards is how many shards the replicas give the namespace (the
// service's REDIS_SHARDS default): queue.DefaultShards on a Cluster, one
// on a single Redis. A store the program opens on the namespace must have
// as many.
func (b *Bench) Shards() int {
	if b.Cluster != "" {
		return queue.DefaultShards
	}
	return 1
}

// Events is the run's namespace, laid out as the replicas lay it out.
func (b *Bench) Events() *events.Namespace {
	return events.New(b.RDB, events.Config{Namespace: b.NS, Shards: b.Shards()})
}

// On says where the run keeps its data, for the printed heading.
func (b *Bench) On() string {
	if b.Cluster != "" {
		return fmt.Sprintf("a Redis Cluster (%d masters, %d shards)", Masters(context.Background(), b.RDB), b.Shards())
	}
	return "one Redis"
}

// Service is a replica's options on the run's Redis and namespace.
func (b *Bench) Service(name, accurateURL string, env map[string]string) ServiceOptions {
	return ServiceOptions{Name: name, RedisURL: b.RedisURL, ClusterAddrs: b.Cluster, Namespace: b.NS,
		AccurateURL: accurateURL, MappingFile: b.MappingFile(), Env: env}
}

// MappingFile is the example mapping of the checkout.
func (b *Bench) MappingFile() string { return filepath.Join(b.Root, "examples", "mapping.yaml") }

// ExampleSellers writes n seller files on the example mapping, each on a
// database of its own (inline: the mapping written into every file rather
// than one shared mapping_file).
func (b *Bench) ExampleSellers(n int, inline bool) (*Sellers, error) {
	mapping, err := os.ReadFile(b.MappingFile())
	if err != nil {
		return nil, err
	}
	return WriteSellers(b.Dir, b.Creds, SellersOptions{N: n, Mapping: mapping, InlineMapping: inline, OwnDatabases: true})
}

// DropKeys deletes the run's namespace from Redis, saying on out when it
// cannot: the last step of a run, after its services stopped (nothing may
// write once the keys are gone).
func (b *Bench) DropKeys(ctx context.Context, out io.Writer) {
	if _, err := events.DropNamespace(context.WithoutCancel(ctx), b.RDB, b.NS); err != nil {
		fmt.Fprintln(out, "cleanup:", err)
	}
}

// Main runs a load program's run until it returns or SIGINT or SIGTERM
// ends its context, and exits 1 naming the program when run failed.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Close drops the Redis client and the scratch directory (the namespace's
// keys are the program's to drop: it may want to read them last).
func (b *Bench) Close() {
	_ = b.RDB.Close()
	if b.Dir != "" {
		_ = os.RemoveAll(b.Dir)
	}
}

// Proc is one started process and the URL it serves on.
type Proc struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
}

// Pid is the process id, for /proc readings.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Running tells whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Signal sends sig and waits up to within for the process to exit; past
// that it kills it and says so. A process that has exited is left alone.
func (p *Proc) Signal(sig syscall.Signal, within time.Duration) error {
	if !p.Running() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && p.Running() {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(within):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s of %v", p.Name, within, sig)
	}
}

// Stop asks the process to end (SIGTERM) and kills it if it has not within
// grace. It is safe to call twice.
func (p *Proc) Stop(grace time.Duration) { _ = p.Signal(syscall.SIGTERM, grace) }

// start runs bin with args and env (on top of a minimal PATH/HOME), its
// output added to dir/name.log, and waits until GET url+probe answers 200.
func start(ctx context.Context, dir, name, bin string, args []string, env map[string]string, url, probe string) (*Proc, error) {
	logf, err := os.OpenFile(logPath(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, URL: url, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	if err := waitReady(ctx, url+probe, p); err != nil {
		p.Stop(time.Second)
		out, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("%s did not come up: %w; its output ends:\n%s", name, err, tail(out, 1000))
	}
	return p, nil
}

func logPath(dir, name string) string { return filepath.Join(dir, name+".log") }

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func waitReady(ctx context.Context, url string, p *Proc) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("exited: %v", p.err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("GET %s did not answer 200 within 20s", url)
}

// FreeAddr is a 127.0.0.1 address with a port free right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("no free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// SandboxOptions are the accurate-sandbox's flags a run sets.
type SandboxOptions struct {
	RateLimit, Concurrency int // 0 lifts the limit, of each database
	Latency                time.Duration
	// Databases, when given, serves one database per token (name → API
	// token, -databases) instead of the one of the credentials' token.
	Databases map[string]string
}

// StartSandbox runs accurate-sandbox with the run's credentials.
func StartSandbox(ctx context.Context, dir string, bins Binaries, creds Credentials, o SandboxOptions) (*Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"-listen", addr, "-rate-limit", strconv.Itoa(o.RateLimit),
		"-concurrency", strconv.Itoa(o.Concurrency), "-latency", o.Latency.String()}
	env := map[string]string{"ACCURATE_API_TOKEN": creds.APIToken, "ACCURATE_SIGNATURE_SECRET": creds.Signature}
	if len(o.Databases) > 0 {
		names := slices.Sorted(maps.Keys(o.Databases))
		pairs := make([]string, len(names))
		for i, name := range names {
			pairs[i] = name + "=" + o.Databases[name]
		}
		args = append(args, "-databases", strings.Join(pairs, ","))
		return start(ctx, dir, "sandbox", bins.Sandbox, args, env, "http://"+addr, "/sandbox/databases")
	}
	return start(ctx, dir, "sandbox", bins.Sandbox, args, env, "http://"+addr, "/sandbox/faults")
}

// ServiceOptions is one replica's environment.
type ServiceOptions struct {
	Name     string // log file name
	RedisURL string
	// ClusterAddrs, when set, is the Redis Cluster the replica uses
	// (REDIS_CLUSTER_ADDRS, which the service prefers to REDIS_URL).
	ClusterAddrs string
	Namespace    string
	AccurateURL  string
	MappingFile  string
	Env          map[string]string // anything else (WORKER_CONCURRENCY, ...)
}

// StartService runs one replica of forstok-accurate-sync and waits until it
// is ready.
func StartService(ctx context.Context, dir string, bins Binaries, creds Credentials, o ServiceOptions) (*Proc, error) {
	s, err := NewService(dir, bins, creds, o)
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s.proc, nil
}

// Service is one replica that may be stopped, killed and started again, on
// the same address, with its environment (Env, which a test may change
// between starts) and one log for all its runs.
type Service struct {
	Name string
	URL  string
	Env  map[string]string
	dir  string
	bin  string
	proc *Proc
}

// NewService prepares a replica on a free port without starting it.
func NewService(dir string, bins Binaries, creds Credentials, o ServiceOptions) (*Service, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"LISTEN_ADDR":               addr,
		"REDIS_URL":                 o.RedisURL,
		"REDIS_NAMESPACE":           o.Namespace,
		"FORSTOK_WEBHOOK_SECRET":    creds.Webhook,
		"ACCURATE_API_TOKEN":        creds.APIToken,
		"ACCURATE_SIGNATURE_SECRET": creds.Signature,
		"ACCURATE_HOST":             o.AccurateURL,
		"MAPPING_FILE":              o.MappingFile,
		"ADMIN_TOKEN":               creds.Admin,
		"LOG_LEVEL":                 "warn",
	}
	if o.ClusterAddrs != "" {
		env["REDIS_CLUSTER_ADDRS"] = o.ClusterAddrs
	}
	for k, v := range o.Env {
		env[k] = v
	}
	name := o.Name
	if name == "" {
		name = "service"
	}
	return &Service{Name: name, URL: "http://" + addr, Env: env, dir: dir, bin: bins.Service}, nil
}

// Start runs the replica and waits until /readyz answers 200.
func (s *Service) Start(ctx context.Context) error {
	if s.Running() {
		return fmt.Errorf("%s is running already", s.Name)
	}
	p, err := start(ctx, s.dir, s.Name, s.bin, []string{"serve"}, s.Env, s.URL, "/readyz")
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// Running tells whether the replica runs.
func (s *Service) Running() bool { return s.proc != nil && s.proc.Running() }

// Signal sends sig (SIGTERM to stop, SIGKILL to kill) and waits up to 30 s
// for the replica to exit.
func (s *Service) Signal(sig syscall.Signal) error {
	if s.proc == nil {
		return nil
	}
	return s.proc.Signal(sig, 30*time.Second)
}

// Close kills the replica if it still runs.
func (s *Service) Close() { _ = s.Signal(syscall.SIGKILL) }

// Log is the path of the replica's log, every run of it.
func (s *Service) Log() string { return logPath(s.dir, s.Name) }

// Panicked tells whether the replica's log shows a panic or a fatal
// runtime error.
func (s *Service) Panicked() bool {
	b, err := os.ReadFile(s.Log())
	return err == nil && (bytes.Contains(b, []byte("panic:")) || bytes.Contains(b, []byte("fatal error:")))
}

// ParseEnv reads "K=V,K=V" as given on a command line.
func ParseEnv(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KEY=VALUE", kv)
		}
		out[k] = v
	}
	return out, nil
}

// EnvOr is the environment variable name, or def when it is unset or empty:
// the load tools' flag defaults (REDIS_URL and the like).
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
