package forstok

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from now, either
// way, before the delivery is refused as a possible replay.
const DefaultTolerance = 5 * time.Minute

const secretPrefix = "whsec_"

// Verifier checks Standard Webhooks signatures (webhook-id,
// webhook-timestamp, webhook-signature headers) against one or more secrets,
// so that a secret can be rotated without refusing deliveries. Another
// scheme would be another verifier behind the same Verify shape.
type Verifier struct {
	keys      [][]byte
	tolerance time.Duration
}

// NewVerifier takes the space-separated list of whsec_<base64> secrets and
// the timestamp tolerance (DefaultTolerance in production). A malformed
// secret is reported as a *SecretError naming its position, never its value.
func NewVerifier(secrets string, tolerance time.Duration) (*Verifier, error) {
	if tolerance <= 0 {
		return nil, fmt.Errorf("webhook timestamp tolerance %v: it must be positive", tolerance)
	}
	fields := strings.Fields(secrets)
	if len(fields) == 0 {
		return nil, &SecretError{Reason: "no webhook secret given"}
	}
	v := &Verifier{tolerance: tolerance, keys: make([][]byte, 0, len(fields))}
	for i, s := range fields {
		key, err := parseSecret(s)
		if err != nil {
			err.Position = i + 1
			return nil, err
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

func parseSecret(s string) ([]byte, *SecretError) {
	enc, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, &SecretError{Reason: `must start with "whsec_"`}
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, &SecretError{Reason: `the part after "whsec_" is not valid base64`}
	}
	if len(key) == 0 {
		return nil, &SecretError{Reason: "the key is empty"}
	}
	return key, nil
}

// Verify checks one delivery: the three header values as received, the raw
// body, and the current time. It returns a *SignatureError when the message
// is not authentic or its timestamp is more than the tolerance from now.
func (v *Verifier) Verify(id, timestamp, signatures string, body []byte, now time.Time) error {
	if err := v.CheckHeaders(id, timestamp, signatures, now); err != nil {
		return err
	}
	var offered [][]byte
	for _, candidate := range strings.Fields(signatures) {
		version, encoded, _ := strings.Cut(candidate, ",")
		if version != "v1" {
			continue // other versions are for other verifiers
		}
		if sig, err := base64.StdEncoding.DecodeString(encoded); err == nil {
			offered = append(offered, sig)
		}
	}
	var want [sha256.Size]byte
	for _, key := range v.keys {
		sign(want[:0], key, id, timestamp, body)
		for _, sig := range offered {
			if hmac.Equal(sig, want[:]) {
				return nil
			}
		}
	}
	return &SignatureError{Reason: "no matching signature"}
}

// CheckHeaders decides what the headers alone can: all three present, the
// timestamp within the tolerance, a v1 signature offered. The edge calls it
// before reading a body, so a delivery its headers already condemn costs no
// body bytes; Verify calls it too.
func (v *Verifier) CheckHeaders(id, timestamp, signatures string, now time.Time) error {
	switch {
	case id == "":
		return &SignatureError{Reason: "missing webhook-id header"}
	case timestamp == "":
		return &SignatureError{Reason: "missing webhook-timestamp header"}
	case signatures == "":
		return &SignatureError{Reason: "missing webhook-signature header"}
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return &SignatureError{Reason: "webhook-timestamp header is not Unix seconds"}
	}
	// The distance in seconds, taken unsigned so that no timestamp, however
	// absurd, can overflow it.
	nowSec, tol := now.Unix(), uint64(v.tolerance/time.Second)
	switch {
	case sec <= nowSec && uint64(nowSec)-uint64(sec) > tol:
		return &SignatureError{Reason: "timestamp too old"}
	case sec > nowSec && uint64(sec)-uint64(nowSec) > tol:
		return &SignatureError{Reason: "timestamp too far in the future"}
	}

	for _, candidate := range strings.Fields(signatures) {
		if version, _, _ := strings.Cut(candidate, ","); version == "v1" {
			return nil
		}
	}
	return &SignatureError{Reason: "no v1 signature in webhook-signature header"}
}

// Sign gives the webhook-signature header value "v1,<base64>" for a message,
// as Forstok would send it; for tests, the demo and the load generator.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, serr := parseSecret(secret)
	if serr != nil {
		serr.Position = 1
		return "", serr
	}
	mac := sign(nil, key, id, strconv.FormatInt(timestamp, 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac), nil
}

// sign appends HMAC-SHA256(key, id + "." + timestamp + "." + body) to dst.
func sign(dst, key []byte, id, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(dst)
}
