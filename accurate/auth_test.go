package accurate

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"testing"
	"time"
)

func TestSignMatchesTheAPITokenGuideVector(t *testing.T) {
	const (
		timestamp = "02/11/2023 09:01:01"
		secret    = "31d49b3dc632614495ff8071e5be44a1"
		wantHex   = "f0dc6fca5c3031c8c6cb35572b4a9bc0dbc516ecc7a7013db440a5955c0b91ba"
		wantB64   = "8NxvylwwMcjGyzVXK0qbwNvFFuzHpwE9tECllVwLkbo="
	)
	got := Sign(timestamp, secret)
	if got != wantHex {
		t.Fatalf("Sign = %s, want %s", got, wantHex)
	}
	raw, err := hex.DecodeString(got)
	if err != nil {
		t.Fatal(err)
	}
	if b64 := base64.StdEncoding.EncodeToString(raw); b64 != wantB64 {
		t.Fatalf("base64 of the signature = %s, want %s", b64, wantB64)
	}
}

func TestAuthorizeSignsTheTimestampItSends(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 1, 1, 0, time.UTC)
	c, err := New(Config{Host: "http://accurate.test", APIToken: "tok", SignatureSecret: "sec", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	c.authorize(h)
	if got := h.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization = %q", got)
	}
	if got, want := h.Get("X-Api-Timestamp"), "1795683661000"; got != want {
		t.Errorf("X-Api-Timestamp = %q, want Unix ms %q", got, want)
	}
	if got, want := h.Get("X-Api-Signature"), Sign(h.Get("X-Api-Timestamp"), "sec"); got != want {
		t.Errorf("X-Api-Signature = %q, want %q", got, want)
	}
}

func TestNewRefusesMissingSecretsWithoutEchoingThem(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"an empty token is refused", Config{SignatureSecret: "s"}},
		{"an empty signature secret is refused", Config{APIToken: "t"}},
		{"a host that is not a URL is refused", Config{APIToken: "t", SignatureSecret: "s", Host: "accurate.test"}},
		{"an account URL that is not http is refused", Config{APIToken: "t", SignatureSecret: "s", AccountURL: "ftp://x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
}
