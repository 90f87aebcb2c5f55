package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxSkew is how far X-Api-Timestamp may be from the server's clock.
const maxSkew = 600 * time.Second

// timestampLayout is the readable form of X-Api-Timestamp. It carries no zone:
// the sandbox reads it as Western Indonesia Time (UTC+7, no daylight saving),
// where Accurate's servers and its guide's examples are. Unix milliseconds
// avoid the question.
const timestampLayout = "02/01/2006 15:04:05"

var wib = time.FixedZone("WIB", 7*60*60)

// authError is a refused API-token request. Its description never contains
// the token, the secret or the signature.
type authError struct {
	code        string // as Accurate's OAuth layer: "invalid_token", ...
	description string
}

// authenticate checks the three headers every call carries.
func (s *Server) authenticate(h http.Header) *authError {
	scheme, token, _ := strings.Cut(h.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" || s.token == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		return &authError{"invalid_token", "API Token tidak valid atau sudah dicabut"}
	}
	ts := h.Get("X-Api-Timestamp")
	if ts == "" {
		return &authError{"invalid_request", "Header X-Api-Timestamp harus diisi"}
	}
	if !validSignature(ts, h.Get("X-Api-Signature"), s.secret) {
		return &authError{"invalid_signature", "X-Api-Signature tidak valid"}
	}
	t, err := parseTimestamp(ts)
	if err != nil {
		return &authError{"invalid_request", "Format X-Api-Timestamp tidak dikenal: gunakan Unix milidetik atau dd/MM/yyyy HH:mm:ss"}
	}
	if skew := s.now().Sub(t); skew > maxSkew || skew < -maxSkew {
		return &authError{"invalid_request", "X-Api-Timestamp berselisih lebih dari 600 detik dari waktu server"}
	}
	return nil
}

// validSignature reports whether sig is HMAC-SHA256(timestamp) keyed with
// secret, written in hex or Base64.
func validSignature(timestamp, sig, secret string) bool {
	if sig == "" || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	want := m.Sum(nil)
	for _, decode := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		if got, err := decode(sig); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// parseTimestamp reads Unix milliseconds or "dd/MM/yyyy HH:mm:ss" (WIB).
func parseTimestamp(ts string) (time.Time, error) {
	if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.ParseInLocation(timestampLayout, ts, wib)
}
