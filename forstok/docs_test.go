package forstok

import (
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestTheDocumentedTestVectorVerifies reads the test vector from
// docs/webhooks.md, so that the page a sender's author follows cannot drift
// from what the service checks.
func TestTheDocumentedTestVectorVerifies(t *testing.T) {
	page, err := os.ReadFile("../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	row := func(name string) string {
		t.Helper()
		m := regexp.MustCompile("(?m)^\\| " + regexp.QuoteMeta(name) + " \\| `([^`]+)` \\|$").FindSubmatch(page)
		if m == nil {
			t.Fatalf("docs/webhooks.md has no test vector row %q", name)
		}
		return string(m[1])
	}
	secret, id, ts := row("secret"), row("`webhook-id`"), row("`webhook-timestamp`")
	body, signature := row("body"), row("`webhook-signature`")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("the documented timestamp %q: %v", ts, err)
	}

	t.Run("the documented signature verifies at the documented time", func(t *testing.T) {
		if err := newVerifier(t, secret).Verify(id, ts, signature, []byte(body), time.Unix(sec, 0)); err != nil {
			t.Errorf("Verify: %v", err)
		}
	})
	t.Run("Sign gives the documented signature", func(t *testing.T) {
		got, err := Sign(secret, id, sec, []byte(body))
		if err != nil || got != signature {
			t.Errorf("Sign = %q, %v; the page says %q", got, err, signature)
		}
	})
	t.Run("the documented vector is the reference libraries' one", func(t *testing.T) {
		if secret != vectorSecret || id != vectorID || sec != vectorTimestamp || body != vectorBody || signature != vectorSignature {
			t.Errorf("docs/webhooks.md's vector differs from the one signature_test.go holds")
		}
	})
}
