// Package rig runs the pieces a performance run needs as separate processes,
// the way an operator would: the accurate-sandbox and one or more replicas
// of forstok-accurate-sync, built from this module, on 127.0.0.1 only, each
// run under its own Redis namespace so that it never touches anyone else's
// keys on the shared Redis.
package rig

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

// Proc is one started process and the URL it serves on.
type Proc struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
	log  *os.File
}

// Pid is the process id, for /proc readings.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop asks the process to end (SIGTERM) and kills it if it has not within
// grace. It is safe to call twice.
func (p *Proc) Stop(grace time.Duration) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
	_ = p.log.Close()
}

// start runs bin with args and env (on top of a minimal PATH/HOME), its
// output going to dir/name.log, and waits until GET url+probe answers 200.
func start(ctx context.Context, dir, name, bin string, args []string, env map[string]string, url, probe string) (*Proc, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
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
	p := &Proc{Name: name, URL: url, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := waitReady(ctx, url+probe, p); err != nil {
		p.Stop(time.Second)
		out, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("%s did not come up: %w; its output ends:\n%s", name, err, tail(out, 1000))
	}
	return p, nil
}

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
	RateLimit, Concurrency int // 0 lifts the limit
	Latency                time.Duration
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
	return start(ctx, dir, "sandbox", bins.Sandbox, args, env, "http://"+addr, "/sandbox/faults")
}

// ServiceOptions is one replica's environment.
type ServiceOptions struct {
	Name        string // log file name
	RedisURL    string
	Namespace   string
	AccurateURL string
	MappingFile string
	Env         map[string]string // anything else (WORKER_CONCURRENCY, ...)
}

// StartService runs one replica of forstok-accurate-sync and waits until it
// is ready.
func StartService(ctx context.Context, dir string, bins Binaries, creds Credentials, o ServiceOptions) (*Proc, error) {
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
	for k, v := range o.Env {
		env[k] = v
	}
	name := o.Name
	if name == "" {
		name = "service"
	}
	return start(ctx, dir, name, bins.Service, []string{"serve"}, env, "http://"+addr, "/readyz")
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
