// Package testredis gives tests a Redis to talk to, real wherever one can be
// had: TEST_REDIS_URL, else 127.0.0.1:6379, else a redis-server started on a
// spare port, else (outside CI) an embedded miniredis so that a machine with
// only Go still runs the suite. Under CI=true a real Redis is required.
//
// Tests never read REDIS_URL: a shell set up to run the service against
// production must not send the tests there.
//
// Each test works under its own namespace and deletes every key of it when
// it ends. Namespaces carry their creation time, so that keys a killed test
// run left behind are swept by the next run after an hour.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
)

// Redis is a server a test may use. Tests share it with other packages
// running at the same time, so each test works under its own Namespace and
// never flushes the database.
type Redis struct {
	URL       string
	Real      bool
	Namespace string
}

// Client opens a client on r, closed when the test ends.
func (r Redis) Client(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Options is r's URL parsed for go-redis.
func (r Redis) Options(t testing.TB) *redis.Options {
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	return opt
}

// New finds a Redis for the test, in the order the package comment gives,
// and deletes the test's namespace from it when the test ends.
func New(t testing.TB) Redis {
	t.Helper()
	r := find(t)
	r.Namespace = namespacePrefix + strconv.FormatInt(time.Now().Unix(), 10) + "-" + randomHex(4)
	if r.Real {
		sweepOnce.Do(func() { sweep(r.URL, time.Hour) })
	}
	t.Cleanup(func() {
		// The test's service and clients have stopped by now: cleanups
		// registered after this one run before it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rdb := redis.NewClient(r.Options(t))
		defer rdb.Close()
		if _, err := events.DropNamespace(ctx, rdb, r.Namespace); err != nil {
			t.Errorf("testredis: delete the test's keys: %v", err)
		}
	})
	return r
}

func find(t testing.TB) Redis {
	t.Helper()
	if url := os.Getenv("TEST_REDIS_URL"); url != "" {
		if err := ping(url); err != nil {
			t.Fatalf("testredis: TEST_REDIS_URL=%s does not answer: %v", url, err)
		}
		return Redis{URL: url, Real: true}
	}
	if err := ping("redis://127.0.0.1:6379/0"); err == nil {
		return Redis{URL: "redis://127.0.0.1:6379/0", Real: true}
	}
	if _, err := exec.LookPath("redis-server"); err == nil {
		s := StartServer(t)
		return Redis{URL: s.URL, Real: true}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testredis: CI=true needs a real Redis: set TEST_REDIS_URL, run one on 127.0.0.1:6379, or install redis-server")
	}
	m := miniredis.RunT(t)
	return Redis{URL: "redis://" + m.Addr() + "/0"}
}

// namespacePrefix starts every test namespace: "test-<unix seconds>-<hex>".
const namespacePrefix = "test-"

var (
	sweepOnce   sync.Once
	namespaceRE = regexp.MustCompile(`test-([0-9]+)-[0-9a-f]+`)
)

// sweep deletes the namespaces of tests that began longer than age ago:
// the backstop for runs killed before their cleanups ran. It is best effort;
// a Redis that cannot be swept still runs the tests.
func sweep(url string, age time.Duration) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stale := map[string]bool{}
	_ = events.EachKey(ctx, rdb, namespacePrefix+"*", func(keys []string) error {
		for _, k := range keys {
			if m := namespaceRE.FindStringSubmatch(k); m != nil {
				if began, err := strconv.ParseInt(m[1], 10, 64); err == nil && time.Since(time.Unix(began, 0)) > age {
					stale[m[0]] = true
				}
			}
		}
		return nil
	})
	for ns := range stale {
		_, _ = events.DropNamespace(ctx, rdb, ns)
	}
}

// Server is a redis-server owned by one test, which may stop and restart it.
type Server struct {
	URL  string
	Port int
	dir  string
	args []string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartServer starts a private redis-server on a spare port (skipping the
// test when redis-server is not installed, failing it under CI), stopped
// when the test ends.
func StartServer(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testredis: CI=true needs redis-server installed")
		}
		t.Skip("redis-server is not installed")
	}
	s := &Server{Port: freePort(t), dir: t.TempDir(), t: t}
	s.URL = "redis://127.0.0.1:" + strconv.Itoa(s.Port) + "/0"
	s.args = extraArgs
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"),
	}, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("testredis: start redis-server: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.URL) == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("testredis: redis-server on port %d did not answer within 5s", s.Port)
}

// Stop kills the server; Restart brings it back on the same port and folder.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again after Stop, with the same arguments and
// folder (so an append-only file, when asked for, is read back).
func (s *Server) Restart() { s.start() }

func ping(url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	opt.DialTimeout = 300 * time.Millisecond
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testredis: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String describes r for test logs.
func (r Redis) String() string { return fmt.Sprintf("%s (real=%v, ns=%s)", r.URL, r.Real, r.Namespace) }
