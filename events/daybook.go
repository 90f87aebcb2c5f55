package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The day book: every event that posts (or would post) a document, filed
// under the document's day, so that a reconciliation reads one day of a
// seller at a time instead of every record it keeps. One hash per day,
// field the event key, value the document it stands for; the record's
// state is read beside it when the day is read, so the book never has to
// follow a transition.

// DayLine is the document an event posts or would post.
type DayLine struct {
	Key    string // the event's
	Kind   string // DocInvoice, DocPayout or DocReturn
	Number string // the Accurate number
	Store  string // the Forstok store id
	// TotalSen is the document's total (a payout's cash), in sen; Known is
	// false while it cannot be worked out (an unmapped store).
	TotalSen int64
	Known    bool
	// Invoice is the Forstok invoice id of an invoice.created, for its void.
	Invoice int64
}

// The kinds of document a day line stands for.
const (
	DocInvoice = "invoice"
	DocPayout  = "payout"
	DocReturn  = "return"
)

// DayEntry is a day line with its event as it stands now.
type DayEntry struct {
	DayLine
	State       string
	FailureKind string
	// VoidedBy is the invoice.voided event of the invoice, if any.
	VoidedBy string
}

func (l DayLine) encode() string {
	known := "0"
	if l.Known {
		known = "1"
	}
	// The number goes last: an order number may hold "|".
	return strings.Join([]string{l.Kind, l.Store, strconv.FormatInt(l.TotalSen, 10), known,
		strconv.FormatInt(l.Invoice, 10), l.Number}, "|")
}

func decodeDayLine(key, v string) (DayLine, bool) {
	p := strings.SplitN(v, "|", 6)
	if len(p) != 6 {
		return DayLine{}, false
	}
	total, err1 := strconv.ParseInt(p[2], 10, 64)
	inv, err2 := strconv.ParseInt(p[4], 10, 64)
	if err1 != nil || err2 != nil {
		return DayLine{}, false
	}
	return DayLine{Key: key, Kind: p[0], Store: p[1], TotalSen: total, Known: p[3] == "1", Invoice: inv, Number: p[5]}, true
}

// FileDay files the event's document under day (yyyy-mm-dd in the
// seller's time zone); filing again replaces the line. The day is kept as
// long as the events are.
func (s *Store) FileDay(ctx context.Context, day string, l DayLine) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return fmt.Errorf("file %s: day %q is not yyyy-mm-dd", l.Key, day)
	}
	pipe := s.rdb.Pipeline()
	pipe.HSet(ctx, s.dayKey(day), l.Key, l.encode())
	pipe.Expire(ctx, s.dayKey(day), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("file "+l.Key+" under "+day, err)
	}
	return nil
}

// Day reads one day's lines with each event's state, failure kind and
// void, in two round trips whatever the day holds.
func (s *Store) Day(ctx context.Context, day string) ([]DayEntry, error) {
	raw, err := s.rdb.HGetAll(ctx, s.dayKey(day)).Result()
	if err != nil {
		return nil, unavailable("read day "+day, err)
	}
	out := make([]DayEntry, 0, len(raw))
	for k, v := range raw {
		if l, ok := decodeDayLine(k, v); ok {
			out = append(out, DayEntry{DayLine: l})
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	states := make([]*redis.SliceCmd, len(out))
	voids := make([]*redis.StringCmd, len(out))
	for i, e := range out {
		states[i] = pipe.HMGet(ctx, s.recordKey(e.Key), "state", "failure")
		if e.Kind == DocInvoice && e.Invoice > 0 {
			voids[i] = pipe.Get(ctx, s.scope.VoidKey(e.Invoice))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("read day "+day, err)
	}
	kept := out[:0]
	for i, e := range out {
		vals := states[i].Val()
		st, _ := vals[0].(string)
		if st == "" {
			continue // the record expired: it is no longer the service's to answer for
		}
		e.State = st
		if f, _ := vals[1].(string); f != "" {
			if fk := decodeFailure(f); fk != nil {
				e.FailureKind = fk.Kind
			}
		}
		if voids[i] != nil {
			e.VoidedBy = voids[i].Val()
		}
		kept = append(kept, e)
	}
	return kept, nil
}
