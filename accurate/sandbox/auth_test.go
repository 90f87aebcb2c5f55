package sandbox

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSignatureTestVector(t *testing.T) {
	// The API Token guide's vector: the timestamp is read in WIB.
	at := time.Date(2023, 11, 2, 9, 1, 1, 0, wib)
	s := New(Config{APIToken: "t", SignatureSecret: "31d49b3dc632614495ff8071e5be44a1", Now: func() time.Time { return at }})
	for _, tc := range []struct {
		name, sig string
		ok        bool
	}{
		{"the hex signature of the guide is accepted", "f0dc6fca5c3031c8c6cb35572b4a9bc0dbc516ecc7a7013db440a5955c0b91ba", true},
		{"the Base64 signature of the guide is accepted", "8NxvylwwMcjGyzVXK0qbwNvFFuzHpwE9tECllVwLkbo=", true},
		{"upper-case hex is accepted", strings.ToUpper("f0dc6fca5c3031c8c6cb35572b4a9bc0dbc516ecc7a7013db440a5955c0b91ba"), true},
		{"a signature with one digit changed is refused", "f0dc6fca5c3031c8c6cb35572b4a9bc0dbc516ecc7a7013db440a5955c0b91bb", false},
		{"an empty signature is refused", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Authorization", "Bearer t")
			h.Set("X-Api-Timestamp", "02/11/2023 09:01:01")
			h.Set("X-Api-Signature", tc.sig)
			err := s.authenticate(h)
			if (err == nil) != tc.ok {
				t.Fatalf("authenticate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestUnauthorizedRequestsGet401(t *testing.T) {
	s := start(t, Config{})
	now := time.Now()
	for _, tc := range []struct {
		name string
		sign func(*http.Request)
	}{
		{"a request without any header is refused", func(*http.Request) {}},
		{"a wrong token is refused", func(r *http.Request) { signed(r, "not-the-token", testSecret, now) }},
		{"a signature made with another secret is refused", func(r *http.Request) { signed(r, testToken, "not-the-secret", now) }},
		{"a timestamp 11 minutes old is refused", func(r *http.Request) { signed(r, testToken, testSecret, now.Add(-11*time.Minute)) }},
		{"a timestamp 11 minutes ahead is refused", func(r *http.Request) { signed(r, testToken, testSecret, now.Add(11*time.Minute)) }},
		{"a token without the Bearer scheme is refused", func(r *http.Request) {
			signed(r, testToken, testSecret, now)
			r.Header.Set("Authorization", testToken)
		}},
		{"a signature over another timestamp is refused", func(r *http.Request) {
			signed(r, testToken, testSecret, now)
			r.Header.Set("X-Api-Timestamp", "1700000000000")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/api-token.do", "/accurate/api/sales-invoice/list.do"} {
				req, _ := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
				tc.sign(req)
				resp, err := s.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("%s: HTTP %d, want 401", path, resp.StatusCode)
				}
				if !strings.Contains(string(body), `"s":false`) || !strings.Contains(string(body), `"error":`) {
					t.Errorf("%s: body %s is not an Accurate-like error", path, body)
				}
				if strings.Contains(string(body), testSecret) || strings.Contains(string(body), testToken) {
					t.Errorf("%s: body %s gives away a secret", path, body)
				}
			}
		})
	}
	if got := s.sb.Calls()["unauthorized"]; got != 14 {
		t.Errorf("calls[unauthorized] = %d, want 14", got)
	}
}

func TestTimestampsWithinSkewAreAccepted(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s := start(t, Config{Now: func() time.Time { return at }})
	for _, tc := range []struct {
		name, ts string
	}{
		{"Unix milliseconds of the server's time", "1795687200000"},
		{"Unix milliseconds 9 minutes behind", "1795686660000"},
		{"dd/MM/yyyy HH:mm:ss in Jakarta time", "26/11/2026 17:00:00"},
		{"dd/MM/yyyy HH:mm:ss 9 minutes ahead", "26/11/2026 17:09:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := s.request(context.Background(), http.MethodGet, "/api/api-token.do", nil)
			req.Header.Set("X-Api-Timestamp", tc.ts)
			req.Header.Set("X-Api-Signature", hmacHex(tc.ts, testSecret))
			if status, e := s.send(req); status != http.StatusOK || !e.S {
				t.Fatalf("HTTP %d s=%v %s", status, e.S, e.D)
			}
		})
	}
	t.Run("dd/MM/yyyy HH:mm:ss read as UTC would be 7 hours off and is refused", func(t *testing.T) {
		req := s.request(context.Background(), http.MethodGet, "/api/api-token.do", nil)
		req.Header.Set("X-Api-Timestamp", "26/11/2026 10:00:00")
		req.Header.Set("X-Api-Signature", hmacHex("26/11/2026 10:00:00", testSecret))
		if status, _ := s.send(req); status != http.StatusUnauthorized {
			t.Fatalf("HTTP %d, want 401", status)
		}
	})
}
