package accurate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"forstok-accurate-sync/internal/defaults"
	"forstok-accurate-sync/internal/wait"
)

const (
	// DefaultAccountURL is where host discovery is asked.
	DefaultAccountURL = "https://account.accurate.id"
	// DefaultTimeout bounds each HTTP request to Accurate.
	DefaultTimeout = 30 * time.Second
	// DefaultReadAttempts is how often a read is tried before its failure
	// is returned; DefaultReadRetryBase the first wait between tries.
	DefaultReadAttempts  = 3
	DefaultReadRetryBase = 150 * time.Millisecond

	maxRedirects = 3
	maxAnswer    = 16 << 20 // bytes; a list page is far smaller
)

// Config sets up a Client.
type Config struct {
	AccountURL      string // default DefaultAccountURL; discovery POSTs {AccountURL}/api/api-token.do
	Host            string // when set, discovery is skipped and data calls go here
	APIToken        string
	SignatureSecret string
	Timeout         time.Duration // per HTTP request, default DefaultTimeout
	HTTPClient      *http.Client  // optional; its redirect policy is replaced
	Limiter         Limiter       // nil: no limit
	// ReadAttempts is how many times a read (list.do, detail.do) is tried
	// when it fails for a passing reason (5xx, timeout, rate limit), with
	// ReadRetryBase doubling between tries. Defaults DefaultReadAttempts
	// and DefaultReadRetryBase; 1 turns retrying off. Saves are never
	// retried here: the caller looks the number up first.
	ReadAttempts  int
	ReadRetryBase time.Duration
	// Observe, when set, is told of every call: endpoint like
	// "sales-invoice/save", outcome "ok" or the error's Class, and the time
	// spent talking to Accurate (limiter waits excluded).
	Observe func(endpoint, outcome string, took time.Duration)
	// OnDatabase, when set, is told the id of the database the token
	// opens each time host discovery names it: sellers whose tokens open
	// one database share its limits.
	OnDatabase func(ctx context.Context, id string)
	Now        func() time.Time // signs timestamps; default time.Now
}

// Client calls Accurate with an API token. It is safe for concurrent use.
// It never retries a save: the caller decides, by the error's Class. Reads
// are retried briefly (Config.ReadAttempts).
type Client struct {
	accountURL    string
	discovers     bool // false when Config.Host fixed the host
	token         string
	secret        string
	timeout       time.Duration
	readAttempts  int
	readRetryBase time.Duration
	http          *http.Client
	limiter       Limiter
	priority      priority // posting before yielding reads
	observe       func(endpoint, outcome string, took time.Duration)
	onDatabase    func(ctx context.Context, id string)
	now           func() time.Time

	discovering chan struct{} // a lock that honours ctx: one discovery at a time
	mu          sync.Mutex
	host        string // cached data host, "" until discovered
}

// New checks cfg and builds a Client. It does no I/O: the host is discovered
// on the first call.
func New(cfg Config) (*Client, error) {
	if cfg.APIToken == "" {
		return nil, errors.New("accurate: the API token is empty")
	}
	if cfg.SignatureSecret == "" {
		return nil, errors.New("accurate: the signature secret is empty")
	}
	defaults.Empty(&cfg.AccountURL, DefaultAccountURL)
	account, err := baseURL(cfg.AccountURL)
	if err != nil {
		return nil, fmt.Errorf("accurate: account URL: %w", err)
	}
	c := &Client{
		accountURL:  account,
		discovers:   cfg.Host == "",
		token:       cfg.APIToken,
		secret:      cfg.SignatureSecret,
		timeout:     cfg.Timeout,
		limiter:     cfg.Limiter,
		observe:     cfg.Observe,
		onDatabase:  cfg.OnDatabase,
		now:         cfg.Now,
		discovering: make(chan struct{}, 1),
	}
	if cfg.Host != "" {
		if c.host, err = baseURL(cfg.Host); err != nil {
			return nil, fmt.Errorf("accurate: host: %w", err)
		}
	}
	defaults.Positive(&c.timeout, DefaultTimeout)
	c.readAttempts, c.readRetryBase = cfg.ReadAttempts, cfg.ReadRetryBase
	defaults.Positive(&c.readAttempts, DefaultReadAttempts)
	defaults.Positive(&c.readRetryBase, DefaultReadRetryBase)
	c.now = defaults.Clock(c.now)
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	// A 308 must be re-sent with a fresh signature and the same body, and
	// tells us the host moved: the client follows it itself.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = hc
	return c, nil
}

// answer is Accurate's envelope.
type answer struct {
	S  *bool           `json:"s"`
	D  json.RawMessage `json:"d"`
	R  json.RawMessage `json:"r"`
	SP *pageInfo       `json:"sp"`
}

type pageInfo struct {
	Page      int `json:"page"`
	PageSize  int `json:"pageSize"`
	PageCount int `json:"pageCount"`
	RowCount  int `json:"rowCount"`
}

// response is one HTTP exchange, read in full.
type response struct {
	status   int
	location string
	body     []byte
	waited   time.Duration // for the limiter
}

// call runs one data call (following moves of the host) and reads its
// envelope; an "s": false answer comes back as an *Error.
//
// A read (GET: list.do, detail.do) changes nothing at Accurate, so a
// transient failure of one is tried again here, briefly and with jitter,
// before the caller hears of it: a blip of Accurate's then costs a few
// hundred milliseconds instead of an event's whole retry backoff.
func (c *Client) call(ctx context.Context, endpoint, method string, query url.Values, body any) (*answer, error) {
	for attempt := 1; ; attempt++ {
		a, err := c.callOnce(ctx, endpoint, method, query, body)
		if err == nil || method != http.MethodGet || attempt >= c.readAttempts || !passing(err) {
			return a, err
		}
		if !c.pause(ctx, attempt) {
			return a, err
		}
	}
}

// passing tells a failure that another try soon may not meet.
func passing(err error) bool {
	switch ClassOf(err) {
	case ClassTransient, ClassRateLimited:
		return true
	}
	return false
}

// pause waits before read attempt+1: readRetryBase doubled per attempt, half
// of it fixed and half random, so that callers failing together spread out.
// It reports false when ctx ended first.
func (c *Client) pause(ctx context.Context, attempt int) bool {
	d := c.readRetryBase << (attempt - 1)
	d = d/2 + rand.N(d/2+1)
	return wait.Sleep(ctx, d) == nil
}

// callOnce is one attempt of call.
func (c *Client) callOnce(ctx context.Context, endpoint, method string, query url.Values, body any) (*answer, error) {
	target, payload, err := c.prepare(ctx, endpoint, query, body)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := c.follow(ctx, endpoint, method, target, payload, true)
	var a *answer
	if err == nil {
		a, err = c.interpret(endpoint, res)
	}
	c.report(endpoint, time.Since(start)-res.waited, err)
	return a, err
}

// prepare encodes a data call's body and finds where it goes.
func (c *Client) prepare(ctx context.Context, endpoint string, query url.Values, body any) (target string, payload []byte, err error) {
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return "", nil, &Error{Class: ClassValidation, Endpoint: endpoint, Err: fmt.Errorf("encoding the request: %w", err)}
		}
	}
	base, err := c.dataHost(ctx)
	if err != nil {
		return "", nil, err
	}
	target = base + "/accurate/api/" + endpoint + ".do"
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	return target, payload, nil
}

func (c *Client) report(endpoint string, took time.Duration, err error) {
	if c.observe == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = string(ClassOf(err))
	}
	c.observe(endpoint, outcome, took)
}

// follow sends the request, and again to where a 307/308 points, up to
// maxRedirects times. Limiter waits add up in the response. Every request,
// host discovery included, takes a slot of the limiter: Accurate may count
// api-token.do against the database it names.
func (c *Client) follow(ctx context.Context, endpoint, method, target string, payload []byte, dataCall bool) (response, error) {
	var waited time.Duration
	for hop := 0; ; hop++ {
		res, err := c.exchange(ctx, endpoint, method, target, payload)
		waited += res.waited
		res.waited = waited
		if err != nil {
			return res, err
		}
		if res.status != http.StatusPermanentRedirect && res.status != http.StatusTemporaryRedirect {
			return res, nil
		}
		if hop == maxRedirects {
			return res, &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status,
				Err: fmt.Errorf("more than %d redirects", maxRedirects)}
		}
		next, err := redirectTarget(target, res.location)
		if err != nil {
			return res, &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Err: err}
		}
		if dataCall {
			c.hostMoved(next)
		}
		target = next
	}
}

// exchange is one HTTP request under the limiter and the timeout.
func (c *Client) exchange(ctx context.Context, endpoint, method, target string, payload []byte) (response, error) {
	var res response
	if c.limiter != nil {
		t0 := time.Now()
		turn := c.priority.before(ctx)
		release, err := c.limiter.Acquire(ctx)
		turn()
		res.waited = time.Since(t0)
		if err != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("%w: %w", ErrLimitUnavailable, err)
			}
			return res, &Error{Class: ClassTransient, Endpoint: endpoint, Err: fmt.Errorf("waiting for the rate limit: %w", err)}
		}
		defer release()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Whether the request was written tells a lost answer (maybe saved)
	// from a request that never left (surely not saved).
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	})
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return res, &Error{Class: ClassTransient, Endpoint: endpoint, Err: fmt.Errorf("building the request: %w", err)}
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.authorize(req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		return res, &Error{Class: ClassTransient, Endpoint: endpoint, Ambiguous: sent.Load(), Err: err}
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.location = resp.Header.Get("Location")
	if res.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer)); err != nil {
		return res, &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Ambiguous: true,
			Err: fmt.Errorf("reading the answer: %w", err)}
	}
	return res, nil
}

// interpret reads an answer by its "s", with the HTTP status deciding only
// what "s" cannot: auth, rate limit, server failure.
func (c *Client) interpret(endpoint string, res response) (*answer, error) {
	var a answer
	decodeErr := json.Unmarshal(res.body, &a)
	readable := decodeErr == nil && a.S != nil
	fail := func(class Class, ambiguous bool, cause error) error {
		e := &Error{Class: class, Endpoint: endpoint, Status: res.status, Ambiguous: ambiguous, Err: cause}
		if decodeErr == nil {
			e.Messages = c.messages(res.body, a.D)
		}
		return e
	}
	switch {
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		return nil, fail(ClassAuth, false, errors.New("the API token or signature was refused"))
	case res.status == http.StatusTooManyRequests:
		return nil, fail(ClassRateLimited, false, errors.New("too many requests"))
	case res.status >= 500:
		return nil, fail(ClassTransient, true, errors.New("server error"))
	case !readable:
		cause := errors.New(`the answer has no "s"`)
		if decodeErr != nil {
			cause = fmt.Errorf("the answer is not JSON: %w", decodeErr)
		}
		return nil, &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Ambiguous: true, Err: cause}
	case !*a.S:
		msgs := c.messages(res.body, a.D)
		return nil, &Error{Class: classifyMessages(msgs), Endpoint: endpoint, Status: res.status, Messages: msgs,
			Err: errors.New(`the answer was "s": false`)}
	}
	return &a, nil
}

// messages gathers the text of an answer: every string in "d" (a string, a
// list, or an object of them), else OAuth-style error fields. The token and
// secret are cut out in case a server echoes them.
func (c *Client) messages(body []byte, d json.RawMessage) []string {
	var out []string
	if len(d) > 0 {
		var v any
		if json.Unmarshal(d, &v) == nil {
			out = collectStrings(v, out)
		}
	}
	if len(out) == 0 {
		var oauth struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Message     string `json:"message"`
		}
		if json.Unmarshal(body, &oauth) == nil {
			for _, s := range []string{oauth.Error, oauth.Description, oauth.Message} {
				if s != "" {
					out = append(out, s)
				}
			}
		}
	}
	for i, s := range out {
		out[i] = c.redact(s)
	}
	return out
}

func collectStrings(v any, out []string) []string {
	switch v := v.(type) {
	case string:
		if s := strings.TrimSpace(v); s != "" {
			out = append(out, s)
		}
	case []any:
		for _, e := range v {
			out = collectStrings(e, out)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = collectStrings(v[k], out)
		}
	}
	return out
}

func (c *Client) redact(s string) string {
	for _, secret := range []string{c.token, c.secret} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// dataHost is the cached host, discovered when unknown.
func (c *Client) dataHost(ctx context.Context) (string, error) {
	if h := c.cachedHost(); h != "" {
		return h, nil
	}
	select {
	case c.discovering <- struct{}{}:
	case <-ctx.Done():
		return "", &Error{Class: ClassTransient, Endpoint: "api-token", Err: ctx.Err()}
	}
	defer func() { <-c.discovering }()
	// Another call may have discovered it while this one waited.
	if h := c.cachedHost(); h != "" {
		return h, nil
	}
	start := time.Now()
	h, err := c.discover(ctx)
	c.report("api-token", time.Since(start), err)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.host = h
	c.mu.Unlock()
	return h, nil
}

func (c *Client) cachedHost() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.host
}

// hostMoved reacts to a 307/308: with discovery, forget the host so the next
// call asks again; with a fixed host, the redirect is all there is to go by.
func (c *Client) hostMoved(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.discovers {
		c.host = ""
		return
	}
	if u, err := url.Parse(target); err == nil {
		c.host = u.Scheme + "://" + u.Host
	}
}

// discover asks api-token.do which host serves the token's database.
func (c *Client) discover(ctx context.Context) (string, error) {
	const endpoint = "api-token"
	res, err := c.follow(ctx, endpoint, http.MethodPost, c.accountURL+"/api/api-token.do", nil, false)
	if err != nil {
		return "", err
	}
	a, err := c.interpret(endpoint, res)
	if err != nil {
		return "", err
	}
	type db struct {
		ID   json.Number `json:"id"`
		Host string      `json:"host"`
	}
	var d struct {
		Database  *db `json:"database"`
		DataUsaha *db `json:"data usaha"`
	}
	if err := json.Unmarshal(a.D, &d); err != nil {
		return "", &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Err: fmt.Errorf("reading the database: %w", err)}
	}
	var host string
	var id json.Number
	switch {
	case d.Database != nil && d.Database.Host != "":
		host, id = d.Database.Host, d.Database.ID
	case d.DataUsaha != nil && d.DataUsaha.Host != "":
		host, id = d.DataUsaha.Host, d.DataUsaha.ID
	default:
		return "", &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Err: errors.New("the answer names no database host")}
	}
	base, err := baseURL(host)
	if err != nil {
		return "", &Error{Class: ClassTransient, Endpoint: endpoint, Status: res.status, Err: fmt.Errorf("database host: %w", err)}
	}
	if id != "" && c.onDatabase != nil {
		c.onDatabase(ctx, id.String())
	}
	return base, nil
}

// baseURL checks an http(s) URL and drops any trailing slash.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// redirectTarget resolves a Location against the request; a Location naming
// only a host keeps the request's path and query.
func redirectTarget(from, location string) (string, error) {
	if location == "" {
		return "", errors.New("a redirect without Location")
	}
	u, err := url.Parse(from)
	if err != nil {
		return "", fmt.Errorf("redirect: %w", err)
	}
	next, err := u.Parse(location)
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
		return "", fmt.Errorf("redirect to %q: not an http(s) URL", location)
	}
	if next.Path == "" || next.Path == "/" {
		next.Path, next.RawPath, next.RawQuery = u.Path, u.RawPath, u.RawQuery
	}
	return next.String(), nil
}
