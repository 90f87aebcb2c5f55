package accurate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// Sign is the API-token signature of a timestamp: HMAC-SHA256 keyed with the
// app's signature secret, in lowercase hex as CPSSoft's samples write it.
func Sign(timestamp, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	return hex.EncodeToString(m.Sum(nil))
}

// Timestamp writes t as X-Api-Timestamp: Unix milliseconds, which carries no
// time zone to get wrong.
func Timestamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// authorize sets the headers every request carries, signed afresh so that a
// followed redirect or a late start stays within Accurate's clock skew.
func (c *Client) authorize(h http.Header) {
	ts := Timestamp(c.now())
	h.Set("Authorization", "Bearer "+c.token)
	h.Set("X-Api-Timestamp", ts)
	h.Set("X-Api-Signature", Sign(ts, c.secret))
}
