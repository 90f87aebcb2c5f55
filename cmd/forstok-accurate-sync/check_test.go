package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/testaccurate"
	"forstok-accurate-sync/internal/testredis"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCheck(t *testing.T) {
	ctx := context.Background()

	t.Run("a valid mapping passes", func(t *testing.T) {
		var out bytes.Buffer
		err := run(ctx, []string{"fas", "check"}, envOf(map[string]string{"MAPPING_FILE": "../../examples/mapping.yaml"}), &out)
		if err != nil || !strings.Contains(out.String(), "the mapping is valid") {
			t.Errorf("check = %v\n%s", err, out.String())
		}
	})

	for _, tc := range []struct {
		name string
		yaml string
		want []string // in the report
	}{
		{"a broken mapping lists every problem with its path and fails", `timezone: Mars/Olympus
stores:
  "1009":
    customer_no: C-SHOPEE
    colour: blue
amounts:
  service_fee: ""
`, []string{"timezone", `stores."1009".bank_no`, `stores."1009".colour`, "amounts.service_fee"}},
		{"a broken auto_create is named key by key", `stores: {"1009": {customer_no: C-SHOPEE, bank_no: "110201"}}
auto_create:
  items:
    item_type: GOODS
  customer: true
`, []string{
			`line 4: auto_create.items.item_type: unknown item type "GOODS": use INVENTORY, NON_INVENTORY, SERVICE`,
			"auto_create.items.unit: missing",
			"line 5: auto_create.customer: unknown key (known keys: items, customers)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.yaml)
			var out bytes.Buffer
			err := run(ctx, []string{"fas", "check"}, envOf(map[string]string{"MAPPING_FILE": path}), &out)
			var failed *checkFailed
			if !errors.As(err, &failed) || failed.problems != len(tc.want) {
				t.Fatalf("check = %v; want a failed check with %d problems\n%s", err, len(tc.want), out.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %s:\n%s", want, out.String())
				}
			}
		})
	}

	for _, tc := range []struct {
		name string
		yaml string
		want string // the report's end, with the file's path before it
	}{
		{"check --online names what Accurate does not have, with line and path", `stores:
  "1009":
    customer_no: C-SHOPEE
    bank_no: "110201"
  "1011":
    customer_no: C-LAZADA
    bank_no: "110201"
warehouses:
  "78": Utama
  "79": Gudang Bekasi
amounts:
  service_fee: "610202"
  fulfillment_fee: "699999"
`,
			// In file order, each with its line, as the offline check lists them.
			` has 3 problems:
  line 6: stores."1011".customer_no: customer "C-LAZADA" is not in Accurate: create the customer in Accurate or correct the customer no
  line 10: warehouses."79": warehouse "Gudang Bekasi" is not in Accurate: use the warehouse name exactly as Accurate shows it
  line 13: amounts.fulfillment_fee: GL account "699999" is not in Accurate: create the account in Accurate or correct the account no
`},
		{"check --online with auto_create checks the new items' accounts and not the customers it would create", `stores:
  "1011": {customer_no: C-LAZADA, bank_no: "110201"}
auto_create:
  items: {item_type: INVENTORY, unit: PCS, sales_account: "410201", cogs_account: "599999"}
  customers: true
`, ` has 1 problem:
  line 4: auto_create.items.cogs_account: GL account "599999" is not in Accurate: create the account in Accurate or correct the account no
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, acc := testaccurate.Serve(t, sandbox.Config{APIToken: testToken, SignatureSecret: testSigSecret})
			path := writeFile(t, tc.yaml)
			var out bytes.Buffer
			err := run(ctx, []string{"fas", "check", "--online"}, envOf(map[string]string{
				"MAPPING_FILE": path, "ACCURATE_HOST": acc.URL,
				"ACCURATE_API_TOKEN": testToken, "ACCURATE_SIGNATURE_SECRET": testSigSecret,
			}), &out)
			var failed *checkFailed
			if !errors.As(err, &failed) || !strings.HasSuffix(out.String(), path+tc.want) {
				t.Errorf("check --online = %v; report\n%s\nwant it to end\n%s", err, out.String(), path+tc.want)
			}
		})
	}

	t.Run("check --help prints the usage and succeeds", func(t *testing.T) {
		var out bytes.Buffer
		err := run(ctx, []string{"fas", "check", "--help"}, envOf(nil), &out)
		if err != nil || !strings.Contains(out.String(), "usage: forstok-accurate-sync check [--online]") || !strings.Contains(out.String(), "-online") {
			t.Errorf("check --help = %v\n%s", err, out.String())
		}
	})

	t.Run("check with an unknown flag is a usage error", func(t *testing.T) {
		err := run(ctx, []string{"fas", "check", "--onlien"}, envOf(nil), &bytes.Buffer{})
		if !errors.Is(err, errUsage) {
			t.Errorf("check --onlien = %v; want a usage error (exit status 2)", err)
		}
	})
}

// TestCheckOnlineKeepsToAccuratesLimit runs check --online against a sandbox
// that admits one request a second, as a database whose limit is shared.
func TestCheckOnlineKeepsToAccuratesLimit(t *testing.T) {
	ctx := context.Background()
	newSandbox := func(t *testing.T) (*sandbox.Server, string) {
		sb, acc := testaccurate.Serve(t, sandbox.Config{APIToken: testToken, SignatureSecret: testSigSecret, RateLimit: 1, MaxConcurrency: 8})
		return sb, acc.URL
	}
	checkOnline := func(t *testing.T, env map[string]string) {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"fas", "check", "--online"}, envOf(env), &out); err != nil {
			t.Fatalf("check --online = %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "Accurate has every customer") {
			t.Errorf("output:\n%s", out.String())
		}
	}
	// The example mapping names customers, accounts, items, warehouses and
	// branches: five lists, one call each.
	lists := []string{"customer/list", "glaccount/list", "item/list", "warehouse/list", "branch/list"}
	env := func(accURL string) map[string]string {
		return map[string]string{
			"MAPPING_FILE": "../../examples/mapping.yaml", "ACCURATE_HOST": accURL,
			"ACCURATE_API_TOKEN": testToken, "ACCURATE_SIGNATURE_SECRET": testSigSecret,
			"ACCURATE_RATE_LIMIT": "1",
		}
	}

	t.Run("it paces its calls under the limit instead of being refused", func(t *testing.T) {
		sb, url := newSandbox(t)
		checkOnline(t, env(url))
		calls := sb.Calls()
		for _, l := range lists {
			if calls[l] != 1 {
				t.Errorf("%s called %d times, want 1 (calls %v)", l, calls[l], calls)
			}
		}
		if calls["rate_limited"] != 0 {
			t.Errorf("Accurate refused %d calls for the rate: the check did not pace itself (calls %v)", calls["rate_limited"], calls)
		}
	})

	t.Run("it shares the limit with the service through Redis", func(t *testing.T) {
		sb, url := newSandbox(t)
		r := testredis.New(t)
		// The service, under the same limiter key, has just made a call.
		service, err := accurate.New(accurate.Config{Host: url, APIToken: testToken, SignatureSecret: testSigSecret, ReadAttempts: 1,
			Limiter: accurate.NewRedisLimiter(r.Client(t), events.LimiterPrefix(r.Namespace), 1, 8)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := service.List(ctx, accurate.ListBranches); err != nil {
			t.Fatal(err)
		}
		e := env(url)
		e["REDIS_URL"], e["REDIS_NAMESPACE"] = r.URL, r.Namespace
		checkOnline(t, e)
		// A check pacing alone would have called at once and met a 429.
		if calls := sb.Calls(); calls["rate_limited"] != 0 {
			t.Errorf("Accurate refused %d calls for the rate: the check did not wait behind the service's call (calls %v)", calls["rate_limited"], calls)
		}
	})

	t.Run("a 429 from another program using the limit is waited out", func(t *testing.T) {
		sb, url := newSandbox(t)
		// Another program takes this second's one request just before the check.
		c, err := accurate.New(accurate.Config{Host: url, APIToken: testToken, SignatureSecret: testSigSecret, ReadAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(ctx, accurate.ListBranches); err != nil {
			t.Fatal(err)
		}
		checkOnline(t, env(url))
		calls := sb.Calls()
		if calls["rate_limited"] == 0 {
			t.Fatalf("Accurate never refused a call, so nothing was waited out (calls %v)", calls)
		}
		for _, l := range lists {
			if calls[l] < 1 {
				t.Errorf("%s was never read (calls %v)", l, calls)
			}
		}
	})

	t.Run("a configured Redis that does not answer is named", func(t *testing.T) {
		_, url := newSandbox(t)
		e := env(url)
		e["REDIS_URL"] = "redis://127.0.0.1:1/0"
		err := run(ctx, []string{"fas", "check", "--online"}, envOf(e), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "Redis does not answer") || !strings.Contains(err.Error(), "REDIS_URL") {
			t.Errorf("check --online = %v; want it to say Redis does not answer and name REDIS_URL", err)
		}
	})
}

func TestConfig(t *testing.T) {
	t.Run("serve names every missing required setting", func(t *testing.T) {
		err := run(context.Background(), []string{"fas"}, envOf(nil), &bytes.Buffer{})
		for _, name := range []string{"REDIS_URL", "FORSTOK_WEBHOOK_SECRET", "ACCURATE_API_TOKEN", "ACCURATE_SIGNATURE_SECRET", "MAPPING_FILE"} {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v does not name %s", err, name)
			}
		}
	})

	t.Run("a malformed setting is named and its value is not echoed", func(t *testing.T) {
		env := map[string]string{
			"REDIS_URL": "redis://:s3cr3t@localhost:6379/0", "FORSTOK_WEBHOOK_SECRET": "whsec_x", "ACCURATE_API_TOKEN": "tok",
			"ACCURATE_SIGNATURE_SECRET": "sig", "MAPPING_FILE": "m.yaml",
			"ACCURATE_RATE_LIMIT": "fast", "SHUTDOWN_TIMEOUT": "-1s", "ACCURATE_HOST": "ftp://s3cr3t", "LOG_LEVEL": "chatty",
		}
		_, err := loadConfig(envOf(env), needServe)
		if err == nil {
			t.Fatal("loadConfig accepted malformed settings")
		}
		for _, name := range []string{"ACCURATE_RATE_LIMIT", "SHUTDOWN_TIMEOUT", "ACCURATE_HOST", "LOG_LEVEL"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %v does not name %s", err, name)
			}
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error echoes a value: %v", err)
		}
	})

	t.Run("an unknown command is a usage error", func(t *testing.T) {
		if err := run(context.Background(), []string{"fas", "sync-everything"}, envOf(nil), &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("run = %v; want a usage error", err)
		}
	})
}

func TestCheckSellers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mappingYAML := fixtures.MappingYAML(t)
	files := map[string]string{
		"toko.mapping.yaml": string(mappingYAML),
		"toko.yaml":         "name: Toko\nforstok:\n  webhook_secrets_env: TOKO_WEBHOOK\naccurate:\n  api_token_env: TOKO_TOKEN\nmapping_file: toko.mapping.yaml\n",
		"rusak.yaml":        "forstok:\n  webhook_secrets_env: RUSAK_WEBHOOK\naccurate:\n  api_token_env: TOKO_TOKEN\nmapping_file: toko.mapping.yaml\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SELLERS_DIR": dir, "TOKO_WEBHOOK": "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",
		"TOKO_TOKEN": "secret-token-value", "ACCURATE_SIGNATURE_SECRET": "app-secret"}

	t.Run("every seller is checked and a broken one fails the check, naming seller and key", func(t *testing.T) {
		var out bytes.Buffer
		err := run(ctx, []string{"fas", "check"}, envOf(env), &out)
		var failed *checkFailed
		if !errors.As(err, &failed) {
			t.Fatalf("check = %v; want a failed check\n%s", err, out.String())
		}
		says(t, "the report", out.String(), "seller toko (Toko): valid", "seller rusak: forstok.webhook_secrets", "RUSAK_WEBHOOK")
		if strings.Contains(out.String(), "secret-token-value") {
			t.Errorf("report shows a secret:\n%s", out.String())
		}
	})
	t.Run("--seller checks that seller only", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(ctx, []string{"fas", "check", "--seller", "toko"}, envOf(env), &out); err != nil {
			t.Fatalf("check --seller toko = %v\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "rusak") {
			t.Errorf("another seller was reported:\n%s", out.String())
		}
	})
	t.Run("--seller of an unknown seller is an error", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(ctx, []string{"fas", "check", "--seller", "nobody"}, envOf(env), &out); err == nil || !strings.Contains(err.Error(), "nobody.yaml") {
			t.Fatalf("check --seller nobody = %v", err)
		}
	})
	t.Run("--online asks each seller's own Accurate", func(t *testing.T) {
		sb, srv := testaccurate.Serve(t, sandbox.Config{APIToken: "secret-token-value", SignatureSecret: "app-secret"})
		onlineEnv := map[string]string{"ACCURATE_ACCOUNT_URL": srv.URL}
		for k, v := range env {
			onlineEnv[k] = v
		}
		var out bytes.Buffer
		if err := run(ctx, []string{"fas", "check", "--online", "--seller", "toko"}, envOf(onlineEnv), &out); err != nil {
			t.Fatalf("check --online = %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "Accurate has every customer") || sb.Calls()["customer/list"] == 0 {
			t.Errorf("Accurate was not asked:\n%s\n%v", out.String(), sb.Calls())
		}
	})
}
