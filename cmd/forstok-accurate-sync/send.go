package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"forstok-accurate-sync/forstok"
)

const defaultSendURL = "http://localhost:8080/webhooks/forstok"

// sendRefused means the webhook was delivered but not accepted (exit 1).
type sendRefused struct{ status int }

func (e *sendRefused) Error() string {
	return fmt.Sprintf("the service answered %d, not 200 or 202: its answer above says why", e.status)
}

// send posts one webhook body, signed as Forstok signs it, to a running
// service and prints the answer: for trying a deployment, or checking that
// FORSTOK_WEBHOOK_SECRET is the same on both ends.
func send(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("send", stdout, `usage: forstok-accurate-sync send [--url URL] [--id ID] FILE

Signs FILE (a webhook body, such as examples/invoice-created-shopee.json) with
the first secret in FORSTOK_WEBHOOK_SECRET, as Forstok signs it, posts it to
the service and prints the answer's status and body. Exits 0 when the service
answered 200 or 202, 1 otherwise.

`)
	url := fs.String("url", defaultSendURL, "the service's webhook URL")
	id := fs.String("id", "", "the webhook-id header (default: a new msg_send_... id; repeat an id to resend the same message)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the answer")
	file, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return usageError("send [--url URL] [--id ID] FILE: %v", err)
	}
	secrets := strings.Fields(getenv("FORSTOK_WEBHOOK_SECRET"))
	if len(secrets) == 0 {
		return errors.New("FORSTOK_WEBHOOK_SECRET is required: the whsec_... secret the service checks webhooks with")
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading the webhook body: %w", err)
	}
	if *id == "" {
		*id = newMessageID("send")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	status, answer, err := postWebhook(ctx, http.DefaultClient, *url, secrets[0], *id, body)
	if err != nil {
		return fmt.Errorf("sending %s to %s: %w", file, *url, err)
	}
	fmt.Fprintf(stdout, "%d %s\n%s\n", status, http.StatusText(status), bytes.TrimSpace(answer))
	if status != http.StatusOK && status != http.StatusAccepted {
		return &sendRefused{status: status}
	}
	return nil
}

// parseInterspersed parses flags before and after the one argument, so that
// `send FILE --url URL` reads as a user means it.
func parseInterspersed(fs *flag.FlagSet, args []string) (string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(positional) {
	case 0:
		return "", errors.New("name the file to send")
	case 1:
		return positional[0], nil
	}
	return "", fmt.Errorf("one file at a time, not %d", len(positional))
}

// newMessageID is a fresh webhook-id.
func newMessageID(kind string) string {
	return "msg_" + kind + "_" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// postWebhook signs body with secret (forstok.Sign, the one signing code of
// the project) at the current time and posts it to url; it returns the
// status and the answer's body. demo and send deliver through it.
func postWebhook(ctx context.Context, client *http.Client, url, secret, id string, body []byte) (int, []byte, error) {
	ts := time.Now().Unix()
	sig, err := forstok.Sign(secret, id, ts, body)
	if err != nil {
		return 0, nil, fmt.Errorf("FORSTOK_WEBHOOK_SECRET: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, answer, nil
}
