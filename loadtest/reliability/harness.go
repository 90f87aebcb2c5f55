package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/rediscluster"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/loadtest/internal/rig"
)

// lab is what every scenario shares: the built commands, a scratch
// directory and the credentials of this run.
type lab struct {
	root     string // the module's root, where examples/ lives
	dir      string // scratch space of this run
	bins     rig.Binaries
	redisURL string // the shared Redis, used under a fresh namespace per scenario
	secrets  rig.Credentials
	log      func(format string, args ...any)
	quick    bool // a tenth of the events
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
		APIToken: l.secrets.APIToken, SignatureSecret: l.secrets.Signature,
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

// newService prepares the service (not started): a fresh Redis namespace,
// the sandbox, the example mapping (unless the scenario gives another) and
// lifted limits.
func (l *lab) newService(name, namespace, redisURL, cluster, accurateURL string, extra map[string]string) (*rig.Service, error) {
	env := map[string]string{
		"ACCURATE_RATE_LIMIT":      "1000",
		"ACCURATE_MAX_CONCURRENCY": "16",
		"WORKER_CONCURRENCY":       "16",
		"SHUTDOWN_TIMEOUT":         "5s",
		// The shared Redis must not keep a run's events for 30 days.
		"EVENT_RETENTION": "2h",
	}
	for k, v := range extra {
		env[k] = v
	}
	return rig.NewService(l.dir, l.bins, l.secrets, rig.ServiceOptions{
		Name: name, RedisURL: redisURL, ClusterAddrs: cluster, Namespace: namespace, AccurateURL: accurateURL,
		MappingFile: filepath.Join(l.root, "examples", "mapping.yaml"), Env: env,
	})
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

// redisServer is a private redis-server this program may stop and restart,
// with append-only persistence as a deployment should have it.
type redisServer struct {
	port int
	dir  string
	logf string
	cmd  *exec.Cmd
	done chan error
	// cluster makes it a Redis Cluster node (its bus on port + 10000).
	cluster bool
}

func (l *lab) newRedisServer(name string) (*redisServer, error) {
	port, err := rediscluster.NodePort(nil)
	if err != nil {
		return nil, err
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
	args := []string{"--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "everysec",
		"--save", "", "--logfile", r.logf, "--daemonize", "no"}
	if r.cluster {
		// A master resharded down to no slots stays a master (Redis 7
		// would otherwise make it a replica), so that slots may move back.
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
			"--cluster-allow-replica-migration", "no")
	}
	r.cmd = exec.Command("redis-server", args...)
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
		if err := wait.Sleep(ctx, 20*time.Millisecond); err != nil {
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
