package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"forstok-accurate-sync/events"
)

func TestWhatAnEventKeepsIsBounded(t *testing.T) {
	ctx := context.Background()
	store, rdb, _ := newStore(t)
	in := incoming("invoice.created:3")
	if _, err := store.Accept(ctx, in); err != nil {
		t.Fatal(err)
	}
	// A 1 MB order number, quoted in the error, with a multi-byte
	// character at the cut.
	huge := "Accurate refused faktur " + strings.Repeat("é", 512<<10) + ": Tanggal wajib diisi"

	t.Run("a huge error is cut with a marker giving its size, in last_error and in the history", func(t *testing.T) {
		if _, err := store.Begin(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, in.Key, events.Result{State: events.StateRetrying, Error: huge, NextAttemptAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		ev, err := store.Get(ctx, in.Key)
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range map[string]string{"last_error": ev.LastError, "history note": ev.History[len(ev.History)-1].Note} {
			if len(s) > events.MaxNoteBytes || !utf8.ValidString(s) {
				t.Errorf("%s is %d bytes (valid UTF-8: %v); want at most %d", what, len(s), utf8.ValidString(s), events.MaxNoteBytes)
			}
			if !strings.HasPrefix(s, "Accurate refused faktur é") || !strings.HasSuffix(s, fmt.Sprintf("[cut: %d bytes in all]", len(huge))) {
				t.Errorf("%s = %.60q...%q; want the start kept and a marker with the full size", what, s, s[max(0, len(s)-40):])
			}
		}
	})

	t.Run("a short error is kept whole", func(t *testing.T) {
		if err := store.Finish(ctx, in.Key, events.Result{State: events.StateFailed, Error: "Tanggal wajib diisi"}); err != nil {
			t.Fatal(err)
		}
		if ev, _ := store.Get(ctx, in.Key); ev.LastError != "Tanggal wajib diisi" {
			t.Errorf("last_error = %q", ev.LastError)
		}
	})

	t.Run("an event retried many times keeps its last HistoryLimit lines", func(t *testing.T) {
		for range events.HistoryLimit {
			if err := store.Finish(ctx, in.Key, events.Result{State: events.StateRetrying, Error: huge, NextAttemptAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := store.Get(ctx, in.Key)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.History) != events.HistoryLimit || ev.History[len(ev.History)-1].State != events.StateRetrying {
			t.Errorf("history has %d lines, the last %+v; want %d ending retrying", len(ev.History), ev.History[len(ev.History)-1].State, events.HistoryLimit)
		}
		size, err := rdb.MemoryUsage(ctx, store.RecordKey(in.Key)).Result()
		// Redis's own overhead aside, the lines themselves bound the size.
		if limit := int64(2 * events.HistoryLimit * events.MaxNoteBytes); err == nil && size > limit {
			t.Errorf("the history takes %d bytes in Redis; want under %d", size, limit)
		}
	})
}
