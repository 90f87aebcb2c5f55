package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/queue"
)

func TestSellers(t *testing.T) {
	ctx := context.Background()

	t.Run("the same key under two sellers is two accepted events with their own keys and tasks", func(t *testing.T) {
		ns, rdb, r := newNamespace(t)
		store := ns.Seller("")
		toko := ns.Seller("toko-b")
		for _, s := range []*events.Store{store, toko} {
			out, err := s.Accept(ctx, incoming("invoice.created:1"))
			if err != nil || out != events.Accepted {
				t.Fatalf("Accept for %s = %v, %v; want accepted", s.SellerID(), out, err)
			}
		}
		out, err := toko.Accept(ctx, incoming("invoice.created:1"))
		if err != nil || out != events.Duplicate {
			t.Fatalf("second Accept for toko-b = %v, %v; want duplicate", out, err)
		}
		insp := asynq.NewInspectorFromRedisClient(rdb)
		lay := ns.Queue().Layout()
		for _, id := range []string{"invoice.created:1", "toko-b/invoice.created:1"} {
			seller, _ := queue.SplitTaskID(id)
			if info, err := insp.GetTaskInfo(lay.SellerQueue(seller), id); err != nil || info.State != asynq.TaskStatePending {
				t.Errorf("task %s = %+v, %v; want pending", id, info, err)
			}
		}
		// The default seller's keys are its shard's own; the other's under
		// {ns:<its shard>}:s:<seller>.
		def, tokoShard := lay.ShardPrefix(lay.ShardOf(events.DefaultSeller)), lay.ShardPrefix(lay.ShardOf("toko-b"))
		for key, want := range map[string]int64{
			def + ":event:invoice.created:1":                1,
			tokoShard + ":s:toko-b:event:invoice.created:1": 1,
			tokoShard + ":s:toko-b:index:queued":            1,
			def + ":s:default:event:invoice.created:1":      0,
			"{" + r.Namespace + "}:event:invoice.created:1": 0,
		} {
			if n := rdb.Exists(ctx, key).Val(); n != want {
				t.Errorf("EXISTS %s = %d; want %d", key, n, want)
			}
		}
		ev, err := toko.Get(ctx, "invoice.created:1")
		if err != nil || ev.Seller != "toko-b" {
			t.Errorf("toko-b's event = %+v, %v; want its seller named", ev, err)
		}
		if ev, _ := store.Get(ctx, "invoice.created:1"); ev.Seller != events.DefaultSeller {
			t.Errorf("default's event seller = %q; want default", ev.Seller)
		}
		if ns.Seller("") != store || ns.Seller(events.DefaultSeller) != store {
			t.Error(`Seller("") and Seller("default") should be the store itself`)
		}
	})

	t.Run("listing, counting and replay see only the seller's own events", func(t *testing.T) {
		ns, _, _ := newNamespace(t)
		store := ns.Seller("")
		toko := ns.Seller("toko-b")
		if _, err := store.Accept(ctx, incoming("invoice.created:1")); err != nil {
			t.Fatal(err)
		}
		if _, err := toko.Accept(ctx, incoming("invoice.created:2")); err != nil {
			t.Fatal(err)
		}
		evs, _, err := toko.List(ctx, events.Filter{})
		if err != nil || len(evs) != 1 || evs[0].Key != "invoice.created:2" {
			t.Errorf("toko-b's list = %+v, %v; want its one event", evs, err)
		}
		counts, err := store.Counts(ctx)
		if err != nil || counts[events.StateQueued] != 1 {
			t.Errorf("default's counts = %v, %v; want 1 queued", counts, err)
		}
		if err := toko.Replay(ctx, "invoice.created:1"); !errors.Is(err, events.ErrNotFound) {
			t.Errorf("toko-b replaying default's event = %v; want not found", err)
		}
		if err := toko.Replay(ctx, "invoice.created:2"); err != nil {
			t.Errorf("toko-b replaying its own event = %v", err)
		}
	})
}

func TestTaskID(t *testing.T) {
	for _, tc := range []struct{ seller, key, id string }{
		{events.DefaultSeller, "invoice.created:1", "invoice.created:1"},
		{"", "invoice.created:1", "invoice.created:1"},
		{"toko-b", "payment.received:7", "toko-b/payment.received:7"},
	} {
		t.Run("seller "+tc.seller+" and "+tc.key+" make "+tc.id, func(t *testing.T) {
			if got := queue.TaskID(tc.seller, tc.key); got != tc.id {
				t.Fatalf("TaskID = %q", got)
			}
			seller, key := queue.SplitTaskID(tc.id)
			if key != tc.key || (seller != tc.seller && !(tc.seller == "" && seller == events.DefaultSeller)) || strings.Contains(key, "/") {
				t.Errorf("SplitTaskID(%q) = %q, %q", tc.id, seller, key)
			}
		})
	}
}

func TestAccurateCallsLastMinute(t *testing.T) {
	ctx := context.Background()
	ns, _, _ := newNamespace(t)
	store := ns.Seller("")
	toko := ns.Seller("toko-b")
	for range 3 {
		if err := toko.CountAccurateCall(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("a seller's requests are counted for that seller alone", func(t *testing.T) {
		if n, err := toko.AccurateCallsLastMinute(ctx); err != nil || n != 3 {
			t.Errorf("toko-b's requests = %d, %v; want 3", n, err)
		}
		if n, err := store.AccurateCallsLastMinute(ctx); err != nil || n != 0 {
			t.Errorf("default's requests = %d, %v; want 0", n, err)
		}
	})
}

func TestTheBodyOfAnAcceptedEvent(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		bodyInTask bool
	}{
		{"is kept by its record only: its task carries none", false},
		{"is carried by its task too when older replicas may run it", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, rdb, _ := newNamespace(t, func(c *events.Config) { c.BodyInTask = tc.bodyInTask })
			in := incoming("invoice.created:1")
			if out, err := ns.Seller("").Accept(ctx, in); err != nil || out != events.Accepted {
				t.Fatalf("Accept = %v, %v", out, err)
			}
			lay := ns.Queue().Layout()
			info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(lay.SellerQueue(events.DefaultSeller), in.Key)
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(nil)
			if tc.bodyInTask {
				want = in.Payload
			}
			if string(info.Payload) != string(want) {
				t.Errorf("the task carries %q; want %q", info.Payload, want)
			}
			ev, err := ns.Seller("").Get(ctx, in.Key)
			if err != nil || string(ev.Payload) != string(in.Payload) {
				t.Errorf("the record keeps %q, %v; want %q", ev.Payload, err, in.Payload)
			}
		})
	}
}
