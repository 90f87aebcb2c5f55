package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
)

// lab is what every scenario shares: the built service binary, a scratch
// directory and the credentials of this run.
type lab struct {
	root     string // the module's root, where examples/ lives
	dir      string // scratch space of this run
	binary   string // the built forstok-accurate-sync
	redisURL string // the shared Redis, used under a fresh namespace per scenario
	secrets  credentials
	log      func(format string, args ...any)
	quick    bool // a tenth of the events
}

// credentials are made up per run: nothing here is a real secret, and none
// of it is ever printed.
type credentials struct {
	webhook, apiToken, signature, admin string
}

func newCredentials() credentials {
	return credentials{
		webhook:   "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(24)),
		apiToken:  "aat.rel-" + hex.EncodeToString(randomBytes(8)),
		signature: hex.EncodeToString(randomBytes(16)),
		admin:     hex.EncodeToString(randomBytes(16)),
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return b
}

// build compiles the service into dir, as an operator would run it.
func build(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "forstok-accurate-sync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/forstok-accurate-sync")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/forstok-accurate-sync: %w\n%s", err, b)
	}
	return out, nil
}

// accurateSandbox is the stand-in Accurate, in this process so that a
// scenario can read what it holds and change its faults directly.
type accurateSandbox struct {
	*sandbox.Server
	url string
	srv *http.Server
}

// startSandbox serves a sandbox without Accurate's limits (the service's own
// limiter is lifted too) so that runs are bound by the service, not by 8 req/s.
func (l *lab) startSandbox(faults sandbox.Faults, extraItems ...string) (*accurateSandbox, error) {
	seed := sandbox.DefaultSeed()
	seed.Items = append(seed.Items, extraItems...)
	sb := sandbox.New(sandbox.Config{
		APIToken: l.secrets.apiToken, SignatureSecret: l.secrets.signature,
		Seed: seed, Faults: faults,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox listener: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &accurateSandbox{Server: sb, url: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (s *accurateSandbox) close() { _ = s.srv.Close() }

// service is forstok-accurate-sync running as its own process.
type service struct {
	binary string
	env    map[string]string
	url    string
	logf   *os.File
	cmd    *exec.Cmd
	done   chan error
	starts int
}

// newService prepares the service's environment: a fresh Redis namespace,
// the sandbox, the example mapping (unless the scenario gives another) and
// lifted limits.
func (l *lab) newService(name, namespace, redisURL, accurateURL string, extra map[string]string) (*service, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(l.dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("service log: %w", err)
	}
	env := map[string]string{
		"LISTEN_ADDR":               addr,
		"REDIS_URL":                 redisURL,
		"REDIS_NAMESPACE":           namespace,
		"FORSTOK_WEBHOOK_SECRET":    l.secrets.webhook,
		"ACCURATE_API_TOKEN":        l.secrets.apiToken,
		"ACCURATE_SIGNATURE_SECRET": l.secrets.signature,
		"ACCURATE_HOST":             accurateURL,
		"ACCURATE_RATE_LIMIT":       "1000",
		"ACCURATE_MAX_CONCURRENCY":  "16",
		"WORKER_CONCURRENCY":        "16",
		"MAPPING_FILE":              filepath.Join(l.root, "examples", "mapping.yaml"),
		"ADMIN_TOKEN":               l.secrets.admin,
		"LOG_LEVEL":                 "warn",
		"SHUTDOWN_TIMEOUT":          "5s",
		// The shared Redis must not keep a run's events for 30 days.
		"EVENT_RETENTION": "2h",
	}
	for k, v := range extra {
		env[k] = v
	}
	return &service{binary: l.binary, env: env, url: "http://" + addr, logf: logf}, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the process and waits until /readyz answers 200.
func (s *service) start(ctx context.Context) error {
	if err := s.spawn(); err != nil {
		return err
	}
	return s.waitReady(ctx, 20*time.Second)
}

// spawn runs the process without waiting for it to be ready.
func (s *service) spawn() error {
	s.cmd = exec.Command(s.binary, "serve")
	s.cmd.Env = os.Environ()
	for k, v := range s.env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.logf, s.logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start the service: %w", err)
	}
	s.starts++
	done := make(chan error, 1)
	go func(c *exec.Cmd) { done <- c.Wait() }(s.cmd)
	s.done = done
	return nil
}

func (s *service) running() bool {
	if s.done == nil {
		return false
	}
	select {
	case err := <-s.done:
		s.done = closedWith(err)
		return false
	default:
		return true
	}
}

// closedWith is a channel that keeps answering err, so that running and
// wait can both read a process's end.
func closedWith(err error) chan error {
	c := make(chan error, 1)
	c <- err
	return c
}

func (s *service) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if !s.running() {
			return fmt.Errorf("the service exited before it was ready; see %s", s.logf.Name())
		}
		if status, err := probe(ctx, s.url+"/readyz"); err == nil && status == http.StatusOK {
			return nil
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the service was not ready within %s; see %s", within, s.logf.Name())
}

// signal sends sig and waits for the process to end.
func (s *service) signal(sig syscall.Signal) error {
	if !s.running() {
		return nil
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %v: %w", sig, err)
	}
	select {
	case err := <-s.done:
		s.done = closedWith(err)
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("the service did not stop within 30s of %v", sig)
	}
}

func (s *service) stop() error { return s.signal(syscall.SIGTERM) }

// close stops the process if it still runs and closes its log.
func (s *service) close() {
	if s.running() {
		_ = s.signal(syscall.SIGKILL)
	}
	_ = s.logf.Close()
}

// panicked tells whether the service's log shows a panic or a fatal
// runtime error.
func (s *service) panicked() bool {
	b, err := os.ReadFile(s.logf.Name())
	return err == nil && (strings.Contains(string(b), "panic:") || strings.Contains(string(b), "fatal error:"))
}

func probe(ctx context.Context, url string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// namespace is a fresh Redis prefix for one scenario on the shared Redis.
func namespace(scenario string) string {
	return "rel-" + scenario + "-" + hex.EncodeToString(randomBytes(4))
}

// dropNamespace deletes a scenario's keys from the shared Redis.
func dropNamespace(ctx context.Context, redisURL, ns string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("redis url: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	_, err = events.DropNamespace(ctx, rdb, ns)
	return err
}

// redisServer is a private redis-server this program may stop and restart,
// with append-only persistence as a deployment should have it.
type redisServer struct {
	port int
	dir  string
	logf string
	cmd  *exec.Cmd
	done chan error
}

func (l *lab) newRedisServer(name string) (*redisServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, portText, _ := net.SplitHostPort(addr)
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("port of %s: %w", addr, err)
	}
	dir := filepath.Join(l.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("redis dir: %w", err)
	}
	return &redisServer{port: port, dir: dir, logf: filepath.Join(dir, "redis.log")}, nil
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs redis-server on the same port and directory every time, so that
// a restart reads the append-only file the last one wrote.
func (r *redisServer) start(ctx context.Context) error {
	r.cmd = exec.Command("redis-server",
		"--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "everysec",
		"--save", "", "--logfile", r.logf, "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan error, 1)
	go func(c *exec.Cmd) { done <- c.Wait() }(r.cmd)
	r.done = done
	opt, _ := redis.ParseURL(r.url())
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := rdb.Ping(ctx).Err(); err == nil {
			return nil
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("redis-server on port %d did not answer within 10s; see %s", r.port, r.logf)
}

// stop sends sig and waits for redis-server to exit.
func (r *redisServer) stop(sig syscall.Signal) error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal redis-server: %w", err)
	}
	defer func() { r.cmd = nil }()
	select {
	case <-r.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
		return errors.New("redis-server did not stop within 30s")
	}
}

func (r *redisServer) close() { _ = r.stop(syscall.SIGKILL) }
