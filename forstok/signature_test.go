package forstok

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks reference libraries' test vector, as in docs/webhooks.md.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = int64(1614265330)
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

	// A second, rotated secret.
	otherSecret = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24="
)

var vectorTime = time.Unix(vectorTimestamp, 0)

func newVerifier(t testing.TB, secrets string) *Verifier {
	t.Helper()
	v, err := NewVerifier(secrets, 5*time.Minute)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestSignProducesTheTestVector(t *testing.T) {
	got, err := Sign(vectorSecret, vectorID, vectorTimestamp, []byte(vectorBody))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got != vectorSignature {
		t.Errorf("Sign = %q, want %q", got, vectorSignature)
	}
}

func TestVerify(t *testing.T) {
	ts := strconv.FormatInt(vectorTimestamp, 10)
	otherSig, err := Sign(otherSecret, vectorID, vectorTimestamp, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		secrets    string
		id, ts     string
		signatures string
		body       string
		now        time.Time
		wantReason string // "" means authentic
	}{
		{"the test vector verifies", vectorSecret, vectorID, ts, vectorSignature, vectorBody, vectorTime, ""},
		{"a one-byte change to the body fails", vectorSecret, vectorID, ts, vectorSignature, `{"test": 2432232315}`, vectorTime, "no matching signature"},
		{"a one-byte change to the id fails", vectorSecret, vectorID + "x", ts, vectorSignature, vectorBody, vectorTime, "no matching signature"},
		{"a one-second change to the timestamp fails", vectorSecret, vectorID, strconv.FormatInt(vectorTimestamp+1, 10), vectorSignature, vectorBody, vectorTime, "no matching signature"},
		{"a message signed with the rotated secret verifies", vectorSecret + " " + otherSecret, vectorID, ts, otherSig, vectorBody, vectorTime, ""},
		{"a message signed with the old secret verifies during rotation", otherSecret + "  " + vectorSecret, vectorID, ts, vectorSignature, vectorBody, vectorTime, ""},
		{"a signature from a secret the service does not hold fails", vectorSecret, vectorID, ts, otherSig, vectorBody, vectorTime, "no matching signature"},
		{"any of several listed signatures may match", vectorSecret, vectorID, ts, otherSig + " " + vectorSignature, vectorBody, vectorTime, ""},
		{"a signature of another scheme is ignored", vectorSecret, vectorID, ts, "v1a," + vectorSignature[3:], vectorBody, vectorTime, "no v1 signature in webhook-signature header"},
		{"a signature that is not base64 fails", vectorSecret, vectorID, ts, "v1,!!!", vectorBody, vectorTime, "no matching signature"},
		{"a timestamp 4 minutes old passes", vectorSecret, vectorID, ts, vectorSignature, vectorBody, vectorTime.Add(4 * time.Minute), ""},
		{"a timestamp 4 minutes ahead passes", vectorSecret, vectorID, ts, vectorSignature, vectorBody, vectorTime.Add(-4 * time.Minute), ""},
		{"a timestamp 6 minutes old fails", vectorSecret, vectorID, ts, vectorSignature, vectorBody, vectorTime.Add(6 * time.Minute), "timestamp too old"},
		{"a timestamp 6 minutes ahead fails", vectorSecret, vectorID, ts, vectorSignature, vectorBody, vectorTime.Add(-6 * time.Minute), "timestamp too far in the future"},
		{"an absurd timestamp fails without overflow", vectorSecret, vectorID, "-9223372036854775808", vectorSignature, vectorBody, vectorTime, "timestamp too old"},
		{"a timestamp that is not Unix seconds fails", vectorSecret, vectorID, "2021-02-25T15:02:10Z", vectorSignature, vectorBody, vectorTime, "webhook-timestamp header is not Unix seconds"},
		{"a missing id fails", vectorSecret, "", ts, vectorSignature, vectorBody, vectorTime, "missing webhook-id header"},
		{"a missing timestamp fails", vectorSecret, vectorID, "", vectorSignature, vectorBody, vectorTime, "missing webhook-timestamp header"},
		{"a missing signature fails", vectorSecret, vectorID, ts, "", vectorBody, vectorTime, "missing webhook-signature header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newVerifier(t, tt.secrets).Verify(tt.id, tt.ts, tt.signatures, []byte(tt.body), tt.now)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Verify: %v, want nil", err)
				}
				return
			}
			var sigErr *SignatureError
			if !errors.As(err, &sigErr) {
				t.Fatalf("Verify: %v (%T), want *SignatureError", err, err)
			}
			if sigErr.Reason != tt.wantReason {
				t.Errorf("Reason = %q, want %q", sigErr.Reason, tt.wantReason)
			}
		})
	}
}

func TestNewVerifierRefusesMalformedSecrets(t *testing.T) {
	const hidden = "whsec_not*base64"
	tests := []struct {
		name     string
		secrets  string
		position int // 0: not a *SecretError
	}{
		{"an empty list is refused", "  ", 0},
		{"a secret without the whsec_ prefix is refused", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1},
		{"a secret that is not base64 is refused, named by position", vectorSecret + " " + hidden, 2},
		{"a secret with nothing after the prefix is refused", "whsec_ " + vectorSecret, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewVerifier(tt.secrets, 5*time.Minute)
			if err == nil {
				t.Fatal("NewVerifier accepted it")
			}
			if strings.Contains(err.Error(), "MfKQ9r8") || strings.Contains(err.Error(), "not*base64") {
				t.Errorf("error %q repeats the secret", err)
			}
			var secErr *SecretError
			if tt.position == 0 {
				return
			}
			if !errors.As(err, &secErr) || secErr.Position != tt.position {
				t.Errorf("error %v, want a *SecretError at position %d", err, tt.position)
			}
		})
	}

	t.Run("a zero tolerance is refused", func(t *testing.T) {
		if _, err := NewVerifier(vectorSecret, 0); err == nil {
			t.Error("NewVerifier accepted a zero tolerance")
		}
	})
	t.Run("Sign refuses a malformed secret without repeating it", func(t *testing.T) {
		_, err := Sign(hidden, vectorID, vectorTimestamp, nil)
		if err == nil || strings.Contains(err.Error(), "not*base64") {
			t.Errorf("Sign error = %v", err)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	body := readExample(b, "invoice-created-shopee.json")
	v := newVerifier(b, vectorSecret+" "+otherSecret)
	sig, err := Sign(otherSecret, vectorID, vectorTimestamp, body)
	if err != nil {
		b.Fatal(err)
	}
	ts := strconv.FormatInt(vectorTimestamp, 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(vectorID, ts, sig, body, vectorTime); err != nil {
			b.Fatal(err)
		}
	}
}
