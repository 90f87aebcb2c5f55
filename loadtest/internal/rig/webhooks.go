package rig

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/forstok"
)

// Bodies makes distinct webhook bodies from the Shopee examples of examples/
// (store 1009, SKUs the sandbox's default seed knows), so that every load
// run sends what Forstok sends, at its real size (≈1.7 kB an invoice).
type Bodies struct {
	invoice, payment []byte
	run              string // in every order number, so runs never collide at Accurate
}

// The literals of the examples that make an event distinct.
var (
	exInvoiceID = []byte(`"id": 70001,`)
	exPaymentID = []byte(`"id": 90001,`)
	exOrderNo   = []byte(`"2411260AB12CD3"`)
)

// NewBodies reads the examples; run goes into every order number.
func NewBodies(run string) (*Bodies, error) {
	inv, err := examples.Files.ReadFile("invoice-created-shopee.json")
	if err != nil {
		return nil, err
	}
	pay, err := examples.Files.ReadFile("payment-received-shopee.json")
	if err != nil {
		return nil, err
	}
	for _, must := range []struct {
		body []byte
		lit  []byte
	}{{inv, exInvoiceID}, {inv, exOrderNo}, {pay, exPaymentID}, {pay, exInvoiceID}, {pay, exOrderNo}} {
		if !bytes.Contains(must.body, must.lit) {
			return nil, fmt.Errorf("the examples changed: %s not found", must.lit)
		}
	}
	b := &Bodies{invoice: inv, payment: pay, run: run}
	// A template that no longer decodes would measure 422s, not intake.
	d := forstok.NewDecoder()
	for _, body := range [][]byte{b.Invoice(1), b.Payment(1)} {
		if _, err := d.Decode(body); err != nil {
			return nil, fmt.Errorf("generated body does not decode: %w", err)
		}
	}
	return b, nil
}

// InvoiceID and PaymentID of event n.
func InvoiceID(n int) int64 { return 10_000_000 + int64(n) }
func PaymentID(n int) int64 { return 20_000_000 + int64(n) }

// OrderNumber is the faktur number of invoice n.
func (b *Bodies) OrderNumber(n int) string { return fmt.Sprintf("LT%s-%07d", b.run, n) }

// Invoice is invoice.created number n.
func (b *Bodies) Invoice(n int) []byte {
	out := bytes.Replace(b.invoice, exInvoiceID, fmt.Appendf(nil, `"id": %d,`, InvoiceID(n)), 1)
	return bytes.ReplaceAll(out, exOrderNo, strconv.AppendQuote(nil, b.OrderNumber(n)))
}

// Payment is payment.received paying invoice n.
func (b *Bodies) Payment(n int) []byte {
	out := bytes.Replace(b.payment, exPaymentID, fmt.Appendf(nil, `"id": %d,`, PaymentID(n)), 1)
	out = bytes.Replace(out, exInvoiceID, fmt.Appendf(nil, `"id": %d,`, InvoiceID(n)), 1)
	return bytes.ReplaceAll(out, exOrderNo, strconv.AppendQuote(nil, b.OrderNumber(n)))
}

// Delivery is one signed webhook request, ready to send.
type Delivery struct {
	ID, Timestamp, Signature string
	Body                     []byte
	// Seller, when set, is the seller whose URL (the URL given + "/" +
	// Seller, i.e. /webhooks/forstok/<seller>) it goes to.
	Seller string
}

// Sign makes a delivery of body signed with secret at ts.
func Sign(secret, id string, ts time.Time, body []byte) (Delivery, error) {
	sig, err := forstok.Sign(secret, id, ts.Unix(), body)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{ID: id, Timestamp: strconv.FormatInt(ts.Unix(), 10), Signature: sig, Body: body}, nil
}

// Client posts webhooks over up to conns keep-alive connections.
type Client struct {
	http *http.Client
}

// NewClient is a client for conns concurrent senders.
func NewClient(conns int) *Client {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	return &Client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Post sends d to url and returns the status; the answer's body is read
// and dropped so the connection is reused.
func (c *Client) Post(ctx context.Context, url string, d Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header = http.Header{
		"Content-Type":      {"application/json"},
		"Webhook-Id":        {d.ID},
		"Webhook-Timestamp": {d.Timestamp},
		"Webhook-Signature": {d.Signature},
	}
	return c.do(req)
}

// Get asks url and returns the status.
func (c *Client) Get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	return c.do(req)
}

// do sends req; the answer's body is read and dropped so the connection
// is reused.
func (c *Client) do(req *http.Request) (int, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// CloseIdle drops the kept-alive connections.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }
