package events_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// takerEnv, set, makes TestTakerProcess the replica the test below kills:
// an asynq server on that Redis URL serving the queue takerQueueEnv names,
// whose handler says which task it took and then hangs, before it holds or
// begins anything.
const (
	takerEnv      = "EVENTS_TEST_TAKER_REDIS"
	takerQueueEnv = "EVENTS_TEST_TAKER_QUEUE"
)

func TestTakerProcess(t *testing.T) {
	url := os.Getenv(takerEnv)
	if url == "" {
		t.Skip("run by TestAnEventTakenByAKilledReplicaBeforeItBeganRunsAgainWithinTheHoldTimeout")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServerFromRedisClient(redis.NewClient(opt), asynq.Config{
		Concurrency: 1, Queues: map[string]int{os.Getenv(takerQueueEnv): 1},
		TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.FatalLevel,
	})
	err = srv.Run(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		fmt.Printf("taken %s\n", id)
		select {} // killed here
	}))
	t.Fatal(err)
}

// A replica killed after asynq handed it a task but before its worker held
// the event leaves the task active and the record queued: not processing,
// so ReleaseAbandoned does not look at it, and asynq takes it back only
// once its lease (30 s) ran out and its recoverer passed (up to a minute
// more). The dispatcher finds the lease no server renews and queues the
// event again within the hold timeout, unless a worker holds it.
func TestAnEventTakenByAKilledReplicaBeforeItBeganRunsAgainWithinTheHoldTimeout(t *testing.T) {
	ctx := context.Background()
	ns, rdb, r := newNamespace(t, shortHold)
	if !r.Real {
		t.Skip("a killed replica needs a Redis another process reaches")
	}
	store := ns.Seller("toko-a")
	in := incoming("invoice.created:21")
	if _, err := store.Accept(ctx, in); err != nil {
		t.Fatal(err)
	}
	id := queue.TaskID("toko-a", in.Key)

	replica := exec.Command(os.Args[0], "-test.run=^TestTakerProcess$")
	replica.Env = append(os.Environ(), takerEnv+"="+r.URL, takerQueueEnv+"="+store.Scope().Queue())
	out, err := replica.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := replica.Start(); err != nil {
		t.Fatal(err)
	}
	taken := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if got, ok := strings.CutPrefix(sc.Text(), "taken "); ok {
				taken <- got
			}
		}
	}()
	select {
	case got := <-taken:
		if got != id {
			t.Fatalf("the replica took %s; want %s", got, id)
		}
	case <-time.After(20 * time.Second):
		_ = replica.Process.Kill()
		t.Fatal("the replica took no task within 20s")
	}
	if err := replica.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = replica.Wait()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	state := func() string {
		info, err := insp.GetTaskInfo(store.Scope().Queue(), id)
		if err != nil {
			return err.Error()
		}
		return info.State.String()
	}
	if s := state(); s != "active" {
		t.Fatalf("after the kill the task is %s; want active, as the killed replica left it", s)
	}
	if ev, _ := store.Get(ctx, in.Key); ev.State != events.StateQueued {
		t.Fatalf("after the kill the event is %s; want queued", ev.State)
	}

	// Another worker holds it for now (as a live one would).
	_, release, err := store.Queue().Hold(ctx, in.Key)
	if err != nil {
		t.Fatal(err)
	}
	dispatching(t, ctx, ns, 50*time.Millisecond)

	t.Run("a task whose event a worker holds is left to it", func(t *testing.T) {
		if wait.Until(3*holdTimeout, 50*time.Millisecond, func() bool { return state() != "active" }) {
			t.Fatalf("the task went %s while a worker held its event; want it left active", state())
		}
	})
	release()
	killed := time.Now()
	t.Run("once nobody holds it, it is queued again within the hold timeout, long before asynq's lease runs out", func(t *testing.T) {
		if !wait.Until(3*holdTimeout, 50*time.Millisecond, func() bool { return state() == "pending" }) {
			t.Fatalf("%s after the hold went the task is %s; want pending again within %s", time.Since(killed).Round(time.Millisecond), state(), 3*holdTimeout)
		}
		ev, _ := store.Get(ctx, in.Key)
		if last := ev.History[len(ev.History)-1]; ev.State != events.StateQueued || !strings.Contains(last.Note, "its worker stopped") {
			t.Errorf("the event is %s, last note %q; want queued saying its worker stopped", ev.State, last.Note)
		}
	})
}
