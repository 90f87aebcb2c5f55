package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSend(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.start()
	url := w.url + "/webhooks/forstok"
	const example = "../../examples/invoice-created-shopee.json"
	sendWith := func(secret string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"fas", "send"}, args...), envOf(map[string]string{"FORSTOK_WEBHOOK_SECRET": secret}), &out)
		return out.String(), err
	}

	t.Run("an example signed with the service's secret is accepted", func(t *testing.T) {
		out, err := sendWith(testWebhookSecret, example, "--url", url)
		if err != nil || !strings.HasPrefix(out, "202 Accepted\n") || !strings.Contains(out, `"key":"invoice.created:70001"`) {
			t.Fatalf("send = %v\n%s", err, out)
		}
		if state := w.waitFor([]string{"invoice.created:70001"}, 30*time.Second)["invoice.created:70001"]; state != "synced" {
			t.Errorf("the sent invoice ended %q, want synced", state)
		}
	})

	t.Run("the same example sent again is a duplicate and still succeeds", func(t *testing.T) {
		out, err := sendWith(testWebhookSecret, "--url", url, example)
		if err != nil || !strings.HasPrefix(out, "200 OK\n") || !strings.Contains(out, `"status":"duplicate"`) {
			t.Errorf("send = %v\n%s", err, out)
		}
	})

	t.Run("the first of several rotating secrets signs", func(t *testing.T) {
		out, err := sendWith(testWebhookSecret+" whsec_c2Vjb25kIHNlY3JldA==", "--url", url, example)
		if err != nil || !strings.HasPrefix(out, "200 OK\n") {
			t.Errorf("send = %v\n%s", err, out)
		}
	})

	t.Run("a secret the service does not hold is refused with the service's reason", func(t *testing.T) {
		out, err := sendWith("whsec_c2Vjb25kIHNlY3JldA==", example, "--url", url)
		var refused *sendRefused
		if !errors.As(err, &refused) || refused.status != 401 {
			t.Fatalf("send = %v; want a refusal with 401\n%s", err, out)
		}
		if !strings.HasPrefix(out, "401 Unauthorized\n") || !strings.Contains(out, "no matching signature") {
			t.Errorf("output does not show the status and the service's reason:\n%s", out)
		}
	})

	t.Run("an invalid body is refused with every field the service names", func(t *testing.T) {
		bad := writeFile(t, `{"type":"invoice.created","data":{"id":1}}`)
		out, err := sendWith(testWebhookSecret, bad, "--url", url)
		var refused *sendRefused
		if !errors.As(err, &refused) || refused.status != 422 || !strings.Contains(out, "data.order") {
			t.Errorf("send = %v\n%s", err, out)
		}
	})

	for _, tc := range []struct {
		name, secret string
		args         []string
		want         string
		usage        bool
	}{
		{"without a secret it names the variable to set", "", []string{example, "--url", url}, "FORSTOK_WEBHOOK_SECRET is required", false},
		{"a malformed secret is named without its value", "not-a-secret", []string{example, "--url", url}, `must start with "whsec_"`, false},
		{"a missing file is named", testWebhookSecret, []string{"no-such.json", "--url", url}, "no-such.json", false},
		{"without a file it says what to give", testWebhookSecret, []string{"--url", url}, "name the file to send", true},
		{"two files are refused", testWebhookSecret, []string{example, example}, "one file at a time", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sendWith(tc.secret, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("send = %v; want an error containing %q", err, tc.want)
			}
			if got := errors.Is(err, errUsage); got != tc.usage {
				t.Errorf("usage error = %v, want %v (exit status 2 for usage, 1 otherwise)", got, tc.usage)
			}
			if strings.Contains(err.Error(), "not-a-secret") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}

	t.Run("--help prints the usage and succeeds", func(t *testing.T) {
		out, err := sendWith("", "--help")
		if err != nil || !strings.Contains(out, "usage: forstok-accurate-sync send") || !strings.Contains(out, "-url") {
			t.Errorf("send --help = %v\n%s", err, out)
		}
	})
}
