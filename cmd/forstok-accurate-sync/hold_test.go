package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/internal/wait"
)

// Without the hold, both cases below wait for asynq: its 30 s lease, then
// its recoverer, which runs once a minute for leases 30 s gone (60 to 120 s).
const holdTimeout = 2 * time.Second

func TestAnEventWhoseEndWasLostWithRedisRunsAgainWithinTheHoldTimeout(t *testing.T) {
	w := newWorld(t, func(c *sandbox.Config) { c.Faults.Latency = 1500 * time.Millisecond })
	// A private Redis that keeps its data across the restart, as a
	// deployment's should (appendonly, every write on disk).
	srv := testredis.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	w.redis = testredis.Redis{URL: srv.URL, Real: true, Namespace: w.redis.Namespace}
	// Accurate is reached through a gate that tells when the save arrives.
	saving := make(chan struct{})
	var once sync.Once
	gate := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "save") {
			once.Do(func() { close(saving) })
		}
		w.sandbox.ServeHTTP(rw, r)
	}))
	t.Cleanup(gate.Close)
	w.extraEnv = map[string]string{"WORKER_CONCURRENCY": "1", "EVENT_HOLD_TIMEOUT": holdTimeout.String(), "ACCURATE_HOST": gate.URL}
	w.start()
	key := invoiceKey(1)
	if status := w.send(generatedInvoice(1)); status != http.StatusAccepted {
		t.Fatalf("delivery = %d", status)
	}
	select {
	case <-saving:
	case <-time.After(20 * time.Second):
		t.Fatal("the faktur was not sent to Accurate within 20s")
	}
	// Redis goes away while the faktur is being posted and stays away until
	// the worker has failed to record that it synced, and asynq to move the
	// task on (it keeps trying with a context already ended, so the task
	// stays active until its lease is recovered).
	srv.Stop()
	failed := func() bool {
		logs := w.logs.String()
		return strings.Contains(logs, "could not record the outcome") && strings.Contains(logs, "Will retry syncing")
	}
	if !wait.Until(20*time.Second, 20*time.Millisecond, failed) || len(w.sandbox.Invoices()) != 1 {
		t.Fatalf("with Redis down: %d fakturs, the end and the task's move failed: %v; want the faktur posted and both failed",
			len(w.sandbox.Invoices()), failed())
	}
	srv.Restart()
	back := time.Now()
	states := w.waitFor([]string{key}, 5*holdTimeout+5*time.Second)
	if states[key] != "synced" {
		t.Fatalf("%s after Redis came back the event is %q; want synced within about the hold timeout (%s)",
			time.Since(back).Round(100*time.Millisecond), states[key], holdTimeout)
	}
	t.Logf("synced %s after Redis came back", time.Since(back).Round(100*time.Millisecond))
	if n := len(w.sandbox.Invoices()); n != 1 {
		t.Errorf("Accurate holds %d fakturs; want the one, posted once", n)
	}
	history, _ := w.event(key)["history"].([]any)
	if !strings.Contains(fmt.Sprint(history), "its worker stopped without finishing") {
		t.Errorf("history %v; want a line saying the worker stopped and it was queued again", history)
	}
}

func TestAReplayOfAnEventWhoseProcessWasKilledIsAcceptedWithinTheHoldTimeout(t *testing.T) {
	// The first process hangs on Accurate, so that it is killed holding the event.
	w := newWorld(t, func(c *sandbox.Config) { c.Faults.Latency = 10 * time.Second })
	w.extraEnv = map[string]string{"EVENT_HOLD_TIMEOUT": holdTimeout.String()}
	p := w.startProcess()
	key := invoiceKey(2)
	if status := w.send(generatedInvoice(2)); status != http.StatusAccepted {
		t.Fatalf("delivery = %d", status)
	}
	if states := w.waitFor([]string{key}, 20*time.Second, "processing"); states[key] != "processing" {
		t.Fatalf("the event never showed as processing: %v", states)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	killed := time.Now()
	w.sandbox.SetFaults(sandbox.Faults{})
	w.startProcess()
	var status int
	var body map[string]any
	accepted := wait.Until(5*holdTimeout+5*time.Second, 100*time.Millisecond, func() bool {
		status, body = w.admin(http.MethodPost, "/admin/events/"+key+"/replay", nil)
		return status == http.StatusAccepted
	})
	if !accepted {
		t.Fatalf("replay %s after the kill = %d %v; want 202 once the hold (%s) lapsed",
			time.Since(killed).Round(100*time.Millisecond), status, body, holdTimeout)
	}
	t.Logf("replay accepted %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	if states := w.waitFor([]string{key}, 20*time.Second); states[key] != "synced" || len(w.sandbox.Invoices()) != 1 {
		t.Errorf("after the replay: %v and %d fakturs; want synced, one faktur", states, len(w.sandbox.Invoices()))
	}
}
