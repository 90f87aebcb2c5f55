package worker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/queue"
)

// A task without a body, as intake enqueues them (the record keeps the
// body), is read from its record.
func TestATaskWithoutItsBodyIsReadFromTheRecord(t *testing.T) {
	ctx := context.Background()
	sb, srv := testaccurate.Serve(t, sandbox.Config{})
	r := testredis.New(t)
	rdb := r.Client(t)
	store := events.New(rdb, events.Config{Namespace: r.Namespace}).Seller(events.DefaultSeller)
	client := testaccurate.Client(t, accurate.Config{Host: srv.URL})
	w := New(withStore(Config{Accurate: client, Mapping: exampleSettings(t)}, rdb, store))

	t.Run("an accepted invoice whose task carries no body syncs its faktur from the record's body", func(t *testing.T) {
		body := fixtures.Body(t, "invoice-created-shopee.json")
		key := keyOf(t, body)
		if _, err := store.Accept(ctx, events.Incoming{Key: key, Type: "invoice.created", Payload: body}); err != nil {
			t.Fatal(err)
		}
		if err := w.processKey(ctx, key, asynq.NewTask(queue.TaskType, nil)); err != nil {
			t.Fatalf("process: %v", err)
		}
		ev, err := store.Get(ctx, key)
		if err != nil || ev.State != events.StateSynced {
			t.Fatalf("%s ended %s (%s, %v); want synced", key, ev.State, ev.LastError, err)
		}
		if got := len(sb.Invoices()); got != 1 {
			t.Errorf("the sandbox holds %d fakturs; want the one of the record's body", got)
		}
	})

	t.Run("a task whose body is in neither the task nor the record fails saying so, and posts nothing", func(t *testing.T) {
		before := len(sb.Invoices())
		const key = "invoice.created:79999"
		err := w.processKey(ctx, key, asynq.NewTask(queue.TaskType, nil))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("process = %v; want asynq.SkipRetry", err)
		}
		ev, err := store.Get(ctx, key)
		if err != nil || ev.State != events.StateFailed || !strings.Contains(ev.LastError, "nothing to post") ||
			ev.Failure == nil || !strings.Contains(ev.Failure.Hint, "/admin/replay") {
			t.Fatalf("%s ended %s (%q, failure %+v, %v); want failed, saying there is nothing to post, pointing at replay", key, ev.State, ev.LastError, ev.Failure, err)
		}
		if got := len(sb.Invoices()); got != before {
			t.Errorf("the sandbox holds %d fakturs, %d before; want nothing posted", got, before)
		}
	})
}
