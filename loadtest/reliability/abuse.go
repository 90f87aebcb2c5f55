package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"forstok-accurate-sync/forstok"
)

// Unicode SKUs: the sandbox's Accurate knows the first as an item, not the
// second, so the second's invoice fails naming it as missing.
const (
	unicodeKnownSKU   = "КАОС-ЧЁРН-L"
	unicodeUnknownSKU = "帽子-01-🧢"
)

// runAbuse sends what a careless or hostile client might: each request must
// get its clear error, and afterwards the service must still be healthy and
// take a normal delivery.
func runAbuse(ctx context.Context, l *lab, res *result) error {
	r, err := l.startStage(ctx, "abuse", stageOptions{
		extraItems: []string{unicodeKnownSKU},
		// The 10,000-invoice payment names fakturs that never come: let it
		// give up in seconds rather than a day.
		env: map[string]string{"PAYMENT_INVOICE_WAIT": "20s"},
	})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	a := &abuser{r: r, res: res, in: newIntake()}

	a.signatures(ctx)
	a.sizes(ctx)
	a.malformed(ctx)
	a.unicode(ctx)
	a.bigPayment(ctx)
	a.slowClients(ctx)
	a.stillHealthy(ctx)

	res.absorb(a.in)
	res.events = len(a.accepted)
	states, _, err := r.finish(ctx, res, a.accepted, 2*time.Minute)
	if err != nil {
		return err
	}
	a.outcomes(states)
	res.expect(r.svc.Running(), "the service is not running any more")
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}

// abuser holds what the abuse scenario sent and saw.
type abuser struct {
	r        *stage
	res      *result
	in       *intake
	accepted []expectation
	next     int // order number of the next well-formed invoice
	// the invoices of the unicode SKUs Accurate knows and does not know
	knownKey, unknownKey string
}

// check records one request: what it got, what it wanted, how long it took.
func (a *abuser) check(what string, got answer, err error, took time.Duration, want []int, mustSay string) {
	if err != nil {
		a.res.expect(false, "%s: %v", what, err)
		return
	}
	line := fmt.Sprintf("%s → %d in %s: %s", what, got.status, took.Round(time.Millisecond), clip(string(got.body), 220))
	a.res.notef("%s", line)
	a.res.expect(slices.Contains(want, got.status), "%s: got %d, want %v", what, got.status, want)
	a.res.expect(mustSay == "" || strings.Contains(string(got.body), mustSay), "%s: the answer does not say %q", what, mustSay)
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// post signs body correctly with timestamp ts and sends it once.
func (a *abuser) post(ctx context.Context, body []byte, ts time.Time) (answer, time.Duration, error) {
	start := time.Now()
	got, err := a.r.send.post(ctx, a.r.send.newDelivery(body), ts)
	return got, time.Since(start), err
}

// invoice is a well-formed invoice.created for a fresh order, expected to be
// accepted.
func (a *abuser) invoice(sku string) (int, []byte) {
	n := 10000 + a.next
	a.next++
	return n, invoiceBody(n, sku)
}

func (a *abuser) expectAccepted(key string, kind docKind, number string, got answer) {
	a.in.record(key, got.status, tries{}, nil)
	if got.status == http.StatusAccepted || got.status == http.StatusOK {
		a.accepted = append(a.accepted, expectation{key: key, kind: kind, number: number})
	}
}

func (a *abuser) signatures(ctx context.Context) {
	now := time.Now()
	_, body := a.invoice("KAOS-HTM-L")

	forged := a.r.send.newDelivery(body)
	sig, _ := forstok.Sign("whsec_"+"Zm9yZ2VkLWJ5LWFuLWF0dGFja2Vy", forged.id, now.Unix(), body)
	start := time.Now()
	got, err := a.r.send.postSigned(ctx, forged, itoa(int(now.Unix())), sig)
	a.check("forged signature (another secret)", got, err, time.Since(start), []int{401}, "no matching signature")

	start = time.Now()
	got, err = a.r.send.postSigned(ctx, a.r.send.newDelivery(body), "", "")
	a.check("no timestamp or signature header", got, err, time.Since(start), []int{401}, "missing")

	got, took, err := a.post(ctx, body, now.Add(-6*time.Minute))
	a.check("stale timestamp (6 min old, correctly signed)", got, err, took, []int{401}, "too old")

	got, took, err = a.post(ctx, body, now.Add(6*time.Minute))
	a.check("future timestamp (6 min ahead, correctly signed)", got, err, took, []int{401}, "future")

	start = time.Now()
	got, err = a.r.send.postSigned(ctx, a.r.send.newDelivery(body), "yesterday", sig)
	a.check("timestamp not a number", got, err, time.Since(start), []int{401}, "Unix seconds")

	// A captured delivery sent again as it was: inside the 5 minutes the
	// signature still holds, and the key makes it a duplicate.
	n, body := a.invoice("KAOS-HTM-L")
	captured := a.r.send.newDelivery(body)
	ts := itoa(int(time.Now().Unix()))
	sig, _ = forstok.Sign(a.r.send.secret, captured.id, time.Now().Unix(), body)
	first, err := a.r.send.postSigned(ctx, captured, ts, sig)
	if err == nil {
		a.expectAccepted(invoiceKey(n), faktur, invoiceNumber(n), first)
	}
	start = time.Now()
	got, err = a.r.send.postSigned(ctx, captured, ts, sig)
	if err == nil {
		a.in.record(invoiceKey(n), got.status, tries{}, nil)
	}
	a.check(fmt.Sprintf("captured delivery replayed byte for byte within 5 min (first answer %d)", first.status), got, err, time.Since(start), []int{200}, "duplicate")
}

func (a *abuser) sizes(ctx context.Context) {
	over := padded(1<<20 + 1)
	got, took, err := a.post(ctx, over, time.Now())
	a.check("body of 1 MiB + 1 byte with Content-Length", got, err, took, []int{413}, "")

	start := time.Now()
	got, err = a.raw(ctx, "application/json", io.MultiReader(bytes.NewReader(over)), -1)
	a.check("body of 1 MiB + 1 byte chunked (no Content-Length)", got, err, time.Since(start), []int{413}, "")

	got, took, err = a.post(ctx, padded(1<<20), time.Now())
	a.check("body of exactly 1 MiB (not an invoice)", got, err, took, []int{400, 422}, "")
}

// padded is a JSON body of exactly size bytes.
func padded(size int) []byte {
	head := `{"type":"invoice.created","data":{"pad":"`
	tail := `"}}`
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

// raw posts body without a signature, with the given content type; length
// -1 sends it chunked.
func (a *abuser) raw(ctx context.Context, contentType string, body io.Reader, length int64) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.r.svc.URL+"/webhooks/forstok", body)
	if err != nil {
		return answer{}, err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	resp, err := a.r.send.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return answer{status: resp.StatusCode, body: b}, nil
}

func (a *abuser) malformed(ctx context.Context) {
	cases := []struct {
		what    string
		body    []byte
		want    []int
		mustSay string
	}{
		{"100,000 nested '[' (signed)", []byte(strings.Repeat("[", 100000)), []int{400}, ""},
		{"100,000 nested objects (signed)", []byte(strings.Repeat(`{"a":`, 100000)), []int{400}, ""},
		{"100,000 nested '[' inside data.order (signed)",
			[]byte(`{"type":"invoice.created","data":{"id":1,"order":` + strings.Repeat("[", 100000) + `}}`), []int{400}, ""},
		{"not JSON", []byte("id=1&type=invoice.created"), []int{400}, ""},
		{"unknown type invoice.refunded", []byte(`{"type":"invoice.refunded","data":{"id":1}}`), []int{400}, "invoice.refunded"},
		{"money with 3 decimals (price 89000.125)", withPrice(`"89000.125"`), []int{422}, "data.order.item_lines[0].price"},
		{"money with 20 digits (price 12345678901234567890)", withPrice(`12345678901234567890`), []int{422}, "data.order.item_lines[0].price"},
		{"negative money (price -1)", withPrice(`-1`), []int{422}, "data.order.item_lines[0].price"},
		{"money as a float exponent (price 8.9e4)", withPrice(`8.9e4`), []int{422}, "data.order.item_lines[0].price"},
		{"empty SKU", bytes.Replace(invoiceBody(1, "KAOS-HTM-L"), []byte(`"KAOS-HTM-L"`), []byte(`""`), 1), []int{422}, "data.order.item_lines[0].sku"},
	}
	for _, c := range cases {
		got, took, err := a.post(ctx, c.body, time.Now())
		a.check(c.what, got, err, took, c.want, c.mustSay)
	}
	start := time.Now()
	got, err := a.raw(ctx, "text/plain", bytes.NewReader(invoiceBody(1, "KAOS-HTM-L")), -1)
	a.check("Content-Type text/plain", got, err, time.Since(start), []int{415}, "")
}

// withPrice is a valid invoice whose first line's price is the raw JSON v.
func withPrice(v string) []byte {
	return bytes.Replace(invoiceBody(2, "KAOS-HTM-L"), []byte(`"price":100000`), []byte(`"price":`+v), 1)
}

func (a *abuser) unicode(ctx context.Context) {
	for _, sku := range []string{unicodeKnownSKU, unicodeUnknownSKU} {
		n, body := a.invoice(sku)
		if sku == unicodeKnownSKU {
			a.knownKey = invoiceKey(n)
		} else {
			a.unknownKey = invoiceKey(n)
		}
		got, took, err := a.post(ctx, body, time.Now())
		a.check(fmt.Sprintf("unicode SKU %q", sku), got, err, took, []int{202}, "")
		if err == nil {
			a.expectAccepted(invoiceKey(n), faktur, invoiceNumber(n), got)
		}
	}
}

func (a *abuser) bigPayment(ctx context.Context) {
	const id = 990001
	body := bigPayment(id, 10000)
	got, took, err := a.post(ctx, body, time.Now())
	a.check(fmt.Sprintf("one payment settling 10,000 invoices that are not in Accurate (%d bytes; see big-payment for one whose fakturs are)", len(body)), got, err, took, []int{202, 413, 422}, "")
	if err == nil {
		a.expectAccepted(fmt.Sprintf("payment.received:%d", id), penerimaan, fmt.Sprintf("FP-%d", id), got)
	}
	over := bigPayment(id+1, 15000)
	got, took, err = a.post(ctx, over, time.Now())
	a.check(fmt.Sprintf("one payment settling 15,000 invoices (%d bytes, over 1 MiB)", len(over)), got, err, took, []int{413}, "")
}

// outcomes reports how the accepted events ended: the unicode SKU Accurate
// knows synced, the other failed with Accurate's own not-found words, the
// big payment gave up waiting for fakturs that never come.
// The unknown SKU's reason names it as what Accurate does not have.
func (a *abuser) outcomes(states map[string]eventInfo) {
	for _, e := range a.accepted {
		ev := states[e.key]
		line := fmt.Sprintf("%s ended %s (%d attempts)", e.key, ev.State, ev.Attempts)
		if ev.LastError != "" {
			line += ": " + clip(ev.LastError, 200)
		}
		a.res.notef("%s", line)
	}
	known, unknown := states[a.knownKey], states[a.unknownKey]
	a.res.expect(known.State == "synced", "the invoice of unicode SKU %q is %s, want synced", unicodeKnownSKU, known.State)
	a.res.expect(unknown.State == "failed" && strings.Contains(unknown.LastError, "does not have") && strings.Contains(unknown.LastError, unicodeUnknownSKU),
		"the invoice of unknown unicode SKU %q is %s (%s), want failed naming the SKU as missing in Accurate", unicodeUnknownSKU, unknown.State, unknown.LastError)
}

// stillHealthy checks the probes and a normal delivery after the abuse.
func (a *abuser) stillHealthy(ctx context.Context) {
	for _, path := range []string{"/healthz", "/readyz"} {
		start := time.Now()
		status, err := probe(ctx, a.r.svc.URL+path)
		a.check("GET "+path+" afterwards", answer{status: status}, err, time.Since(start), []int{200}, "")
	}
	n, body := a.invoice("KAOS-HTM-L")
	got, took, err := a.post(ctx, body, time.Now())
	a.check("a normal delivery afterwards", got, err, took, []int{202}, "accepted")
	if err == nil {
		a.expectAccepted(invoiceKey(n), faktur, invoiceNumber(n), got)
	}
}
