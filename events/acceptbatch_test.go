package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

// batchGate is a go-redis hook on the accept scripts' pipelines: once
// armed, it holds the first one until released, so that the accepts
// arriving meanwhile pile up behind it, and it records every batch's size.
// onBatch, if set, runs before each later batch goes.
type batchGate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	onBatch func()

	mu    sync.Mutex
	sizes []int
}

func newBatchGate() *batchGate {
	return &batchGate{entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *batchGate) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (g *batchGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *batchGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !g.armed.Load() || len(cmds) == 0 || (cmds[0].Name() != "evalsha" && cmds[0].Name() != "eval") {
			return next(ctx, cmds)
		}
		g.mu.Lock()
		g.sizes = append(g.sizes, len(cmds))
		first := len(g.sizes) == 1
		g.mu.Unlock()
		if first {
			close(g.entered)
			<-g.release
		} else if g.onBatch != nil {
			g.onBatch()
		}
		return next(ctx, cmds)
	}
}

func (g *batchGate) batchSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.sizes...)
}

// waitPending waits until n accepts wait behind the batch in flight.
func waitPending(t *testing.T, store *events.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for store.PendingAccepts() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d accepts pending; want %d", store.PendingAccepts(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type acceptResult struct {
	seller, key string
	out         events.Outcome
	err         error
}

// acceptTargets are one Redis and a 3-master Cluster, each client with
// dial as its dialer (nil: the default) and no retries of its own, so a
// failure reaches the store as it happened.
var acceptTargets = []struct {
	name string
	open func(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (redis.UniversalClient, string)
}{
	{"on one Redis", func(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (redis.UniversalClient, string) {
		r := testredis.New(t)
		if !r.Real {
			t.Skip("needs a real Redis")
		}
		opt := r.Options(t)
		opt.Dialer, opt.MaxRetries = dial, -1
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb, r.Namespace
	}},
	{"on a 3-master Cluster", func(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (redis.UniversalClient, string) {
		c := testredis.NewCluster(t)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, Dialer: dial, MaxRetries: -1, MaxRedirects: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb, c.Namespace
	}},
}

func TestAcceptBatches(t *testing.T) {
	for _, target := range acceptTargets {
		t.Run(target.name, func(t *testing.T) {
			t.Run("accepts arriving while one batch is in flight go together in the next, and of one key's copies in it exactly one is accepted", func(t *testing.T) {
				ctx := context.Background()
				rdb, ns := target.open(t, nil)
				store := events.New(rdb, events.Config{Namespace: ns, Shards: queue.DefaultShards})
				sellers := []string{"toko-a", "toko-b", "toko-c", "toko-d", "toko-e", "toko-f"}
				for _, s := range sellers { // the queues are published outside any batch
					if _, err := store.Seller(s).Accept(ctx, incoming("invoice.created:warm")); err != nil {
						t.Fatal(err)
					}
				}
				gate := newBatchGate()
				rdb.AddHook(gate)
				gate.armed.Store(true)

				results := make(chan acceptResult, 100)
				accept := func(seller, key string) {
					out, err := store.Seller(seller).Accept(ctx, incoming(key))
					results <- acceptResult{seller, key, out, err}
				}
				go accept("toko-a", "invoice.created:first")
				<-gate.entered
				const copies, others = 12, 48
				for range copies {
					go accept("toko-a", "payment.received:twice")
				}
				for i := range others {
					go accept(sellers[i%len(sellers)], fmt.Sprintf("invoice.created:%d", i))
				}
				waitPending(t, store.Seller(events.DefaultSeller), copies+others)
				close(gate.release)

				counts := map[events.Outcome]int{}
				for range 1 + copies + others {
					r := <-results
					switch {
					case r.err != nil:
						t.Errorf("%s %s: %v", r.seller, r.key, r.err)
					case r.key == "payment.received:twice":
						counts[r.out]++
					case r.out != events.Accepted:
						t.Errorf("%s %s = %v; want accepted", r.seller, r.key, r.out)
					default:
						if ev, err := store.Seller(r.seller).Get(ctx, r.key); err != nil || ev.State != events.StateQueued {
							t.Errorf("%s %s: record %+v, %v; want it queued", r.seller, r.key, ev, err)
						}
					}
				}
				if counts[events.Accepted] != 1 || counts[events.Duplicate] != copies-1 {
					t.Errorf("the %d copies of one key: %v; want 1 accepted, the rest duplicates", copies, counts)
				}
				if sizes := gate.batchSizes(); len(sizes) != 2 || sizes[1] != copies+others {
					t.Errorf("batches of %v scripts; want 1, then all %d that waited", sizes, copies+others)
				}
			})

			t.Run("a caller that gives up is answered at once and holds no one else up", func(t *testing.T) {
				ctx := context.Background()
				rdb, ns := target.open(t, nil)
				store := events.New(rdb, events.Config{Namespace: ns, Shards: queue.DefaultShards}).Seller(events.DefaultSeller)
				if _, err := store.Accept(ctx, incoming("invoice.created:warm")); err != nil {
					t.Fatal(err)
				}
				gate := newBatchGate()
				rdb.AddHook(gate)
				gate.armed.Store(true)

				leadCtx, cancelLead := context.WithCancel(ctx)
				lead := make(chan error, 1)
				go func() { _, err := store.Accept(leadCtx, incoming("invoice.created:lead")); lead <- err }()
				<-gate.entered
				waiterCtx, cancelWaiter := context.WithCancel(ctx)
				waiter := make(chan error, 1)
				go func() { _, err := store.Accept(waiterCtx, incoming("invoice.created:waiter")); waiter <- err }()
				others := make(chan acceptResult, 10)
				for i := range 10 {
					go func() {
						key := fmt.Sprintf("invoice.created:%d", i)
						out, err := store.Accept(ctx, incoming(key))
						others <- acceptResult{"", key, out, err}
					}()
				}
				waitPending(t, store, 11)

				// The batch in flight is the leader's own; it gives up.
				cancelLead()
				if err := <-lead; !errors.Is(err, context.Canceled) || errors.Is(err, events.ErrUnavailable) {
					t.Errorf("the leader that gave up got %v; want its context's error, not unavailable", err)
				}
				// One waiting gives up before its batch goes.
				cancelWaiter()
				if err := <-waiter; !errors.Is(err, context.Canceled) {
					t.Errorf("the waiter that gave up got %v; want its context's error", err)
				}
				close(gate.release)
				for range 10 {
					if r := <-others; r.err != nil || r.out != events.Accepted {
						t.Errorf("%s = %v, %v; want accepted", r.key, r.out, r.err)
					}
				}
				// The leader's script was sent before it gave up, and ran; the
				// waiter's never went.
				if out, err := store.Accept(ctx, incoming("invoice.created:lead")); err != nil || out != events.Duplicate {
					t.Errorf("the leader's key again = %v, %v; want duplicate", out, err)
				}
				if out, err := store.Accept(ctx, incoming("invoice.created:waiter")); err != nil || out != events.Accepted {
					t.Errorf("the waiter's key again = %v, %v; want accepted", out, err)
				}
			})

			t.Run("a connection cut mid-batch answers every script in it unavailable, never duplicate, and intake goes on", func(t *testing.T) {
				ctx := context.Background()
				var budget atomic.Int64 // bytes a connection may still write before it is cut; -1: no limit
				budget.Store(-1)
				dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return &cutConn{Conn: c, budget: &budget}, nil
				}
				rdb, ns := target.open(t, dial)
				store := events.New(rdb, events.Config{Namespace: ns, Shards: queue.DefaultShards}).Seller(events.DefaultSeller)
				if _, err := store.Accept(ctx, incoming("invoice.created:warm")); err != nil {
					t.Fatal(err)
				}
				gate := newBatchGate()
				// The batch after the held one gets a third of the way out.
				const n = 30
				gate.onBatch = func() { budget.Store(n * 3000 / 3) }
				rdb.AddHook(gate)
				gate.armed.Store(true)

				lead := make(chan error, 1)
				go func() { _, err := store.Accept(ctx, incoming("invoice.created:lead")); lead <- err }()
				<-gate.entered
				results := make(chan acceptResult, n)
				bodies := map[string]events.Incoming{}
				for i := range n {
					in := bigIncoming(t, fmt.Sprintf("invoice.created:%d", i)) // ≥ 3,000 bytes a script
					bodies[in.Key] = in
					go func() {
						out, err := store.Accept(ctx, in)
						results <- acceptResult{"", in.Key, out, err}
					}()
				}
				waitPending(t, store, n)
				close(gate.release)
				if err := <-lead; err != nil {
					t.Fatalf("the batch before the cut: %v", err)
				}
				for range n {
					r := <-results
					if !errors.Is(r.err, events.ErrUnavailable) || r.out == events.Duplicate {
						t.Errorf("%s = %v, %v; want ErrUnavailable", r.key, r.out, r.err)
					}
				}
				if budget.Load() != -1 {
					t.Fatal("no connection was cut; the test did not test the cut")
				}

				// Forstok delivers each again: each event is either wholly there
				// (its script ran before the cut: a duplicate, with its record
				// and its task) or not at all (accepted now).
				inspector := asynq.NewInspectorFromRedisClient(rdb)
				ran := 0
				for key, in := range bodies {
					out, err := store.Accept(ctx, in)
					if err != nil {
						t.Errorf("%s again: %v", key, err)
						continue
					}
					if out == events.Duplicate {
						ran++
					}
					ev, err := store.Get(ctx, key)
					if err != nil || string(ev.Payload) != string(in.Payload) {
						t.Errorf("%s: record %v; want it with its body", key, err)
					}
					if _, err := inspector.GetTaskInfo(store.Scope().Queue(), queue.TaskID(store.SellerID(), key)); err != nil {
						t.Errorf("%s: task: %v; want it queued", key, err)
					}
				}
				t.Logf("%d of %d scripts ran before the cut", ran, n)
			})
		})
	}
}

// bigIncoming is an event whose body does not compress, so that its script
// takes at least 3,000 bytes on the wire (the body goes in the task and,
// packed, in the record).
func bigIncoming(t *testing.T, key string) events.Incoming {
	t.Helper()
	raw := make([]byte, 1000)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"type":"invoice.created","data":{"id":1,"note":%q}}`, hex.EncodeToString(raw))
	return events.Incoming{Key: key, Type: "invoice.created", Payload: []byte(body)}
}

// cutConn is a connection that, once budget is set (≥ 0), writes that many
// more bytes and is then cut, as a network failure or a Redis dying
// mid-batch would cut it; the budget is then lifted for the connections
// after it.
type cutConn struct {
	net.Conn
	budget *atomic.Int64
}

var errCut = errors.New("connection cut by the test")

func (c *cutConn) Write(p []byte) (int, error) {
	b := c.budget.Load()
	if b < 0 {
		return c.Conn.Write(p)
	}
	if int64(len(p)) <= b {
		c.budget.Add(-int64(len(p)))
		return c.Conn.Write(p)
	}
	n, _ := c.Conn.Write(p[:b])
	_ = c.Conn.Close()
	c.budget.Store(-1)
	return n, errCut
}

// TestAcceptAfterRedisLostItsScripts: a Redis that restarted or failed
// over has no scripts cached; the batch sends them whole again.
func TestAcceptAfterRedisLostItsScripts(t *testing.T) {
	ctx := context.Background()
	srv := testredis.StartServer(t)
	rdb := (testredis.Redis{URL: srv.URL}).Client(t)
	store := events.New(rdb, events.Config{Namespace: "noscript"}).Seller(events.DefaultSeller)
	if out, err := store.Accept(ctx, incoming("invoice.created:1")); err != nil || out != events.Accepted {
		t.Fatalf("Accept = %v, %v; want accepted", out, err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]events.Outcome{"invoice.created:1": events.Duplicate, "invoice.created:2": events.Accepted} {
		if out, err := store.Accept(ctx, incoming(key)); err != nil || out != want {
			t.Errorf("Accept %s after SCRIPT FLUSH = %v, %v; want %v", key, out, err, want)
		}
	}
}
