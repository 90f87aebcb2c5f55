package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/defaults"
)

// Event is the record of one accepted Forstok event.
type Event struct {
	// Seller is whose event it is (events.DefaultSeller in a single-seller
	// setup); the store sets it from its own seller.
	Seller         string     `json:"seller"`
	Key            string     `json:"key"`
	Type           string     `json:"type"`
	State          string     `json:"state"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error"`
	AccurateID     int64      `json:"accurate_id"`
	AccurateNumber string     `json:"accurate_number"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	VoidedBy       string     `json:"voided_by,omitempty"` // the invoice.voided that stopped it
	// Failure is what to fix, for a failed event (nil for one that failed
	// before the service recorded it).
	Failure   *Failure        `json:"failure,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	History   []Step          `json:"history,omitempty"`
}

// Step is one line of an event's history.
type Step struct {
	At    time.Time `json:"at"`
	State string    `json:"state"`
	Note  string    `json:"note,omitempty"`
}

// Bounds of what an event keeps, so that a huge field of one webhook (a
// 1 MB order number quoted in every error) cannot grow Redis by its size on
// every retry.
const (
	// HistoryLimit is how many history lines an event keeps; the oldest go
	// first.
	HistoryLimit = 100
	// MaxNoteBytes bounds last_error and each history note.
	MaxNoteBytes = 2048
)

// BoundNote cuts s to MaxNoteBytes, on a character boundary, and says so at
// the end with the full size.
func BoundNote(s string) string {
	if len(s) <= MaxNoteBytes {
		return s
	}
	marker := fmt.Sprintf(" … [cut: %d bytes in all]", len(s))
	cut := MaxNoteBytes - len(marker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker
}

// A record is one hash: the event's fields, its packed body (payload.go)
// and its history, a line a field ("h:<n>", "hn" the last n), the oldest
// dropped beyond HistoryLimit. Short values keep the hash in Redis's
// compact encoding. A record written before kept its history in a list of
// its own (historyKey); its lines go on there.

// historyLua defines history(hn, set, del): it appends the line ARGV[4] to
// the history of the record KEYS[1] whose "hn" is hn (nil: a record from
// before, whose history is the list KEYS[2]), keeping the last ARGV[5]
// lines, by adding to set the field/value pairs and to del the fields the
// caller sets and deletes with the rest. The record's expiry (ARGV[3]) is
// the caller's.
const historyLua = `
local function history(hn, set, del)
  if not hn then
    redis.call("RPUSH", KEYS[2], ARGV[4])
    redis.call("LTRIM", KEYS[2], -tonumber(ARGV[5]), -1)
    redis.call("EXPIRE", KEYS[2], ARGV[3])
    return
  end
  local n = tonumber(hn) + 1
  if n > tonumber(ARGV[5]) then del[#del + 1] = "h:" .. (n - tonumber(ARGV[5])) end
  set[#set + 1] = "hn"
  set[#set + 1] = n
  set[#set + 1] = "h:" .. n
  set[#set + 1] = ARGV[4]
end
`

// createLua defines create(rec, byState, key, state, type, now, ttl, line,
// body): it creates the record rec of key in state, with its first history
// line and its packed body's field/value pairs body, and indexes it in
// byState. The indexes are one per state and nothing else: a list of every
// state merges them (List), so that an event costs one index entry, not
// two.
const createLua = `
local function create(rec, byState, key, state, type, now, ttl, line, body)
  redis.call("HSET", rec, "state", state, "type", type, "attempts", 0,
    "created_at", now, "updated_at", now, "hn", 1, "h:1", line, unpack(body))
  redis.call("EXPIRE", rec, ttl)
  redis.call("ZADD", byState, now, key)
end
`

// ensureScript creates the record when it does not exist yet, in state
// ARGV[2], and indexes it. An existing record is left as it is (a worker may
// already be on it). KEYS: record, index:<state>.
// ARGV: key, state, type, now (ms), retention (s), history line, then the
// packed body's field/value pairs.
var ensureScript = redis.NewScript(createLua + `
if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
create(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], {unpack(ARGV, 7)})
return 1
`)

func (s *Store) ensureRecord(ctx context.Context, in Incoming, state, note string) error {
	now := s.now()
	keys := []string{s.recordKey(in.Key), s.indexKey(state)}
	args := append([]any{in.Key, state, in.Type, now.UnixMilli(), int64(s.retention / time.Second), historyLine(now, state, note)},
		payloadFields(s.codec.pack(in.Payload))...)
	if err := ensureScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return unavailable("record "+in.Key, err)
	}
	return nil
}

// setPayloadScript replaces the packed body of the record KEYS[1] by the
// field/value pairs ARGV[1..]. KEYS: record. ARGV: the pairs.
var setPayloadScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
local old = {"payload"}
for i = 0, ` + strconv.Itoa(maxPayloadChunks-1) + ` do old[#old + 1] = "p:" .. i end
redis.call("HDEL", KEYS[1], unpack(old))
redis.call("HSET", KEYS[1], unpack(ARGV))
return 1
`)

// setPayload replaces the body the record of key keeps.
func (s *Store) setPayload(ctx context.Context, key string, body []byte) error {
	if err := setPayloadScript.Run(ctx, s.rdb, []string{s.recordKey(key)}, payloadFields(s.codec.pack(body))...).Err(); err != nil {
		return unavailable("replace the body of "+key, err)
	}
	return nil
}

// transitionLua moves a record to a new state and keeps the per-state
// indexes, the history and the expiry in step, all at once. It reads the
// record once (HMGET) and writes it once (HSET, and HDEL only of fields it
// has).
// KEYS: record, history list (records from before), index prefix (ns:index:).
// ARGV: new state, now (ms), retention (s), history line, history limit,
// attempts increment, two values only releaseScript reads (its cutoff and
// the task id), the event key, then field/value pairs to set ("" values
// delete).
const transitionLua = historyLua + transitionBody + "return 1\n"

// transitionBody is transitionLua without historyLua and without its
// answer, for the scripts that add checks of their own before it or read
// the record after it.
const transitionBody = `
local want = {"state", "created_at", "hn", "attempts"}
for i = 10, #ARGV, 2 do
  if ARGV[i+1] == "" then want[#want + 1] = ARGV[i] end
end
local rec = redis.call("HMGET", KEYS[1], unpack(want))
local old, created = rec[1], rec[2]
if not old then return redis.error_reply("NOTFOUND") end
local key = ARGV[9]
if old ~= ARGV[1] then
  redis.call("ZREM", KEYS[3] .. old, key)
  redis.call("ZADD", KEYS[3] .. ARGV[1], created, key)
end
local set, del = {"state", ARGV[1], "updated_at", ARGV[2]}, {}
history(rec[3], set, del)
if tonumber(ARGV[6]) ~= 0 then
  set[#set + 1] = "attempts"
  set[#set + 1] = (tonumber(rec[4]) or 0) + tonumber(ARGV[6])
end
local j = 5
for i = 10, #ARGV, 2 do
  if ARGV[i+1] == "" then
    if rec[j] then del[#del + 1] = ARGV[i] end
    j = j + 1
  else
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i+1]
  end
end
if #del > 0 then redis.call("HDEL", KEYS[1], unpack(del)) end
redis.call("HSET", KEYS[1], unpack(set))
redis.call("EXPIRE", KEYS[1], ARGV[3])
`

var transitionScript = redis.NewScript(transitionLua)

// change is one transition of a record.
type change struct {
	state   string
	note    string
	attempt bool
	fields  map[string]string
}

func (s *Store) transition(ctx context.Context, key string, c change) error {
	keys := []string{s.recordKey(key), s.historyKey(key), s.indexPrefix()}
	if err := transitionScript.Run(ctx, s.rdb, keys, s.transitionArgs(key, c, 0, "")...).Err(); err != nil {
		if strings.Contains(err.Error(), "NOTFOUND") {
			return fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return unavailable("update "+key, err)
	}
	return nil
}

// transitionArgs are transitionLua's ARGV for c on the event key; cutoff
// and taskID are releaseScript's.
func (s *Store) transitionArgs(key string, c change, cutoff int64, taskID string) []any {
	now := s.now()
	args := []any{c.state, now.UnixMilli(), int64(s.retention / time.Second),
		historyLine(now, c.state, c.note), HistoryLimit, boolInt(c.attempt), cutoff, taskID, key}
	for f, v := range c.fields {
		args = append(args, f, v)
	}
	return args
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// historyLine is a history line as a record keeps it: "<ms> <state>" and
// " <note>" when there is one; short, so that it stays a compact value.
func historyLine(at time.Time, state, note string) string {
	line := strconv.FormatInt(at.UnixMilli(), 10) + " " + state
	if note = BoundNote(note); note != "" {
		line += " " + note
	}
	return line
}

// parseHistoryLine reads a line of historyLine, or the JSON Step of a
// record from before.
func parseHistoryLine(line string) (Step, bool) {
	var st Step
	if strings.HasPrefix(line, "{") {
		return st, json.Unmarshal([]byte(line), &st) == nil
	}
	ms, rest, ok := strings.Cut(line, " ")
	if !ok {
		return st, false
	}
	st.At = msTime(ms)
	st.State, st.Note, _ = strings.Cut(rest, " ")
	return st, !st.At.IsZero()
}

// Get returns one event with its payload and history.
func (s *Store) Get(ctx context.Context, key string) (Event, error) {
	fields, err := s.rdb.HGetAll(ctx, s.recordKey(key)).Result()
	if err != nil {
		return Event{}, unavailable("get "+key, err)
	}
	if len(fields) == 0 {
		return Event{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return s.eventOf(ctx, key, fields)
}

// eventOf is the event of key, with its payload and history, from its
// record's fields.
func (s *Store) eventOf(ctx context.Context, key string, fields map[string]string) (Event, error) {
	ev := s.decodeRecord(key, fields)
	body, err := s.codec.unpack(storedPayload(fields))
	if err != nil {
		return Event{}, fmt.Errorf("%s: %w", key, err)
	}
	ev.Payload = body
	var lines []string
	if _, ok := fields["hn"]; !ok {
		// A record from before: its history is a list of its own.
		if lines, err = s.rdb.LRange(ctx, s.historyKey(key), 0, -1).Result(); err != nil {
			return Event{}, unavailable("get "+key, err)
		}
	} else {
		lines = historyFields(fields)
	}
	for _, line := range lines {
		if st, ok := parseHistoryLine(line); ok {
			ev.History = append(ev.History, st)
		}
	}
	return ev, nil
}

// historyFields are the history lines of a record's fields f, oldest first.
func historyFields(f map[string]string) []string {
	last, _ := strconv.Atoi(f["hn"])
	var lines []string
	for n := max(1, last-HistoryLimit+1); n <= last; n++ {
		if line, ok := f["h:"+strconv.Itoa(n)]; ok {
			lines = append(lines, line)
		}
	}
	return lines
}

// recordFields are the fields of a record decodeRecord reads: a list reads
// only these, never the body nor the history.
var recordFields = []string{"type", "state", "attempts", "last_error", "accurate_id", "accurate_number",
	"next_attempt_at", "voided_by", "failure", "created_at", "updated_at"}

// decodeRecord is the event of key from its record's fields f, without its
// payload and history.
func (s *Store) decodeRecord(key string, f map[string]string) Event {
	ev := Event{
		Seller:         s.scope.ID(),
		Key:            key,
		Type:           f["type"],
		State:          f["state"],
		LastError:      f["last_error"],
		AccurateNumber: f["accurate_number"],
		VoidedBy:       f["voided_by"],
		Failure:        decodeFailure(f["failure"]),
		CreatedAt:      msTime(f["created_at"]),
		UpdatedAt:      msTime(f["updated_at"]),
	}
	ev.Attempts, _ = strconv.Atoi(f["attempts"])
	ev.AccurateID, _ = strconv.ParseInt(f["accurate_id"], 10, 64)
	if v := f["next_attempt_at"]; v != "" {
		t := msTime(v)
		ev.NextAttemptAt = &t
	}
	return ev
}

func msTime(v string) time.Time {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Filter selects events to list.
type Filter struct {
	State  string // empty: every state
	Type   string // empty: every type
	Limit  int    // default 50, at most 500
	Cursor string // from the previous page's NextCursor
}

// List returns events newest first (by acceptance time), a page at a time.
// The cursor is the position after the last event returned.
func (s *Store) List(ctx context.Context, f Filter) (events []Event, nextCursor string, err error) {
	defaults.Positive(&f.Limit, 50)
	if f.Limit > 500 {
		f.Limit = 500
	}
	if f.State != "" {
		return s.listState(ctx, f)
	}
	// Every state: the page is the newest of each state's page after the
	// same cursor. An event that changed state between two reads may be
	// met twice; it is shown once.
	var (
		all  []Event
		seen = map[string]bool{}
		more bool
	)
	for _, state := range States {
		one := f
		one.State = state
		evs, next, err := s.listState(ctx, one)
		if err != nil {
			return nil, "", err
		}
		more = more || next != ""
		for _, ev := range evs {
			if !seen[ev.Key] {
				seen[ev.Key] = true
				all = append(all, ev)
			}
		}
	}
	sortNewestFirst(all)
	if len(all) > f.Limit {
		all, more = all[:f.Limit], true
	}
	if !more {
		return all, "", nil
	}
	return all, CursorAfter(all, f.Cursor), nil
}

// listState is List of the one state f.State, read from its index.
func (s *Store) listState(ctx context.Context, f Filter) (events []Event, nextCursor string, err error) {
	max, shown := "+inf", map[string]bool{}
	var cursorScore int64 = -1
	if f.Cursor != "" {
		if cursorScore, shown, err = parseCursor(f.Cursor); err != nil {
			return nil, "", err
		}
		max = strconv.FormatInt(cursorScore, 10)
	}
	minScore := strconv.FormatInt(s.now().Add(-s.retention).UnixMilli(), 10)
	batchSize := int64(f.Limit * 2)
	for offset := int64(0); len(events) < f.Limit; offset += batchSize {
		batch, err := s.rdb.ZRevRangeByScoreWithScores(ctx, s.indexKey(f.State), &redis.ZRangeBy{
			Max: max, Min: minScore, Offset: offset, Count: batchSize,
		}).Result()
		if err != nil {
			return nil, "", unavailable("list", err)
		}
		keys := make([]string, 0, len(batch))
		for _, z := range batch {
			key := z.Member.(string)
			if int64(z.Score) == cursorScore && shown[key] {
				continue
			}
			if f.Type != "" && !strings.HasPrefix(key, f.Type+":") {
				continue
			}
			keys = append(keys, key)
		}
		got, err := s.records(ctx, keys)
		if err != nil {
			return nil, "", err
		}
		for _, ev := range got {
			if len(events) == f.Limit {
				break
			}
			if ev.State != f.State {
				continue // moved on since the index was read
			}
			events = append(events, ev)
		}
		if int64(len(batch)) < batchSize && len(events) < f.Limit {
			return events, "", nil // the index has no more
		}
		if len(events) == f.Limit {
			break
		}
	}
	return events, CursorAfter(events, f.Cursor), nil
}

// CursorAfter is the cursor of the page that ends with page's last event,
// page being the whole or the first part of what List returned for the
// cursor prev: a list of several stores merged shows part of a page of
// each, and goes on from there.
func CursorAfter(page []Event, prev string) string {
	if len(page) == 0 {
		return prev
	}
	cursorScore, shown := int64(-1), map[string]bool{}
	if prev != "" {
		if s, sh, err := parseCursor(prev); err == nil {
			cursorScore, shown = s, sh
		}
	}
	last := page[len(page)-1]
	keys := sameScoreKeys(page, last.CreatedAt)
	if last.CreatedAt.UnixMilli() == cursorScore {
		for k := range shown {
			keys = append(keys, k)
		}
	}
	return makeCursor(last.CreatedAt.UnixMilli(), keys)
}

func (s *Store) records(ctx context.Context, keys []string) ([]Event, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HMGet(ctx, s.recordKey(k), recordFields...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("list", err)
	}
	out := make([]Event, 0, len(keys))
	for i, c := range cmds {
		f := make(map[string]string, len(recordFields))
		for j, v := range c.Val() {
			if v, ok := v.(string); ok {
				f[recordFields[j]] = v
			}
		}
		if f["state"] == "" {
			continue // expired since it was indexed
		}
		out = append(out, s.decodeRecord(keys[i], f))
	}
	return out, nil
}

func sameScoreKeys(evs []Event, at time.Time) []string {
	var keys []string
	for _, ev := range evs {
		if ev.CreatedAt.Equal(at) {
			keys = append(keys, ev.Key)
		}
	}
	return keys
}

// A cursor is "<score ms>|<key>,<key>": the score of the last event shown and
// the keys already shown at that score, so that events accepted in the same
// millisecond are neither skipped nor repeated.
// It travels base64url-encoded so that it can sit in a query string as is.
func makeCursor(score int64, keys []string) string {
	raw := strconv.FormatInt(score, 10) + "|" + strings.Join(keys, ",")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ErrBadCursor is returned for a cursor List did not make.
var ErrBadCursor = errors.New("cursor is not one this service returned")

func parseCursor(c string) (int64, map[string]bool, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, nil, ErrBadCursor
	}
	scorePart, keysPart, ok := strings.Cut(string(raw), "|")
	score, err := strconv.ParseInt(scorePart, 10, 64)
	if !ok || err != nil {
		return 0, nil, ErrBadCursor
	}
	keys := map[string]bool{}
	for _, k := range strings.Split(keysPart, ",") {
		if k != "" {
			keys[k] = true
		}
	}
	return score, keys, nil
}

// Counts returns how many events are in each state (for metrics).
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	pipe := s.rdb.Pipeline()
	cmds := map[string]*redis.IntCmd{}
	for _, st := range States {
		cmds[st] = pipe.ZCard(ctx, s.indexKey(st))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("counts", err)
	}
	out := map[string]int64{}
	for st, c := range cmds {
		out[st] = c.Val()
	}
	return out, nil
}

// Prune drops the index entries older than the retention of the default
// seller and of every seller given (the sellers the service knows); their
// records have expired on their own. One pipeline of a few commands a
// seller, whatever the indexes hold.
func (ns *Namespace) Prune(ctx context.Context, sellers []string) error {
	cutoff := "(" + strconv.FormatInt(ns.now().Add(-ns.retention).UnixMilli(), 10)
	pipe := ns.rdb.Pipeline()
	seen := map[string]bool{}
	for _, id := range append([]string{DefaultSeller}, sellers...) {
		st := ns.Seller(id)
		if seen[st.scope.ID()] {
			continue
		}
		seen[st.scope.ID()] = true
		// The index of every state that earlier versions kept beside
		// the per-state ones empties as its entries age.
		pipe.ZRemRangeByScore(ctx, st.legacyAllIndexKey(), "-inf", cutoff)
		for _, state := range States {
			pipe.ZRemRangeByScore(ctx, st.indexKey(state), "-inf", cutoff)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("prune", err)
	}
	return nil
}
