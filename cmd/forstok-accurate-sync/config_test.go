package main

import (
	"strings"
	"testing"

	"forstok-accurate-sync/reconcile"
	"forstok-accurate-sync/worker"
)

func TestMaxAttemptsAndItsOldName(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		attempts int
		warning  string // a phrase of the one warning, "" for none
	}{
		{"unset, the worker's default applies", nil, worker.DefaultMaxAttempts, ""},
		{"MAX_ATTEMPTS sets the attempts in all", map[string]string{"MAX_ATTEMPTS": "3"}, 3, ""},
		{"the old MAX_RETRIES still works and asks to be renamed", map[string]string{"MAX_RETRIES": "4"}, 4, "MAX_RETRIES is deprecated: rename it MAX_ATTEMPTS"},
		{"with both set MAX_ATTEMPTS wins and MAX_RETRIES is called ignored", map[string]string{"MAX_ATTEMPTS": "5", "MAX_RETRIES": "4"}, 5, "MAX_RETRIES is ignored"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return tc.env[k] }, requirement{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxAttempts != tc.attempts {
				t.Errorf("MaxAttempts = %d; want %d", cfg.MaxAttempts, tc.attempts)
			}
			wantWarning(t, cfg.warnings(), tc.warning)
		})
	}
	t.Run("a malformed old name is reported by its name", func(t *testing.T) {
		_, err := loadConfig(func(k string) string { return map[string]string{"MAX_RETRIES": "many"}[k] }, requirement{})
		if err == nil || !strings.Contains(err.Error(), "MAX_RETRIES is malformed") {
			t.Errorf("err = %v; want MAX_RETRIES is malformed", err)
		}
	})
}

func TestSellerShareAgainstTheWorkers(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		warning string // a phrase of the one warning, "" for none
	}{
		{"the defaults leave half the workers to other sellers", nil, ""},
		{"a share below the workers is quiet", map[string]string{"SELLER_SHARE": "10", "WORKER_CONCURRENCY": "16"}, ""},
		{"a share as large as the workers is warned of", map[string]string{"WORKER_CONCURRENCY": "16"}, "SELLER_SHARE (200) is not below WORKER_CONCURRENCY (16)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return tc.env[k] }, requirement{})
			if err != nil {
				t.Fatal(err)
			}
			wantWarning(t, cfg.warnings(), tc.warning)
		})
	}
}

// wantWarning checks that warnings are none (phrase "") or one saying phrase.
func wantWarning(t *testing.T, warnings []string, phrase string) {
	t.Helper()
	switch {
	case phrase == "" && len(warnings) != 0:
		t.Errorf("warnings = %q; want none", warnings)
	case phrase != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], phrase)):
		t.Errorf("warnings = %q; want one saying %q", warnings, phrase)
	}
}

func TestRedisShards(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		shards int
		bad    string // a phrase of the error, "" for none
	}{
		{"one Redis keeps one shard unless told", nil, 1, ""},
		{"a Redis Cluster gets 16 unless told", map[string]string{"REDIS_CLUSTER_ADDRS": "a:7000,b:7001"}, 16, ""},
		{"REDIS_SHARDS is taken as it is", map[string]string{"REDIS_SHARDS": "32"}, 32, ""},
		{"more than 256 shards is refused by name", map[string]string{"REDIS_SHARDS": "300"}, 0, "REDIS_SHARDS"},
		{"zero shards is refused by name", map[string]string{"REDIS_SHARDS": "0"}, 0, "REDIS_SHARDS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return tc.env[k] }, requirement{})
			switch {
			case tc.bad != "":
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Errorf("err = %v; want one naming %s", err, tc.bad)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.RedisShards != tc.shards:
				t.Errorf("RedisShards = %d; want %d", cfg.RedisShards, tc.shards)
			}
		})
	}
}

func TestTaskBody(t *testing.T) {
	cases := []struct {
		name   string
		value  string
		inTask bool
		bad    bool
	}{
		{"tasks carry no body unless told", "", false, false},
		{"record is the default said aloud", "record", false, false},
		{"task makes tasks carry the body for older replicas", "task", true, false},
		{"anything else is refused by name", "both", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string {
				if k == "TASK_BODY" {
					return tc.value
				}
				return ""
			}, requirement{})
			switch {
			case tc.bad:
				if err == nil || !strings.Contains(err.Error(), `TASK_BODY is malformed: want "record"`) {
					t.Errorf("err = %v; want one naming TASK_BODY and its values", err)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.BodyInTask != tc.inTask:
				t.Errorf("BodyInTask = %v; want %v", cfg.BodyInTask, tc.inTask)
			}
		})
	}
}

func TestReconcileAt(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		want reconcile.At
		bad  bool
	}{
		{"unset is 06:00", "", reconcile.At{Hour: 6}, false},
		{"a time of day is taken", "05:30", reconcile.At{Hour: 5, Minute: 30}, false},
		{"off turns the daily run off", "off", reconcile.At{Off: true}, false},
		{"an hour past 23 stops the start, naming the variable", "25:00", reconcile.At{}, true},
		{"a time without its minutes stops the start, naming the variable", "6", reconcile.At{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string {
				if k == "RECONCILE_AT" {
					return tc.env
				}
				return ""
			}, requirement{})
			switch {
			case tc.bad:
				if err == nil || !strings.Contains(err.Error(), "RECONCILE_AT is malformed: want a time of day as HH:MM") {
					t.Errorf("err = %v; want one naming RECONCILE_AT", err)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.ReconcileAt != tc.want:
				t.Errorf("ReconcileAt = %v; want %v", cfg.ReconcileAt, tc.want)
			}
		})
	}
}

func TestEdgeSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		problem string // a phrase of the error, "" for none
		hidden  string // a value the error must not show
	}{
		{"an ADMIN_TOKEN of 32 bytes is taken", map[string]string{"ADMIN_TOKEN": strings.Repeat("k", 32)}, "", ""},
		{"an ADMIN_TOKEN under 32 bytes stops the start, naming it and not its value", map[string]string{"ADMIN_TOKEN": "short-admin-token"}, "ADMIN_TOKEN is malformed: want at least 32 bytes", "short-admin-token"},
		{"TRUSTED_PROXIES takes addresses and ranges", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, "", ""},
		{"a malformed TRUSTED_PROXIES stops the start", map[string]string{"TRUSTED_PROXIES": "the-proxy"}, "TRUSTED_PROXIES is malformed", ""},
		{"a body budget below one webhook stops the start", map[string]string{"MAX_BODY_BYTES_IN_FLIGHT": "1000"}, "MAX_BODY_BYTES_IN_FLIGHT is malformed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(func(k string) string { return tc.env[k] }, requirement{})
			switch {
			case tc.problem == "" && err != nil:
				t.Errorf("err = %v; want none", err)
			case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
				t.Errorf("err = %v; want it to say %q", err, tc.problem)
			case tc.hidden != "" && err != nil && strings.Contains(err.Error(), tc.hidden):
				t.Errorf("err = %v shows the value", err)
			}
		})
	}
}
