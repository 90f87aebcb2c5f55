package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/loadtest/internal/rig"
)

// sender delivers webhooks as Forstok would: signed, and retried when the
// service cannot be reached or answers 503.
type sender struct {
	base   func() string // the service's URL; it may move between restarts
	secret string
	http   *http.Client
	seq    atomic.Int64
}

func newSender(base func() string, secret string) *sender {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &sender{base: base, secret: secret, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// delivery is one webhook message: the id stays the same on every retry of
// it, as the Standard Webhooks scheme says.
type delivery struct {
	id   string
	body []byte
}

func (s *sender) newDelivery(body []byte) delivery {
	return delivery{id: fmt.Sprintf("msg_rel_%d_%d", time.Now().UnixNano(), s.seq.Add(1)), body: body}
}

// answer is what one POST got back.
type answer struct {
	status int
	body   []byte
}

// post sends d once, signed with timestamp ts.
func (s *sender) post(ctx context.Context, d delivery, ts time.Time) (answer, error) {
	signed, err := rig.Sign(s.secret, d.id, ts, d.body)
	if err != nil {
		return answer{}, fmt.Errorf("sign: %w", err)
	}
	return s.postSigned(ctx, d, signed.Timestamp, signed.Signature)
}

// postSigned sends d with the given timestamp and signature headers.
func (s *sender) postSigned(ctx context.Context, d delivery, ts, sig string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base()+"/webhooks/forstok", bytes.NewReader(d.body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", d.id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", sig)
	resp, err := s.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("deliver %s: %w", d.id, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, fmt.Errorf("read the answer to %s: %w", d.id, err)
	}
	return answer{status: resp.StatusCode, body: b}, nil
}

// tries counts what a delivery met on its way to an answer.
type tries struct {
	unavailable int // 503s
	unreachable int // connection refused, reset or timed out
}

// deliver sends d until the service answers something other than 503, for
// at most within, backing off as a webhook sender does.
func (s *sender) deliver(ctx context.Context, d delivery, within time.Duration) (answer, tries, error) {
	var t tries
	deadline := time.Now().Add(within)
	backoff := 50 * time.Millisecond
	for {
		a, err := s.post(ctx, d, time.Now())
		switch {
		case err == nil && a.status != http.StatusServiceUnavailable:
			return a, t, nil
		case err == nil:
			t.unavailable++
		case ctx.Err() != nil:
			return answer{}, t, ctx.Err()
		default:
			t.unreachable++
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("503 until the deadline")
			}
			return answer{}, t, fmt.Errorf("gave up after %s: %w", within, err)
		}
		if err := wait.Sleep(ctx, backoff); err != nil {
			return answer{}, t, err
		}
		backoff = min(backoff*2, time.Second)
	}
}

// admin is the service's admin API.
type admin struct {
	base  func() string
	token string
	http  *http.Client
}

// eventInfo is an event as the admin API lists it.
type eventInfo struct {
	Key            string `json:"key"`
	Type           string `json:"type"`
	State          string `json:"state"`
	Attempts       int    `json:"attempts"`
	LastError      string `json:"last_error"`
	AccurateNumber string `json:"accurate_number"`
}

func (a *admin) do(ctx context.Context, method, path string, body []byte, into any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base()+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// all lists every event of the namespace, page by page.
func (a *admin) all(ctx context.Context) (map[string]eventInfo, error) {
	out := map[string]eventInfo{}
	_, err := a.eachPage(ctx, url.Values{"limit": {"500"}}, 0, func(evs []eventInfo) {
		for _, ev := range evs {
			out[ev.Key] = ev
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachPage lists GET /admin/events?first page by page, following
// next_cursor until it is null, and hands each page's events to fn; it
// fails past most pages (0: no bound).
func (a *admin) eachPage(ctx context.Context, first url.Values, most int, fn func([]eventInfo)) (pages int, err error) {
	q := url.Values{}
	for k, v := range first {
		q[k] = v
	}
	for most == 0 || pages < most {
		var page struct {
			Events     []eventInfo `json:"events"`
			NextCursor *string     `json:"next_cursor"`
		}
		status, err := a.do(ctx, http.MethodGet, "/admin/events?"+q.Encode(), nil, &page)
		if err != nil {
			return pages, err
		}
		if status != http.StatusOK {
			return pages, fmt.Errorf("list events: status %d", status)
		}
		pages++
		fn(page.Events)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return pages, nil
		}
		q.Set("cursor", *page.NextCursor)
	}
	return pages, fmt.Errorf("more than %d pages", pages)
}

// get reads one event; ok is false for an unknown key.
func (a *admin) get(ctx context.Context, key string) (ev eventInfo, ok bool, err error) {
	status, err := a.do(ctx, http.MethodGet, "/admin/events/"+key, nil, &ev)
	if err != nil {
		return ev, false, err
	}
	switch status {
	case http.StatusOK:
		return ev, true, nil
	case http.StatusNotFound:
		return ev, false, nil
	}
	return ev, false, fmt.Errorf("get event %s: status %d", key, status)
}

func (a *admin) replay(ctx context.Context, key string) (int, error) {
	return a.do(ctx, http.MethodPost, "/admin/events/"+key+"/replay", nil, nil)
}

// view is every key's event: the list first, then each key the list left
// out read on its own. omitted counts those, since a list that leaves out
// events hides them from an operator.
func (a *admin) view(ctx context.Context, keys []string) (evs map[string]eventInfo, omitted int, err error) {
	evs, err = a.all(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range keys {
		if _, listed := evs[k]; listed {
			continue
		}
		ev, ok, err := a.get(ctx, k)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			evs[k] = ev
			omitted++
		}
	}
	return evs, omitted, nil
}

// settle polls the admin API until every key is synced or failed, or the
// time is up, and returns the last states seen and how many events the list
// left out. Errors while the service is down are waited out.
func (a *admin) settle(ctx context.Context, keys []string, within time.Duration, progress func(map[string]int)) (map[string]eventInfo, int, error) {
	deadline := time.Now().Add(within)
	var last map[string]eventInfo
	var omitted int
	lastReport := time.Now()
	for {
		evs, left, err := a.view(ctx, keys)
		if err == nil {
			omitted = left
			last = evs
			counts := map[string]int{}
			pending := 0
			for _, k := range keys {
				st := evs[k].State
				counts[stateOrMissing(st)]++
				if st != "synced" && st != "failed" {
					pending++
				}
			}
			if pending == 0 {
				return last, omitted, nil
			}
			if progress != nil && time.Since(lastReport) >= 10*time.Second {
				progress(counts)
				lastReport = time.Now()
			}
		}
		if time.Now().After(deadline) {
			if last == nil {
				return nil, 0, fmt.Errorf("the admin API never answered: %w", err)
			}
			return last, omitted, nil
		}
		if err := wait.Sleep(ctx, 500*time.Millisecond); err != nil {
			return last, omitted, err
		}
	}
}

func stateOrMissing(s string) string {
	if s == "" {
		return "missing"
	}
	return s
}
