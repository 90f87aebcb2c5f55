package sellers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/sellers"
)

func exampleMapping(t *testing.T) []byte {
	return fixtures.MappingYAML(t)
}

// indent puts the example mapping under "mapping:" in a seller file.
func inlineMapping(t *testing.T) string {
	var b strings.Builder
	b.WriteString("mapping:\n")
	for _, line := range strings.Split(string(exampleMapping(t)), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

const header = `name: Toko Maju
forstok:
  webhook_secrets_env: TOKO_WEBHOOK
accurate:
  api_token_env: TOKO_TOKEN
admin_token_env: TOKO_ADMIN
`

var env = map[string]string{
	"TOKO_WEBHOOK": "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",
	"TOKO_TOKEN":   "token-of-toko-maju",
	"TOKO_ADMIN":   "admin-of-toko-maju-3f9c1e7a52b84d06a1c9",
}

var envMu sync.Mutex

func getenv(k string) string {
	envMu.Lock()
	defer envMu.Unlock()
	return env[k]
}

func setenv(k, v string) {
	envMu.Lock()
	defer envMu.Unlock()
	env[k] = v
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, dir string) *sellers.Registry {
	t.Helper()
	r, err := sellers.Open(sellers.Config{Dir: dir, Getenv: getenv,
		Defaults: sellers.Defaults{SignatureSecret: "app-secret", RateLimit: 8, MaxConcurrency: 8}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadingSellerFiles(t *testing.T) {
	t.Run("a file with secrets from the environment and an inline mapping is a seller", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "toko-maju.yaml", header+inlineMapping(t))
		r := open(t, dir)
		s, ok := r.Get("toko-maju")
		if !ok {
			t.Fatalf("toko-maju not loaded: %+v", r.Status())
		}
		if s.Name != "Toko Maju" || s.Accurate.APIToken != "token-of-toko-maju" ||
			s.Accurate.SignatureSecret != "app-secret" || s.AdminToken != "admin-of-toko-maju-3f9c1e7a52b84d06a1c9" ||
			s.Mapping == nil || len(s.Mapping.Stores) != 2 || s.Verifier == nil || s.Version == "" {
			t.Fatalf("seller = %+v", s)
		}
		if id, ok := r.ByAdminToken("admin-of-toko-maju-3f9c1e7a52b84d06a1c9"); !ok || id != "toko-maju" {
			t.Fatalf("ByAdminToken = %q, %v", id, ok)
		}
		// Shown as is on pages in any language: names only, no words.
		if want := "TOKO_TOKEN, ACCURATE_SIGNATURE_SECRET (toko-maju.yaml: accurate.api_token_env)"; s.Accurate.CredentialsFrom != want {
			t.Errorf("CredentialsFrom = %q; want %q", s.Accurate.CredentialsFrom, want)
		}
	})
	t.Run("secrets and the mapping may come from files beside it", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "webhook.secret", env["TOKO_WEBHOOK"]+"\n")
		write(t, dir, "token.secret", "file-token\n")
		write(t, dir, "toko.mapping.yaml", string(exampleMapping(t)))
		write(t, dir, "toko.yaml", "forstok:\n  webhook_secrets_file: webhook.secret\naccurate:\n  api_token_file: token.secret\n  rate_limit: 4\nmapping_file: toko.mapping.yaml\n")
		r := open(t, dir)
		s, ok := r.Get("toko")
		if !ok {
			t.Fatalf("not loaded: %+v", r.Status())
		}
		if s.Accurate.APIToken != "file-token" || s.Accurate.RateLimit != 4 || s.Accurate.MaxConcurrency != 8 || s.Name != "toko" {
			t.Fatalf("seller = %+v", s.Accurate)
		}
		if ids := r.IDs(); len(ids) != 1 {
			t.Fatalf("the mapping file was taken for a seller: %v", ids)
		}
	})

	problems := []struct {
		name, file, body string
		wantKey          string
		wantText         string
	}{
		{"a secret written inline is refused, without echoing it", "a.yaml",
			"forstok:\n  webhook_secrets: whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=\naccurate:\n  api_token_env: TOKO_TOKEN\n" + "mapping_file: x.yaml\n",
			"", "webhook_secrets"},
		{"an unset variable is named, with the key", "b.yaml",
			"forstok:\n  webhook_secrets_env: NOT_SET_ANYWHERE\naccurate:\n  api_token_env: TOKO_TOKEN\n",
			"forstok.webhook_secrets", "NOT_SET_ANYWHERE"},
		{"a missing API token says how to give it", "c.yaml",
			"forstok:\n  webhook_secrets_env: TOKO_WEBHOOK\n",
			"accurate.api_token", "api_token_env"},
		{"a missing secret file is named", "d.yaml",
			"forstok:\n  webhook_secrets_file: /nowhere/secret\naccurate:\n  api_token_env: TOKO_TOKEN\n",
			"forstok.webhook_secrets", "/nowhere/secret"},
		{"no mapping at all", "e.yaml",
			"forstok:\n  webhook_secrets_env: TOKO_WEBHOOK\naccurate:\n  api_token_env: TOKO_TOKEN\n",
			"mapping", "mapping_file"},
		{"a mapping problem names its path", "f.yaml",
			header + "mapping:\n  timezone: Mars/Olympus\n",
			"mapping", "timezone"},
		{"a file name that is not a seller id", "Toko_Maju.yaml",
			header, "", "file name"},
	}
	for _, tc := range problems {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tc.file, tc.body)
			r := open(t, dir)
			if ids := r.IDs(); len(ids) != 0 {
				t.Fatalf("an invalid seller started: %v", ids)
			}
			st := r.Status()
			if len(st) != 1 || len(st[0].Problems) == 0 {
				t.Fatalf("status = %+v", st)
			}
			found := false
			for _, p := range st[0].Problems {
				if p.Seller != strings.TrimSuffix(tc.file, ".yaml") {
					t.Errorf("problem names seller %q", p.Seller)
				}
				if (tc.wantKey == "" || p.Key == tc.wantKey) && strings.Contains(p.String(), tc.wantText) {
					found = true
				}
				for _, secret := range env {
					if strings.Contains(p.String(), secret) {
						t.Errorf("problem shows a secret: %s", p)
					}
				}
			}
			if !found {
				t.Fatalf("no problem with key %q mentioning %q in %v", tc.wantKey, tc.wantText, st[0].Problems)
			}
		})
	}
}

func TestReloading(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "toko.yaml", header+inlineMapping(t))
	r := open(t, dir)
	first, _ := r.Get("toko")

	t.Run("an unchanged file keeps its version and load time", func(t *testing.T) {
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		if s, _ := r.Get("toko"); s != first {
			t.Fatal("an unchanged seller was replaced")
		}
	})
	t.Run("a broken file keeps the last valid version and shows its problems", func(t *testing.T) {
		write(t, dir, "toko.yaml", "forstok:\n  webhook_secrets_env: NOT_SET\n")
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		s, ok := r.Get("toko")
		if !ok || s != first {
			t.Fatal("the seller lost its last valid version")
		}
		if st := r.Status(); len(st) != 1 || !st[0].Active || len(st[0].Problems) == 0 {
			t.Fatalf("status = %+v", st)
		}
	})
	t.Run("a fixed file is a new version with no problems", func(t *testing.T) {
		write(t, dir, "toko.yaml", strings.Replace(header, "Toko Maju", "Toko Maju Jaya", 1)+inlineMapping(t))
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		s, _ := r.Get("toko")
		if s.Name != "Toko Maju Jaya" || s.Version == first.Version {
			t.Fatalf("seller = %s %s", s.Name, s.Version)
		}
		if st := r.Status(); len(st[0].Problems) != 0 {
			t.Fatalf("problems stayed: %v", st[0].Problems)
		}
	})
	t.Run("a removed file removes the seller", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, "toko.yaml")); err != nil {
			t.Fatal(err)
		}
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Get("toko"); ok {
			t.Fatal("a removed seller is still there")
		}
		if _, ok := r.ByAdminToken(env["TOKO_ADMIN"]); ok {
			t.Fatal("a removed seller's admin token still opens it")
		}
	})
}

func TestWatchingTheFolder(t *testing.T) {
	setenv("LATE_TOKEN", "") // set by the last subtest; -count=N runs this again
	dir := t.TempDir()
	r := open(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx, hup, 50*time.Millisecond) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("not within 10 s: %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Run("a new file starts its seller without a signal", func(t *testing.T) {
		write(t, dir, "baru.yaml", header+inlineMapping(t))
		waitFor("baru loaded", func() bool { _, ok := r.Get("baru"); return ok })
	})
	t.Run("a removed file stops its seller", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, "baru.yaml")); err != nil {
			t.Fatal(err)
		}
		waitFor("baru removed", func() bool { _, ok := r.Get("baru"); return !ok })
	})
	t.Run("a file written before the watch started is loaded when it starts", func(t *testing.T) {
		dir := t.TempDir()
		r := open(t, dir)
		write(t, dir, "awal.yaml", header+inlineMapping(t))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Watch(ctx, nil, time.Hour) }() // an hour: only the start can load it
		waitFor("awal loaded", func() bool { _, ok := r.Get("awal"); return ok })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SIGHUP reloads, for a change outside the folder", func(t *testing.T) {
		write(t, dir, "late.yaml", strings.Replace(header, "TOKO_TOKEN", "LATE_TOKEN", 1)+inlineMapping(t))
		waitFor("late's problem recorded", func() bool {
			st := r.Status()
			return len(st) == 1 && len(st[0].Problems) > 0
		})
		setenv("LATE_TOKEN", "late-token")
		hup <- syscall.SIGHUP
		waitFor("late started", func() bool { _, ok := r.Get("late"); return ok })
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFixedRegistryIsTheSingleSellerSetup(t *testing.T) {
	s := &sellers.Seller{ID: sellers.DefaultID, Name: "default", AdminToken: ""}
	r := sellers.Fixed(s)
	if got, ok := r.Get(sellers.DefaultID); !ok || got != s {
		t.Fatal("default seller not found")
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get(sellers.DefaultID); !ok {
		t.Fatal("a reload of a fixed registry dropped its seller")
	}
	if _, ok := r.ByAdminToken(""); ok {
		t.Fatal("an empty admin token matched")
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"toko-maju": true, "a": true, "0abc": true, strings.Repeat("a", 40): true,
		"": false, "-toko": false, "Toko": false, "toko_maju": false, strings.Repeat("a", 41): false, "a.b": false,
	} {
		if ValidID := sellers.ValidID(id); ValidID != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, ValidID, want)
		}
	}
}
