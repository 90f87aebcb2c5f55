package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/syncbuf"
	"forstok-accurate-sync/internal/testnet"
	"forstok-accurate-sync/internal/wait"
)

var built struct {
	once sync.Once
	path string
	err  error
}

// binary builds the command once for the tests that run it as a
// subprocess, as a user or an orchestrator would.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "fas-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "forstok-accurate-sync")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = &buildError{out: string(out), err: err}
		}
	})
	if built.err != nil {
		t.Fatalf("build the command: %v", built.err)
	}
	return built.path
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// process is the service running as its own process, as in production.
type process struct {
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	done chan error
}

// startProcess runs the built command with the world's environment on a
// free port and waits until it is ready.
func (w *world) startProcess() *process {
	w.t.Helper()
	addr := testnet.FreeAddr(w.t)
	env := w.env()
	env["LISTEN_ADDR"] = addr
	p := &process{cmd: exec.Command(binary(w.t), "serve"), logs: w.logs, done: make(chan error, 1)}
	p.cmd.Env = os.Environ()
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = w.logs, w.logs
	if err := p.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	w.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	w.url = "http://" + addr
	ready := wait.Until(30*time.Second, 50*time.Millisecond, func() bool {
		resp, err := http.Get(w.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ready {
		w.t.Fatalf("the service did not become ready within 30s:\n%s", w.logs.Tail(3000))
	}
	return p
}

func TestSIGKILLLosesNothingAndDuplicatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service as a process, kills it and restarts it")
	}
	w := newWorld(t, func(c *sandbox.Config) {
		c.RateLimit, c.MaxConcurrency = 0, 0
		c.Faults.Latency = 150 * time.Millisecond
	})
	w.extraEnv = map[string]string{"ACCURATE_RATE_LIMIT": "40", "ACCURATE_MAX_CONCURRENCY": "8"}
	p := w.startProcess()
	const n = 100
	posted := func() int { return len(w.sandbox.Invoices()) + len(w.sandbox.Receipts()) }
	// The kill comes once a few documents are posted, while most are still
	// queued: during the deliveries when the machine is slow to send them,
	// else right after; deliveries after the kill go to the restarted service.
	killed, synced := false, 0
	kill := func() {
		synced = posted()
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		killed = true
		t.Logf("killed the service with %d of %d documents posted", synced, 2*n)
		w.startProcess()
	}
	var keys []string
	for i := range n {
		keys = append(keys, invoiceKey(i), paymentKey(i))
		for _, body := range [][]byte{generatedInvoice(i), generatedPayment(i)} {
			if status := w.send(body); status != http.StatusAccepted {
				t.Fatalf("delivery %d = %d", i, status)
			}
		}
		if !killed && posted() >= 20 {
			kill()
		}
	}
	if !killed {
		if !wait.Until(time.Minute, 10*time.Millisecond, func() bool { return posted() >= 20 }) {
			t.Fatalf("only %d documents posted within a minute of the deliveries", posted())
		}
		kill()
	}
	if synced >= 2*n {
		t.Fatalf("killed with %d of %d documents posted; the test wants a kill mid-run", synced, 2*n)
	}

	states := w.waitFor(keys, 3*time.Minute)
	if c := count(states); c["synced"] != 2*n {
		t.Fatalf("after the restart: %v; want all %d synced", c, 2*n)
	}
	assertOneDocumentEach(t, w.sandbox, n)
}

func TestSIGTERMFinishesEventsInFlightAndLeavesTheRestQueued(t *testing.T) {
	w := newWorld(t, func(c *sandbox.Config) { c.Faults.Latency = 1500 * time.Millisecond })
	w.extraEnv = map[string]string{"WORKER_CONCURRENCY": "2", "SHUTDOWN_TIMEOUT": "10s"}
	p := w.startProcess()
	const n = 6
	var keys []string
	for i := range n {
		keys = append(keys, invoiceKey(i))
		if status := w.send(generatedInvoice(i)); status != http.StatusAccepted {
			t.Fatalf("delivery %d = %d", i, status)
		}
	}
	// Wait until both workers hold an event, then ask the service to stop.
	if !wait.Until(30*time.Second, 20*time.Millisecond, func() bool { return count(w.states(keys))["processing"] == 2 }) {
		t.Fatalf("two events never showed as processing at once: %v", w.states(keys))
	}
	began := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err != nil {
		t.Fatalf("the service exited with %v after SIGTERM; want 0\n%s", err, w.logs.Tail(2000))
	}
	took := time.Since(began)
	posted := len(w.sandbox.Invoices())
	if posted == 0 || posted == n {
		t.Errorf("%d of %d fakturs posted by shutdown; want the ones in flight finished and the rest left", posted, n)
	}
	if took > 10*time.Second {
		t.Errorf("shutdown took %s; SHUTDOWN_TIMEOUT is 10s", took)
	}

	w.startProcess()
	states := w.waitFor(keys, time.Minute)
	if c := count(states); c["synced"] != n || len(w.sandbox.Invoices()) != n {
		t.Errorf("after a restart: %v and %d fakturs; want all %d synced once", c, len(w.sandbox.Invoices()), n)
	}
}
