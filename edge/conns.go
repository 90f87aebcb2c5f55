package edge

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"forstok-accurate-sync/internal/defaults"
)

const (
	// DefaultMaxConnections is MAX_CONNECTIONS's default.
	DefaultMaxConnections = 2048
	// IdleTimeout closes a keep-alive connection that sends nothing.
	IdleTimeout = 30 * time.Second
	// headerGrace is how long a new connection may stay silent before,
	// when the cap is reached, it may be closed to make room: a client
	// sends its request as soon as it connects (behind a proxy, within a
	// millisecond), so a quarter second only ends those that never will.
	headerGrace = 250 * time.Millisecond
	// shedEvery is how often a full server looks for room.
	shedEvery = 100 * time.Millisecond
)

// Conns caps a server's open connections. Its listener accepts no more
// than the cap (golang.org/x/net/netutil), and while the cap is reached it
// closes the connections that hold a slot doing nothing:
// idle keep-alives, and new connections that have sent no request for a
// quarter second. Without that, a few thousand silent connections would keep a
// real webhook waiting in the kernel's queue until their header timeout.
type Conns struct {
	max  int
	now  func() time.Time
	mu   sync.Mutex
	open map[net.Conn]connState
}

type connState struct {
	state http.ConnState
	since time.Time
}

// NewConns makes a cap of max connections; max <= 0 is the default.
func NewConns(max int) *Conns {
	defaults.Positive(&max, DefaultMaxConnections)
	return &Conns{max: max, now: time.Now, open: map[net.Conn]connState{}}
}

// Listener wraps ln so that at most the cap is open at once.
func (c *Conns) Listener(ln net.Listener) net.Listener { return netutil.LimitListener(ln, c.max) }

// Track is the server's ConnState hook.
func (c *Conns) Track(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(c.open, conn)
	default:
		c.open[conn] = connState{state: state, since: c.now()}
	}
}

// Open is the number of connections the server holds now.
func (c *Conns) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// Serve sheds idle connections while the cap is reached, until ctx ends.
func (c *Conns) Serve(ctx context.Context) {
	for ctx.Err() == nil {
		c.shed()
		select {
		case <-ctx.Done():
		case <-time.After(shedEvery):
		}
	}
}

// shed closes every idle connection when the cap is reached: the room goes
// to whoever waits to connect, and a real client behind thousands of
// silent ones gets in within a few rounds.
func (c *Conns) shed() {
	c.mu.Lock()
	if len(c.open) < c.max {
		c.mu.Unlock()
		return
	}
	now := c.now()
	var victims []net.Conn
	for conn, s := range c.open {
		if s.state == http.StateIdle || (s.state == http.StateNew && now.Sub(s.since) >= headerGrace) {
			victims = append(victims, conn)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		_ = v.Close() // the server sees it closed and calls Track
	}
}
