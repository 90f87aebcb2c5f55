package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The edge under attack, against the built binary with the memory limit the
// shipped manifests set: the process's resident memory stays under 150 MiB
// and a real webhook is still answered while the attack goes on.
// docs/reliability.md gives the figures and the command.

const (
	attackRSSLimit  = 150 << 20
	manifestMemHint = "200MiB" // GOMEMLIMIT in deploy/k8s and compose
)

func TestEdgeHoldsUnderSlowUnauthenticatedBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service as a process under 400 slow connections")
	}
	w, p, addr := attacked(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// 400 connections each claiming a 1 MiB body under headers that pass
	// (a fresh timestamp, a junk signature), sent at 40 kB/s: the attack of
	// the abuse review. Each starts again when answered.
	var answered atomic.Int64
	var wg sync.WaitGroup
	for range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if slowBody(ctx, addr) {
					answered.Add(1)
				}
			}
		}()
	}
	peak, latencies := watch(t, w, p, 12*time.Second)
	cancel()
	wg.Wait()
	t.Logf("400 slow 1 MiB bodies: peak RSS %d MiB, %d attack requests answered, webhooks answered in %v",
		peak>>20, answered.Load(), latencies)
	if peak > attackRSSLimit {
		t.Errorf("peak RSS %d MiB; want under %d MiB", peak>>20, attackRSSLimit>>20)
	}
}

func TestEdgeHoldsUnderIdleConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service as a process under 5,000 idle connections")
	}
	w, p, addr := attacked(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 5000 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	peak, latencies := watch(t, w, p, 6*time.Second)
	t.Logf("5,000 idle connections: peak RSS %d MiB, webhooks answered in %v", peak>>20, latencies)
	if peak > attackRSSLimit {
		t.Errorf("peak RSS %d MiB; want under %d MiB", peak>>20, attackRSSLimit>>20)
	}
}

// attacked starts the service as a process with the manifests' memory
// limit, and gives its address.
func attacked(t *testing.T) (*world, *process, string) {
	w := newWorld(t)
	w.extraEnv = map[string]string{"GOMEMLIMIT": manifestMemHint, "LOG_LEVEL": "warn"}
	p := w.startProcess()
	return w, p, strings.TrimPrefix(w.url, "http://")
}

// slowBody sends one webhook head claiming 1 MiB and then its body at
// 40 kB/s until answered; true when an answer came.
func slowBody(ctx context.Context, addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		time.Sleep(100 * time.Millisecond)
		return false
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /webhooks/forstok HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nwebhook-id: msg_slow\r\n"+
		"webhook-timestamp: %d\r\nwebhook-signature: v1,AAAA\r\nContent-Length: %d\r\n\r\n", time.Now().Unix(), 1<<20)
	gotAnswer := make(chan struct{})
	go func() {
		defer close(gotAnswer)
		var b [512]byte
		_, _ = c.Read(b[:])
	}()
	chunk := make([]byte, 4000)
	for i := range chunk {
		chunk[i] = ' '
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for sent := 0; sent < 1<<20; sent += len(chunk) {
		select {
		case <-ctx.Done():
			return false
		case <-gotAnswer:
			return true
		case <-t.C:
			if _, err := c.Write(chunk); err != nil {
				<-gotAnswer
				return true
			}
		}
	}
	<-gotAnswer
	return true
}

// watch samples the process's resident memory for d while sending a real
// webhook every second; it fails the test when one is not accepted within a
// few seconds, and returns the peak and the answer times.
func watch(t *testing.T, w *world, p *process, d time.Duration) (int64, []time.Duration) {
	t.Helper()
	var peak int64
	var latencies []time.Duration
	client := &http.Client{Timeout: 10 * time.Second}
	next := time.Now()
	for i := 0; time.Since(next) < d || i == 0; i++ {
		if rss := rssOf(t, p.cmd.Process.Pid); rss > peak {
			peak = rss
		}
		if i%5 == 4 {
			began := time.Now()
			status, _, err := postWebhook(context.Background(), client, w.url+"/webhooks/forstok", testWebhookSecret,
				newMessageID("real"), generatedInvoice(700+i))
			took := time.Since(began)
			latencies = append(latencies, took.Round(time.Millisecond))
			if err != nil || status != http.StatusAccepted {
				t.Errorf("a real webhook under attack: %d %v", status, err)
			} else if took > 5*time.Second {
				// The target is under a second (docs/reliability.md has the
				// figures); the bound here leaves room for a machine shared
				// with other test runs.
				t.Errorf("a real webhook under attack answered in %v; want well under 5 s", took)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return peak, latencies
}

// rssOf reads a process's resident set size from /proc.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}
