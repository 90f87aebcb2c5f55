package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/loadtest/internal/rig"
)

// stage is one scenario's world: a sandbox Accurate, the service on its own
// Redis namespace, a webhook sender and an admin client.
type stage struct {
	lab      *lab
	name     string
	ns       string
	redisURL string
	sb       *accurateSandbox
	svc      *rig.Service
	send     *sender
	admin    *admin
}

// stageOptions tune a stage; the zero value is the shared Redis, a fault-free
// sandbox and the example mapping.
type stageOptions struct {
	redisURL   string // default: the shared Redis
	cluster    string // a Redis Cluster's masters (REDIS_CLUSTER_ADDRS), instead of redisURL
	faults     sandbox.Faults
	env        map[string]string
	extraItems []string // item numbers the sandbox knows besides its default seed
}

func (l *lab) newStage(ctx context.Context, name string, o stageOptions) (*stage, error) {
	r := &stage{lab: l, name: name, ns: rig.Namespace("rel-" + name), redisURL: o.redisURL}
	if r.redisURL == "" {
		r.redisURL = l.redisURL
	}
	sb, err := l.startSandbox(o.faults, o.extraItems...)
	if err != nil {
		return nil, err
	}
	r.sb = sb
	svc, err := l.newService(name, r.ns, r.redisURL, o.cluster, sb.url, o.env)
	if err != nil {
		sb.close()
		return nil, err
	}
	r.svc = svc
	base := func() string { return svc.URL }
	r.send = newSender(base, l.secrets.Webhook)
	r.admin = &admin{base: base, token: l.secrets.Admin, http: &http.Client{Timeout: 30 * time.Second}}
	return r, nil
}

// startStage is newStage with the service started: what every scenario
// begins with.
func (l *lab) startStage(ctx context.Context, name string, o stageOptions) (*stage, error) {
	r, err := l.newStage(ctx, name, o)
	if err != nil {
		return nil, err
	}
	if err := r.svc.Start(ctx); err != nil {
		r.close(ctx)
		return nil, err
	}
	return r, nil
}

// close stops the service and the sandbox and drops the scenario's keys
// from the shared Redis.
func (r *stage) close(ctx context.Context) {
	r.svc.Close()
	r.sb.close()
	if r.redisURL == r.lab.redisURL && r.svc.Env["REDIS_CLUSTER_ADDRS"] == "" {
		if err := rig.DropNamespace(ctx, r.redisURL, r.ns); err != nil {
			r.lab.log("%s: %v", r.name, err)
		}
	}
}

// outgoing is one delivery of one event.
type outgoing struct {
	key string
	d   delivery
}

// intake is what a batch of deliveries got back.
type intake struct {
	mu          sync.Mutex
	byStatus    map[int]int
	perKey      map[string]map[int]int // key → status → times
	unavailable int
	unreachable int
	gaveUp      []string
}

func newIntake() *intake {
	return &intake{byStatus: map[int]int{}, perKey: map[string]map[int]int{}}
}

func (in *intake) record(key string, status int, t tries, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.unavailable += t.unavailable
	in.unreachable += t.unreachable
	if err != nil {
		in.gaveUp = append(in.gaveUp, fmt.Sprintf("%s: %v", key, err))
		return
	}
	in.byStatus[status]++
	if in.perKey[key] == nil {
		in.perKey[key] = map[int]int{}
	}
	in.perKey[key][status]++
}

// acknowledged tells whether the service took the event: a 202, or a 200
// saying it had taken it before (the 202 may have been lost with a killed
// process).
func (in *intake) acknowledged(key string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.perKey[key]
	return s[http.StatusAccepted] > 0 || s[http.StatusOK] > 0
}

// deliverAll sends every delivery with the given number of goroutines, each
// retried until answered (within the time given per delivery).
func (r *stage) deliverAll(ctx context.Context, items []outgoing, workers int, within time.Duration, in *intake) {
	r.deliverPaced(ctx, items, workers, within, 0, in)
}

// deliverAbsorbed delivers every item (each retried for up to a minute)
// and adds what the deliveries got back to res, returning it.
func (r *stage) deliverAbsorbed(ctx context.Context, items []outgoing, workers int, res *result) *intake {
	in := newIntake()
	r.deliverAll(ctx, items, workers, time.Minute, in)
	res.absorb(in)
	return in
}

// startDelivered is how the scenarios that load first and look after
// begin: a started stage, sent what gen makes for it through workers
// connections, the answers added to res and its events counted. The caller
// closes the stage.
func (l *lab) startDelivered(ctx context.Context, res *result, name string, o stageOptions, workers int,
	gen func(*sender) ([]outgoing, []expectation)) (*stage, *intake, []expectation, error) {
	r, err := l.startStage(ctx, name, o)
	if err != nil {
		return nil, nil, nil, err
	}
	items, all := gen(r.send)
	res.events = len(all)
	return r, r.deliverAbsorbed(ctx, items, workers, res), all, nil
}

// deliverPaced is deliverAll handing out one delivery every so often (0: as
// fast as the goroutines take them), so that intake lasts a while.
func (r *stage) deliverPaced(ctx context.Context, items []outgoing, workers int, within, every time.Duration, in *intake) {
	next := make(chan outgoing)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range next {
				a, t, err := r.send.deliver(ctx, o.d, within)
				in.record(o.key, a.status, t, err)
			}
		}()
	}
	for _, o := range items {
		if every > 0 && wait.Sleep(ctx, every) != nil {
			break
		}
		select {
		case next <- o:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// finish waits for the accepted events to settle and counts them against
// what Accurate holds.
func (r *stage) finish(ctx context.Context, res *result, accepted []expectation, within time.Duration) (map[string]eventInfo, sandbox.State, error) {
	keys := keysOf(accepted)
	settleStart := time.Now()
	states, omitted, err := r.admin.settle(ctx, keys, within, func(c map[string]int) {
		r.lab.log("%s: settling %v", r.name, c)
	})
	if err != nil {
		return nil, sandbox.State{}, err
	}
	if omitted > 0 {
		res.notef("GET /admin/events (limit 500, paged) left out %d of the %d events; each was read with GET /admin/events/{key} (bug B1 in docs/reliability.md)", omitted, len(keys))
	}
	res.settle = time.Since(settleStart)
	st := r.sb.State()
	res.counts = tally(accepted, states, docsOf(st))
	return states, st, nil
}

// absorb takes a batch's answers into the row.
func (res *result) absorb(in *intake) {
	res.in = in
	res.deliveries = 0
	for _, n := range in.byStatus {
		res.deliveries += n
	}
	res.expect(len(in.gaveUp) == 0, "%d deliveries never got an answer, e.g. %s", len(in.gaveUp), firstOr(in.gaveUp, ""))
}

// acknowledgedOf keeps the expectations whose event the service took.
func acknowledgedOf(in *intake, all []expectation) []expectation {
	var out []expectation
	for _, e := range all {
		if in.acknowledged(e.key) {
			out = append(out, e)
		}
	}
	return out
}

// keysOf are the events' keys, in order.
func keysOf(all []expectation) []string {
	keys := make([]string, len(all))
	for i, e := range all {
		keys[i] = e.key
	}
	return keys
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// answered counts the deliveries answered so far.
func (in *intake) answered() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, times := range in.byStatus {
		n += times
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
