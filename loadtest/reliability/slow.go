package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"forstok-accurate-sync/internal/wait"
)

// slowOutcome is how the service dealt with one slow connection.
type slowOutcome struct {
	closedAfter time.Duration // from the first byte written to the server closing
	answer      string        // the first line the server wrote, if any
	err         error
}

// slowConn opens a connection, writes prelude, then one byte of drip a
// second (none if drip is empty), and waits, at most limit, for the server
// to answer or close the connection.
func slowConn(ctx context.Context, addr, prelude, drip string, limit time.Duration) slowOutcome {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return slowOutcome{err: err}
	}
	defer conn.Close()
	start := time.Now()
	if prelude != "" {
		if _, err := conn.Write([]byte(prelude)); err != nil {
			return slowOutcome{err: err}
		}
	}
	closed := make(chan string, 1)
	go func() {
		var got strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				first, _, _ := strings.Cut(got.String(), "\r\n")
				closed <- first
				return
			}
		}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(limit)
	for i := 0; ; i++ {
		select {
		case first := <-closed:
			return slowOutcome{closedAfter: time.Since(start), answer: first}
		case <-deadline:
			return slowOutcome{closedAfter: time.Since(start), err: fmt.Errorf("still open after %s", limit)}
		case <-ctx.Done():
			return slowOutcome{err: ctx.Err()}
		case <-tick.C:
			if drip != "" {
				// A write error means the server has gone; the reader says when.
				_, _ = conn.Write([]byte{drip[i%len(drip)]})
			}
		}
	}
}

// slowClients holds connections the slow ways a client (or a slowloris
// attack) can, all at once, and checks that the server's read timeouts
// close them while a normal delivery still goes through.
func (a *abuser) slowClients(ctx context.Context) {
	addr := strings.TrimPrefix(a.r.svc.URL, "http://")
	const limit = 60 * time.Second
	headers := "POST /webhooks/forstok HTTP/1.1\r\nHost: " + addr + "\r\n"
	cases := []struct {
		what          string
		prelude, drip string
		within        time.Duration // the server's timeout plus slack
	}{
		{"headers trickled one byte a second", headers + "X-Slow: ", "abcdefgh", 8 * time.Second},
		{"connection opened, nothing sent", "", "", 8 * time.Second},
		{"headers sent, body (Content-Length 100000) trickled one byte a second",
			headers + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n", "[", 35 * time.Second},
	}
	var wg sync.WaitGroup
	outcomes := make([]slowOutcome, len(cases))
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = slowConn(ctx, addr, c.prelude, c.drip, limit)
		}()
	}

	// A crowd of half-sent requests, and a normal delivery in their midst.
	const crowd = 200
	crowdOut := make([]slowOutcome, crowd)
	for i := range crowd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crowdOut[i] = slowConn(ctx, addr, headers+"X-Slow: ", "", limit)
		}()
	}
	if err := wait.Sleep(ctx, time.Second); err != nil {
		return
	}
	n, body := a.invoice("KAOS-HTM-L")
	got, took, err := a.post(ctx, body, time.Now())
	a.check(fmt.Sprintf("a normal delivery while %d half-sent requests are held open", crowd), got, err, took, []int{202}, "accepted")
	if err == nil {
		a.expectAccepted(invoiceKey(n), faktur, invoiceNumber(n), got)
	}
	wg.Wait()

	for i, c := range cases {
		o := outcomes[i]
		a.res.expect(o.err == nil, "slow client, %s: %v", c.what, o.err)
		if o.err == nil {
			a.res.notef("slow client, %s → closed by the server after %s, answer %q",
				c.what, o.closedAfter.Round(100*time.Millisecond), o.answer)
			a.res.expect(o.closedAfter <= c.within, "slow client, %s: closed after %s, want within %s", c.what, o.closedAfter, c.within)
		}
	}
	var longest time.Duration
	open := 0
	for _, o := range crowdOut {
		if o.err != nil {
			open++
		}
		longest = max(longest, o.closedAfter)
	}
	a.res.expect(open == 0, "%d of %d half-sent requests were not closed by the server", open, crowd)
	a.res.notef("%d half-sent requests held at once: all closed by the server, the last after %s", crowd, longest.Round(100*time.Millisecond))
}
