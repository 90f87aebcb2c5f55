package handler

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"forstok-accurate-sync/edge"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// webhook takes one Forstok delivery: content type, size, signature, then
// payload, and accepts its business event exactly once.
func (a *api) webhook(c echo.Context) error {
	seller := c.Param("seller")
	if seller == "" {
		seller = DefaultSeller
	}
	in, ok := a.Seller(seller)
	if !ok {
		// Not counted: the label's values come from configuration only.
		return &statusError{status: http.StatusNotFound, msg: "no seller " + strconv.Quote(clip(seller)) +
			" is configured here: check the seller id in the webhook URL (POST /webhooks/forstok/<seller>)"}
	}
	c.Set(sellerKey, seller)
	if err := checkJSONHeaders(c.Request()); err != nil {
		a.count(seller, "unknown", "rejected")
		return err
	}
	req := c.Request()
	// What the headers decide is decided before a byte of body is read: a
	// delivery without its signature headers, or with a stale timestamp,
	// costs no memory.
	if err := in.Verifier.CheckHeaders(req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
		req.Header.Get("webhook-signature"), a.Now()); err != nil {
		a.count(seller, "unknown", "unauthorized")
		return err
	}
	body, err := a.readBody(c)
	if err != nil {
		a.count(seller, "unknown", "rejected")
		return err
	}
	if err := in.Verifier.Verify(req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
		req.Header.Get("webhook-signature"), body, a.Now()); err != nil {
		a.count(seller, "unknown", "unauthorized")
		return err
	}
	ev, err := a.Decoder.Decode(body)
	if err != nil {
		a.count(seller, typeOf(ev), "invalid")
		return err
	}
	key := ev.Key()
	c.Set(eventKeyKey, key)
	outcome, err := in.Store.Accept(req.Context(), events.Incoming{Key: key, Type: ev.Type, Payload: body, Orders: ev.OrderNumbers()})
	if err != nil {
		a.count(seller, ev.Type, "unavailable")
		return err
	}
	a.count(seller, ev.Type, outcome.String())
	status := http.StatusAccepted
	if outcome == events.Duplicate {
		status = http.StatusOK
	}
	return writeAnswer(c, status, answer{Key: key, Status: outcome.String()})
}

// answer is the body of a 202 or 200; its fields are in the order a map
// would be written, so the bytes are the same.
type answer struct {
	Key    string `json:"key"`
	Status string `json:"status"`
}

// writeAnswer writes what c.JSON would, without its encoder and its parse
// of the query (for ?pretty), which every accepted webhook paid for: a key
// is an event type and a number, a status a word, so the bytes are built
// directly. Anything else (a query string, a character JSON would escape)
// goes through c.JSON as before.
func writeAnswer(c echo.Context, status int, a answer) error {
	if c.Request().URL.RawQuery != "" || !plainJSON(a.Key) || !plainJSON(a.Status) {
		return c.JSON(status, a)
	}
	b := make([]byte, 0, len(`{"key":"","status":""}`)+len(a.Key)+len(a.Status)+1)
	b = append(b, `{"key":"`...)
	b = append(b, a.Key...)
	b = append(b, `","status":"`...)
	b = append(b, a.Status...)
	b = append(b, "\"}\n"...) // json.Encoder ends its value with a newline
	return c.JSONBlob(status, b)
}

// plainJSON reports whether encoding/json writes s inside its quotes as it
// is: printable ASCII without a quote, a backslash or an HTML character.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

func (a *api) count(seller, eventType, outcome string) {
	if a.Metrics != nil {
		a.Metrics.Webhook(seller, eventType, outcome)
	}
}

func typeOf(ev forstok.Event) string {
	if ev.Type == "" {
		return "unknown"
	}
	return ev.Type
}

// readJSONBody insists on a JSON content type sent without a content
// encoding and reads at most MaxBodyBytes, answering 415 and 413 otherwise.
func (a *api) readJSONBody(c echo.Context) ([]byte, error) {
	if err := checkJSONHeaders(c.Request()); err != nil {
		return nil, err
	}
	return a.readBody(c)
}

// checkJSONHeaders answers 415 for a body that is not plain JSON and 413
// for one announced larger than MaxBodyBytes.
func checkJSONHeaders(req *http.Request) error {
	mediaType, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEApplicationJSON {
		return &statusError{status: http.StatusUnsupportedMediaType,
			msg: "Content-Type must be application/json"}
	}
	// The signature is over the bytes as sent and the body is read as JSON:
	// a gzip body would be verified as gzip and then refused as "not JSON",
	// or worse, a plain body labelled gzip would be taken as something it
	// says it is not.
	for _, enc := range req.Header.Values(echo.HeaderContentEncoding) {
		for _, e := range strings.Split(enc, ",") {
			if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "identity") {
				return &statusError{status: http.StatusUnsupportedMediaType,
					msg: "Content-Encoding " + strconv.Quote(clip(e)) + " is not supported: send the body uncompressed (identity)"}
			}
		}
	}
	if req.ContentLength > MaxBodyBytes {
		return errBodyTooLarge
	}
	return nil
}

// readBody reads the request's body within the process-wide budget of body
// bytes in flight (503 with Retry-After when it is spent) and at the
// minimum upload rate. A body of unknown length reserves the most it may be.
func (a *api) readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	share := req.ContentLength
	if share < 0 || share > MaxBodyBytes {
		share = MaxBodyBytes
	}
	if !a.BodyBudget.Take(share) {
		return nil, errBusy
	}
	defer a.BodyBudget.Give(share)
	r := edge.MinRate(c.Response(), http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes), a.MinBodyRate, a.BodyGrace, time.Now)
	body, err := readAll(r, req.ContentLength)
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, errBodyTooLarge
		case errors.Is(err, edge.ErrTooSlow):
			return nil, errTooSlow
		}
		return nil, &statusError{status: http.StatusBadRequest, msg: "could not read the request body: " + err.Error()}
	}
	return body, nil
}

var (
	errBusy = &statusError{status: http.StatusServiceUnavailable, retryAfter: 1,
		msg: "the service is reading as many request bodies as it takes at once: retry the delivery shortly"}
	errTooSlow = &statusError{status: http.StatusRequestTimeout,
		msg: "the request body arrived too slowly: send it again"}
)

// readAll reads r whole, growing its buffer only as bytes arrive: a
// Content-Length is a claim, made before the signature is checked, so it
// sizes at most the first buffer (up to firstBuffer), never the whole read.
// Two hundred connections claiming 1 MiB and sending nothing then hold
// kilobytes, not 200 MiB. A body of announced length that fits the first
// buffer (a usual webhook) is read into it without a copy.
func readAll(r io.Reader, contentLength int64) ([]byte, error) {
	size := int64(bytes.MinRead)
	if contentLength > 0 {
		size = min(contentLength, firstBuffer)
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			// Full: ask for one more byte before growing, so that a body
			// that exactly fills the buffer ends here without a copy.
			var probe [1]byte
			n, err := r.Read(probe[:])
			if n > 0 && int64(len(buf)) < contentLength {
				// More than the first buffer is coming: make room for the
				// announced rest at once (the body budget has reserved it)
				// rather than growing by steps, whose copies would hold the
				// body twice over.
				grown := make([]byte, len(buf), contentLength)
				copy(grown, buf)
				buf = grown
			}
			if n > 0 {
				buf = append(buf, probe[0])
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if contentLength > 0 && int64(len(buf)) < contentLength {
		return nil, io.ErrUnexpectedEOF // the body ended before its Content-Length
	}
	return buf, nil
}

// firstBuffer is the most a claimed Content-Length reserves before bytes
// arrive: room for any usual webhook.
const firstBuffer = 32 << 10

var errBodyTooLarge = &statusError{status: http.StatusRequestEntityTooLarge, msg: "body is larger than 1 MiB"}

// clip keeps an echoed header value short: it comes from the sender.
func clip(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
