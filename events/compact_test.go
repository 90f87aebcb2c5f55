package events_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/examples"
)

func TestCompactRecord(t *testing.T) {
	ctx := context.Background()
	store, rdb, _ := newStore(t)
	body, err := examples.Files.ReadFile("invoice-created-shopee.json")
	if err != nil {
		t.Fatal(err)
	}
	in := events.Incoming{Key: "invoice.created:9", Type: "invoice.created", Payload: body}
	if _, err := store.Accept(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Begin(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := store.Finish(ctx, in.Key, events.Result{State: events.StateSynced, AccurateID: 7, AccurateNumber: "SI.2026.12.00001"}); err != nil {
		t.Fatal(err)
	}

	t.Run("the body reads back byte for byte, with the history in order", func(t *testing.T) {
		ev, err := store.Get(ctx, in.Key)
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Payload) != string(body) {
			t.Errorf("payload = %.80q...; want the body as delivered", ev.Payload)
		}
		var states []string
		for _, st := range ev.History {
			states = append(states, st.State)
		}
		if strings.Join(states, ",") != "queued,processing,synced" || ev.History[2].Note != "Accurate SI.2026.12.00001" {
			t.Errorf("history = %+v; want queued, processing, synced with its note", ev.History)
		}
	})

	t.Run("the record keeps the body compressed, in Redis's compact encoding", func(t *testing.T) {
		enc, err := rdb.ObjectEncoding(ctx, store.RecordKey(in.Key)).Result()
		if err != nil || enc != "listpack" {
			t.Errorf("encoding = %q, %v; want listpack", enc, err)
		}
		size, err := rdb.MemoryUsage(ctx, store.RecordKey(in.Key), 0).Result()
		if err != nil || size > int64(len(body))/2 {
			t.Errorf("the record takes %d bytes (%v); want under half the %d-byte body", size, err, len(body))
		}
		if n, _ := rdb.Exists(ctx, store.HistoryKey(in.Key)).Result(); n != 0 {
			t.Error("a new record has a history list of its own; want its history in the record")
		}
	})

	t.Run("a replay from a new body replaces the one kept", func(t *testing.T) {
		other, _ := examples.Files.ReadFile("invoice-created-tokopedia-bundle.json")
		if err := store.ReplayRaw(ctx, events.Incoming{Key: in.Key, Type: in.Type, Payload: other}); err != nil {
			t.Fatal(err)
		}
		if ev, err := store.Get(ctx, in.Key); err != nil || string(ev.Payload) != string(other) {
			t.Errorf("payload after the replay = %.60q, %v; want the new body", ev.Payload, err)
		}
	})

	t.Run("a record whose body the zstd version packed reads back byte for byte, and replays", func(t *testing.T) {
		// The record as a deployment before S2 keeps it: the body a zstd
		// frame (testdata), cut into the same 64-byte fields.
		old := events.Incoming{Key: "invoice.created:12", Type: "invoice.created", Payload: body}
		if _, err := store.Accept(ctx, old); err != nil {
			t.Fatal(err)
		}
		frame, err := os.ReadFile("testdata/fastest-level-invoice-created-shopee.zst")
		if err != nil {
			t.Fatal(err)
		}
		rk := store.RecordKey(old.Key)
		fields, err := rdb.HKeys(ctx, rk).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			if strings.HasPrefix(f, "p:") {
				rdb.HDel(ctx, rk, f)
			}
		}
		for i := 0; i*64 < len(frame); i++ {
			rdb.HSet(ctx, rk, "p:"+strconv.Itoa(i), frame[i*64:min(len(frame), (i+1)*64)])
		}
		if ev, err := store.Get(ctx, old.Key); err != nil || string(ev.Payload) != string(body) {
			t.Fatalf("payload = %.60q, %v; want the body as delivered", ev.Payload, err)
		}
		if err := store.Replay(ctx, old.Key); err != nil {
			t.Fatal(err)
		}
		if ev, err := store.Get(ctx, old.Key); err != nil || ev.State != events.StateQueued || string(ev.Payload) != string(body) {
			t.Errorf("after the replay = %s, %.60q, %v; want queued with the same body", ev.State, ev.Payload, err)
		}
	})

	t.Run("a body that does not compress is kept as it is", func(t *testing.T) {
		tiny := events.Incoming{Key: "invoice.created:10", Type: "invoice.created", Payload: []byte(`{}`)}
		if _, err := store.Accept(ctx, tiny); err != nil {
			t.Fatal(err)
		}
		if ev, err := store.Get(ctx, tiny.Key); err != nil || string(ev.Payload) != "{}" {
			t.Errorf("payload = %q, %v; want {}", ev.Payload, err)
		}
	})
}

// TestRecordFromBeforeStillReads: a record written before the compact
// record (the body as one uncompressed field, the history a list of JSON
// lines, the key a field) reads, moves on and replays as before.
func TestRecordFromBeforeStillReads(t *testing.T) {
	ctx := context.Background()
	store, rdb, _ := newStore(t)
	body := []byte(`{"type":"invoice.created","data":{"id":11}}`)
	key := "invoice.created:11"
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	line, _ := json.Marshal(events.Step{At: at, State: events.StateQueued, Note: "accepted"})
	ms := at.UnixMilli()
	pipe := rdb.TxPipeline()
	pipe.HSet(ctx, store.RecordKey(key), "key", key, "state", "queued", "type", "invoice.created", "payload", body,
		"attempts", 0, "created_at", ms, "updated_at", ms)
	pipe.RPush(ctx, store.HistoryKey(key), line)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Indexed as the old code did.
	if _, err := store.Accept(ctx, events.Incoming{Key: key, Type: "invoice.created", Payload: body}); err != nil {
		t.Fatal(err)
	}

	t.Run("a redelivery is a duplicate", func(t *testing.T) {
		if out, err := store.Accept(ctx, events.Incoming{Key: key, Type: "invoice.created", Payload: body}); err != nil || out != events.Duplicate {
			t.Errorf("Accept = %v, %v; want duplicate", out, err)
		}
	})

	t.Run("it reads with its body and history", func(t *testing.T) {
		ev, err := store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Payload) != string(body) || len(ev.History) != 1 || !ev.History[0].At.Equal(at) || ev.History[0].Note != "accepted" {
			t.Errorf("event = %+v; want its body and its one history line", ev)
		}
	})

	t.Run("its history goes on in its list as it moves on", func(t *testing.T) {
		if _, err := store.Begin(ctx, events.Incoming{Key: key, Type: "invoice.created", Payload: body}); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, key, events.Result{State: events.StateSynced, AccurateID: 1, AccurateNumber: "SI.1"}); err != nil {
			t.Fatal(err)
		}
		ev, err := store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, st := range ev.History {
			states = append(states, st.State)
		}
		if strings.Join(states, ",") != "queued,processing,synced" || ev.State != events.StateSynced || string(ev.Payload) != string(body) {
			t.Errorf("event = %s with history %v; want synced, queued,processing,synced", ev.State, states)
		}
		list, _, _ := store.List(ctx, events.Filter{State: events.StateSynced})
		if len(list) != 1 || list[0].Key != key {
			t.Errorf("synced list = %+v; want the event", list)
		}
	})

	t.Run("it replays from its body", func(t *testing.T) {
		if err := store.Replay(ctx, key); err != nil {
			t.Fatal(err)
		}
		if ev, err := store.Get(ctx, key); err != nil || ev.State != events.StateQueued || string(ev.Payload) != string(body) {
			t.Errorf("after the replay = %+v, %v; want queued with its body", ev, err)
		}
	})
}
