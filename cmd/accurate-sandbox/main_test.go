package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/internal/syncbuf"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// serve runs the command until the test ends and returns its base URL.
func serve(t *testing.T, args []string, getenv func(string) string) (string, *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), getenv, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v; output %q", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("never listened; output %q", out.String())
	return "", nil
}

func signedGet(t *testing.T, url, token, secret string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Api-Timestamp", ts)
	req.Header.Set("X-Api-Signature", hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestServesWithTheEnvironmentsCredentials(t *testing.T) {
	base, out := serve(t, nil, env(map[string]string{
		"ACCURATE_API_TOKEN": "env-token", "ACCURATE_SIGNATURE_SECRET": "env-secret",
	}))
	if resp := signedGet(t, base+"/api/api-token.do", "env-token", "env-secret"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed with the environment's secret: HTTP %d", resp.StatusCode)
	}
	if resp := signedGet(t, base+"/api/api-token.do", "env-token", "other"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed with another secret: HTTP %d, want 401", resp.StatusCode)
	}
	if strings.Contains(out.String(), "env-secret") || strings.Contains(out.String(), "env-token") {
		t.Errorf("output %q shows a secret", out.String())
	}
}

func TestFlagsOverrideTheEnvironment(t *testing.T) {
	base, _ := serve(t, []string{"-token", "flag-token", "-secret", "flag-secret"}, env(map[string]string{
		"ACCURATE_API_TOKEN": "env-token", "ACCURATE_SIGNATURE_SECRET": "env-secret",
	}))
	if resp := signedGet(t, base+"/api/api-token.do", "flag-token", "flag-secret"); resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
}

func TestWithoutCredentialsTheDemoOnesArePrintedAndWork(t *testing.T) {
	base, out := serve(t, nil, env(nil))
	if !strings.Contains(out.String(), demoToken) || !strings.Contains(out.String(), demoSecret) {
		t.Fatalf("output %q does not show the demo credentials", out.String())
	}
	if resp := signedGet(t, base+"/api/api-token.do", demoToken, demoSecret); resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
}

func TestSeedFileReplacesTheDefaultSeed(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"customers":["C-ONLY"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := serve(t, []string{"-seed", seed}, env(nil))
	resp := signedGet(t, base+"/accurate/api/customer/list.do", demoToken, demoSecret)
	var list struct {
		D []struct{ No string } `json:"d"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list.D) != 1 || list.D[0].No != "C-ONLY" {
		t.Errorf("customers %+v, want only C-ONLY from the seed file", list.D)
	}
}

func TestFaultFlagsReachTheSandbox(t *testing.T) {
	base, _ := serve(t, []string{"-latency", "5ms", "-error-rate", "0.25", "-lose-rate", "0.5"}, env(nil))
	resp, err := http.Get(base + "/sandbox/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if f["latency"] != "5ms" || f["error_rate"] != 0.25 || f["lose_rate"] != 0.5 {
		t.Errorf("faults %v, want the flags' values", f)
	}
}

func TestBadInvocationsFailBeforeListening(t *testing.T) {
	dir := t.TempDir()
	badSeed := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badSeed, []byte(`{"customer":["typo"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"an error rate above 1 is refused", []string{"-error-rate", "1.5"}, nil, "error_rate"},
		{"a token without a secret is refused", nil, map[string]string{"ACCURATE_API_TOKEN": "t"}, "secret"},
		{"a missing seed file is refused", []string{"-seed", filepath.Join(dir, "none.json")}, nil, "seed"},
		{"a seed file with an unknown key is refused", []string{"-seed", badSeed}, nil, "customer"},
		{"a stray argument is refused", []string{"serve"}, nil, "serve"},
		{"a negative rate limit is refused", []string{"-rate-limit", "-1"}, nil, "rate-limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"-listen", "127.0.0.1:0"}, tc.args...), env(tc.env), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("-h prints the flags and no secret", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-h"}, env(map[string]string{"ACCURATE_SIGNATURE_SECRET": "s3cr3t-value"}), &out)
		if err != nil || !strings.Contains(out.String(), "-lose-rate") || strings.Contains(out.String(), "s3cr3t-value") {
			t.Fatalf("run -h = %v, output %q", err, out.String())
		}
	})
}

// TestHelpAndDocsSayTheSame holds -h and docs/sandbox.md to each other and
// to the code: every flag, the demo credentials, the default master data and
// the sandbox's own routes appear in both.
func TestHelpAndDocsSayTheSame(t *testing.T) {
	var help bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, env(nil), &help); err != nil {
		t.Fatalf("--help = %v; it must succeed", err)
	}
	page, err := os.ReadFile("../../docs/sandbox.md")
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	if _, err := parse([]string{"-h"}, env(nil), &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parse -h = %v", err)
	}
	for _, line := range strings.Split(help.String(), "\n") {
		if f, ok := strings.CutPrefix(line, "  -"); ok {
			flags = append(flags, "-"+strings.Fields(f)[0])
		}
	}
	if len(flags) < 10 {
		t.Fatalf("-h lists %d flags: %v", len(flags), flags)
	}
	seed := sandbox.DefaultSeed()
	var seeded []string
	for _, list := range [][]string{seed.Customers, seed.Items, seed.Warehouses, seed.Accounts, seed.Banks, seed.Branches} {
		seeded = append(seeded, list...)
	}
	routes := []string{"GET  /sandbox/state", "GET  /sandbox/faults", "POST /sandbox/faults", "POST /sandbox/reset"}
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"docs/sandbox.md describes every flag -h lists", string(page), wrap(flags, "`")},
		{"docs/sandbox.md names the demo credentials", string(page), []string{"`" + demoToken + "`", "`" + demoSecret + "`"}},
		{"docs/sandbox.md lists the default master data", string(page), wrap(seeded, "`")},
		{"docs/sandbox.md lists the sandbox routes", string(page), []string{"`GET /sandbox/state`", "`GET /sandbox/faults`", "`POST /sandbox/faults`", "`POST /sandbox/reset`"}},
		{"-h names the demo credentials", help.String(), []string{demoToken, demoSecret}},
		{"-h lists the default master data", help.String(), seeded},
		{"-h lists the sandbox routes", help.String(), routes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(tc.text, w) {
					t.Errorf("missing %s", w)
				}
			}
		})
	}
}

func wrap(words []string, quote string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = quote + w + quote
	}
	return out
}

func TestSeveralDatabasesOnePerToken(t *testing.T) {
	base, out := serve(t, []string{"-databases", "a=token-a,b=token-b", "-secret", "s"}, env(nil))
	for _, token := range []string{"token-a", "token-b"} {
		if resp := signedGet(t, base+"/accurate/api/sales-invoice/list.do", token, "s"); resp.StatusCode != http.StatusOK {
			t.Errorf("signed with %s: HTTP %d", token, resp.StatusCode)
		}
	}
	if resp := signedGet(t, base+"/accurate/api/sales-invoice/list.do", "token-c", "s"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token of no database: HTTP %d, want 401", resp.StatusCode)
	}
	var state sandbox.State
	resp, err := http.Get(base + "/sandbox/db/a/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil || state.Calls["sales-invoice/list"] != 1 {
		t.Errorf("database a's state = %+v, %v; want its one list call", state.Calls, err)
	}
	if strings.Contains(out.String(), "token-a") {
		t.Errorf("output %q shows a token", out.String())
	}
	t.Run("ACCURATE_API_TOKEN in the environment does not stop -databases, but -token does", func(t *testing.T) {
		o, err := parse([]string{"-databases", "a=token-a"}, env(map[string]string{"ACCURATE_API_TOKEN": "token-env"}), &bytes.Buffer{})
		if err != nil || o.token != "" || o.databases["a"] != "token-a" {
			t.Errorf("with the variable: token %q, databases %v, err %v; want the databases and no token", o.token, o.databases, err)
		}
		if _, err := parse([]string{"-databases", "a=token-a", "-token", "t"}, env(nil), &bytes.Buffer{}); err == nil {
			t.Error("-token with -databases was accepted")
		}
	})
	for _, bad := range []string{"a", "a=t,a=u", "a=t,b=t"} {
		t.Run("-databases "+bad+" is refused", func(t *testing.T) {
			if err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-databases", bad}, env(nil), &bytes.Buffer{}); err == nil {
				t.Error("run succeeded")
			}
		})
	}
}
