package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	fleetpkg "forstok-accurate-sync/fleet"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/internal/syncbuf"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/internal/wait"
	"forstok-accurate-sync/queue"
)

// A second webhook secret, for the second seller.
const otherWebhookSecret = "whsec_dG9rby1iLXdlYmhvb2stc2VjcmV0LTEyMzQ1Ng=="

// fleetWorld is the service with SELLERS_DIR: a real Redis, a sandbox with
// one Accurate database per seller over real HTTP, and the service on a
// real listener, its seller files in a folder the test changes.
type fleetWorld struct {
	t      *testing.T
	redis  testredis.Redis
	dbs    *sandbox.Multi
	acc    string
	dir    string
	env    map[string]string
	app    *app
	url    string
	logs   *syncbuf.Buffer
	events *events.Namespace
	hup    chan os.Signal

	envMu sync.Mutex // the service reads env while a test may change it
}

func (w *fleetWorld) getenv(k string) string {
	w.envMu.Lock()
	defer w.envMu.Unlock()
	return w.env[k]
}

func (w *fleetWorld) setenv(k, v string) {
	w.envMu.Lock()
	defer w.envMu.Unlock()
	w.env[k] = v
}

func newFleetWorld(t *testing.T) *fleetWorld {
	t.Helper()
	w := &fleetWorld{t: t, redis: testredis.New(t), dir: t.TempDir(), logs: &syncbuf.Buffer{}, hup: make(chan os.Signal, 1)}
	w.serveSandbox(sandbox.DefaultSeed())
	w.writeExampleMapping("shared.mapping.yaml")
	w.env = map[string]string{
		"REDIS_URL":                 w.redis.URL,
		"REDIS_NAMESPACE":           w.redis.Namespace,
		"SELLERS_DIR":               w.dir,
		"ACCURATE_SIGNATURE_SECRET": testSigSecret,
		"ADMIN_TOKEN":               testAdmin,
		"MAX_ATTEMPTS":              "1000",
		"SHUTDOWN_TIMEOUT":          "5s",
		"RECONCILE_AT":              "off", // its reads would count in the tests of each seller's Accurate calls
		"TOKO_A_WEBHOOK":            testWebhookSecret,
		"TOKO_A_TOKEN":              "token-a",
		"TOKO_A_ADMIN":              "admin-of-toko-a-3f9c1e7a52b84d06a1c9",
		"TOKO_B_WEBHOOK":            otherWebhookSecret,
		"TOKO_B_TOKEN":              "token-b",
		"TOKO_B_ADMIN":              "admin-of-toko-b-3f9c1e7a52b84d06a1c9",
		"TOKO_C_WEBHOOK":            otherWebhookSecret,
		"TOKO_C_TOKEN":              "token-c",
		"TOKO_C_ADMIN":              "admin-of-toko-c-3f9c1e7a52b84d06a1c9",
		"TOKO_D_WEBHOOK":            otherWebhookSecret,
		"TOKO_D_TOKEN":              "token-of-no-database",
		"TOKO_D_ADMIN":              "admin-of-toko-d-3f9c1e7a52b84d06a1c9",
	}
	w.events = events.New(w.redis.Client(t), events.Config{Namespace: w.redis.Namespace})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log (tail):\n%s", w.logs.Tail(8000))
		}
	})
	return w
}

// serveSandbox serves the databases a, b and c of tokens token-a, -b and
// -c, each seeded with seed, at w.acc (call it before writing the seller
// files, which name w.acc).
func (w *fleetWorld) serveSandbox(seed sandbox.Seed) {
	db := func(token string) sandbox.Config {
		return sandbox.Config{APIToken: token, SignatureSecret: testSigSecret, Seed: seed, RateLimit: 8, MaxConcurrency: 8}
	}
	w.dbs = sandbox.NewMulti(map[string]sandbox.Config{"a": db("token-a"), "b": db("token-b"), "c": db("token-c")})
	srv := httptest.NewServer(w.dbs)
	w.t.Cleanup(srv.Close)
	w.acc = srv.URL
}

// onCluster moves the fleet to the Redis Cluster of three masters this
// test binary shares, under a namespace of its own.
func (w *fleetWorld) onCluster() *fleetWorld {
	c := testredis.NewCluster(w.t)
	w.redis.Namespace = c.Namespace
	w.env["REDIS_URL"], w.env["REDIS_CLUSTER_ADDRS"], w.env["REDIS_NAMESPACE"] = "", strings.Join(c.Addrs, ","), c.Namespace
	w.events = events.New(c.Client(w.t), events.Config{Namespace: c.Namespace, Shards: queue.DefaultShards})
	return w
}

// sellerFile is a valid seller file for the seller whose variables are
// TOKO_<X>_...
func (w *fleetWorld) sellerFile(x string) string {
	return fmt.Sprintf(`name: Toko %[1]s
forstok:
  webhook_secrets_env: TOKO_%[1]s_WEBHOOK
accurate:
  api_token_env: TOKO_%[1]s_TOKEN
  host: %[2]s
admin_token_env: TOKO_%[1]s_ADMIN
mapping_file: shared.mapping.yaml
`, x, w.acc)
}

// write puts a seller file in place in one step (a rename), as a deployment
// tool or a Kubernetes volume does.
func (w *fleetWorld) write(id, content string) {
	w.t.Helper()
	tmp := filepath.Join(w.dir, "."+id+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, id+".yaml")); err != nil {
		w.t.Fatal(err)
	}
}

func (w *fleetWorld) start() {
	w.t.Helper()
	getenv := w.getenv
	cfg, err := loadConfig(getenv, needServe)
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := newApp(cfg, options{logger: newLogger(zapcore.InfoLevel, w.logs), getenv: getenv,
		retryMin: 20 * time.Millisecond, retryCap: 500 * time.Millisecond, poll: 100 * time.Millisecond,
		sellersDebounce: 50 * time.Millisecond, hup: w.hup})
	if err != nil {
		w.t.Fatal(err)
	}
	w.app = a
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	w.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("service stopped with %v", err)
		}
		_ = a.rdb.Close()
	})
}

// send delivers a webhook signed with secret to a seller's URL.
func (w *fleetWorld) send(seller, secret string, body []byte) int {
	w.t.Helper()
	url := w.url + "/webhooks/forstok"
	if seller != "" {
		url += "/" + seller
	}
	status, _, err := postWebhook(context.Background(), http.DefaultClient, url, secret, newMessageID("test"), body)
	if err != nil {
		w.t.Fatal(err)
	}
	return status
}

// state is an event's state in the seller's part of the store ("" when
// there is none).
func (w *fleetWorld) state(seller, key string) string {
	ev, err := w.events.Seller(seller).Get(context.Background(), key)
	if err != nil {
		return ""
	}
	return ev.State
}

func (w *fleetWorld) waitState(seller, key string, want ...string) {
	w.t.Helper()
	if !wait.Until(20*time.Second, 50*time.Millisecond, func() bool { return isOneOf(w.state(seller, key), want) }) {
		w.t.Fatalf("seller %s's %s is %q; want %v", seller, key, w.state(seller, key), want)
	}
}

// writeExampleMapping writes the example mapping into the sellers' folder
// as name, each pair of oldnew (old, new, ...) replaced once.
func (w *fleetWorld) writeExampleMapping(name string, oldnew ...string) {
	w.t.Helper()
	data := fixtures.MappingYAML(w.t)
	for i := 0; i+1 < len(oldnew); i += 2 {
		data = bytes.Replace(data, []byte(oldnew[i]), []byte(oldnew[i+1]), 1)
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// sellerSecret is a seller and the secret its webhooks are signed with.
type sellerSecret struct{ seller, secret string }

// startTwo starts the service with sellers toko-a and toko-b, each on its
// own Accurate token and webhook secret, and returns them.
func (w *fleetWorld) startTwo() []sellerSecret {
	w.t.Helper()
	w.write("toko-a", w.sellerFile("A"))
	w.write("toko-b", w.sellerFile("B"))
	w.start()
	return []sellerSecret{{"toko-a", testWebhookSecret}, {"toko-b", otherWebhookSecret}}
}

// firstOfTwoSellers is toko-a's entry in GET /admin/sellers, which must
// list two sellers.
func (w *fleetWorld) firstOfTwoSellers(t testing.TB) map[string]any {
	t.Helper()
	_, all := w.get("/admin/sellers", testAdmin)
	list, _ := all["sellers"].([]any)
	if len(list) != 2 {
		t.Fatalf("GET /admin/sellers = %v; want two sellers", all)
	}
	first, _ := list[0].(map[string]any)
	return first
}

func (w *fleetWorld) get(path, token string) (int, map[string]any) {
	w.t.Helper()
	return w.call(http.MethodGet, path, token)
}

func (w *fleetWorld) post(path, token string) (int, map[string]any) {
	w.t.Helper()
	return w.call(http.MethodPost, path, token)
}

func (w *fleetWorld) call(method, path, token string) (int, map[string]any) {
	w.t.Helper()
	return callJSON(w.t, method, w.url+path, token, nil)
}

func TestSellersSideBySide(t *testing.T) {
	w := newFleetWorld(t)
	w.write("toko-a", w.sellerFile("A"))
	w.write("toko-b", w.sellerFile("B"))
	w.write("toko-d", w.sellerFile("D")) // a token Accurate refuses
	w.start()

	t.Run("two sellers receiving the same Forstok ids get separate documents in separate databases", func(t *testing.T) {
		if got := w.send("toko-a", testWebhookSecret, generatedInvoice(1)); got != http.StatusAccepted {
			t.Fatalf("toko-a's webhook = %d; want 202", got)
		}
		if got := w.send("toko-b", otherWebhookSecret, generatedInvoice(1)); got != http.StatusAccepted {
			t.Fatalf("toko-b's webhook of the same invoice = %d; want 202 (its own event)", got)
		}
		w.waitState("toko-a", invoiceKey(1), events.StateSynced)
		w.waitState("toko-b", invoiceKey(1), events.StateSynced)
		for _, db := range []string{"a", "b"} {
			if got := w.dbs.Database(db).Invoices(); len(got) != 1 || got[0].Number != "GEN-000001" {
				t.Errorf("database %s holds %+v; want the one faktur GEN-000001", db, got)
			}
		}
		if n := len(w.dbs.Database("c").Invoices()); n != 0 {
			t.Errorf("database c holds %d fakturs; want none", n)
		}
	})

	t.Run("a webhook is verified with its own seller's secrets", func(t *testing.T) {
		if got := w.send("toko-b", testWebhookSecret, generatedInvoice(2)); got != http.StatusUnauthorized {
			t.Errorf("toko-b's URL with toko-a's secret = %d; want 401", got)
		}
	})

	t.Run("an unknown seller and the default URL without a default seller are 404", func(t *testing.T) {
		for _, seller := range []string{"toko-z", ""} {
			if got := w.send(seller, testWebhookSecret, generatedInvoice(3)); got != http.StatusNotFound {
				t.Errorf("webhook to seller %q = %d; want 404", seller, got)
			}
		}
	})

	t.Run("a seller whose credentials Accurate refuses is reported by /readyz and stops no one", func(t *testing.T) {
		var body map[string]any
		ok := wait.Until(10*time.Second, 50*time.Millisecond, func() bool {
			var status int
			status, body = w.get("/readyz", "")
			return status == http.StatusOK && strings.Contains(fmt.Sprint(body["warnings"]), "of 1 seller")
		})
		if !ok {
			t.Fatalf("/readyz = %v; want ready with a warning counting one seller", body)
		}
		if got := fmt.Sprint(body); strings.Contains(got, "toko-") || strings.Contains(got, ".yaml") || strings.Contains(got, "/") && !strings.Contains(got, "/admin/sellers") {
			t.Errorf("/readyz = %v; want no seller, file name or path in it (the public may read it)", body)
		}
		if got := w.send("toko-a", testWebhookSecret, generatedInvoice(4)); got != http.StatusAccepted {
			t.Fatalf("toko-a's webhook = %d", got)
		}
		w.waitState("toko-a", invoiceKey(4), events.StateSynced)
	})
	t.Run("GET /admin/sellers shows toko-d's refused credentials as its problem, naming its own variable and file", func(t *testing.T) {
		status, body := w.get("/admin/sellers", testAdmin)
		if status != http.StatusOK {
			t.Fatalf("GET /admin/sellers = %d %v", status, body)
		}
		problems := map[string][]any{}
		for _, sl := range body["sellers"].([]any) {
			m := sl.(map[string]any)
			ps, _ := m["problems"].([]any)
			problems[fmt.Sprint(m["id"])] = ps
		}
		var found bool
		for _, p := range problems["toko-d"] {
			pm := p.(map[string]any)
			if pm["code"] == "credentials" {
				found = true
				if key := fmt.Sprint(pm["key"]); !strings.Contains(key, "TOKO_D_TOKEN") || !strings.Contains(key, "toko-d.yaml") {
					t.Errorf("credentials problem key %q; want toko-d's own variable and file", key)
				}
				if msg := fmt.Sprint(pm["message"]); !strings.Contains(msg, "TOKO_D_TOKEN") || strings.Contains(msg, "ACCURATE_API_TOKEN") {
					t.Errorf("credentials problem %q; want toko-d's variable, not ACCURATE_API_TOKEN", msg)
				}
			}
		}
		if !found {
			t.Errorf("toko-d's problems %v; want one of code credentials", problems["toko-d"])
		}
		for _, p := range problems["toko-a"] {
			if p.(map[string]any)["code"] == "credentials" {
				t.Errorf("toko-a shows a credentials problem: %v", p)
			}
		}
	})
}

func TestSellerFilesChangeWhileTheServiceRuns(t *testing.T) {
	w := newFleetWorld(t)
	w.write("toko-a", w.sellerFile("A"))
	w.start()
	accepts := func(seller, secret string, n int) func() bool {
		return func() bool { return w.send(seller, secret, generatedInvoice(n)) == http.StatusAccepted }
	}

	t.Run("a seller file added is a seller taking webhooks", func(t *testing.T) {
		w.write("toko-c", w.sellerFile("C"))
		if !wait.Until(15*time.Second, 50*time.Millisecond, accepts("toko-c", otherWebhookSecret, 10)) {
			t.Fatal("toko-c never took a webhook")
		}
		w.waitState("toko-c", invoiceKey(10), events.StateSynced)
		if n := len(w.dbs.Database("c").Invoices()); n != 1 {
			t.Errorf("database c holds %d fakturs; want 1", n)
		}
	})

	t.Run("a broken seller file keeps the seller on its last valid version and lists its problems", func(t *testing.T) {
		w.write("toko-c", "name: Toko C\nforstok: [not, a, map]\n")
		if !wait.Until(15*time.Second, 50*time.Millisecond, func() bool {
			for _, st := range w.app.sellers.Status() {
				if st.ID == "toko-c" && len(st.Problems) > 0 && st.Active {
					return true
				}
			}
			return false
		}) {
			t.Fatalf("toko-c's problems never showed: %+v", w.app.sellers.Status())
		}
		if got := w.send("toko-c", otherWebhookSecret, generatedInvoice(11)); got != http.StatusAccepted {
			t.Errorf("toko-c's webhook with its file broken = %d; want 202 (its last valid version)", got)
		}
		w.waitState("toko-c", invoiceKey(11), events.StateSynced)
	})

	t.Run("a removed seller answers 404, keeps its queued events and goes on when it comes back", func(t *testing.T) {
		w.write("toko-c", w.sellerFile("C"))
		w.dbs.Database("c").SetFaults(sandbox.Faults{ErrorRate: 1})
		if got := w.send("toko-c", otherWebhookSecret, generatedInvoice(12)); got != http.StatusAccepted {
			t.Fatalf("toko-c's webhook = %d", got)
		}
		w.waitState("toko-c", invoiceKey(12), events.StateRetrying)
		if err := os.Remove(filepath.Join(w.dir, "toko-c.yaml")); err != nil {
			t.Fatal(err)
		}
		if !wait.Until(15*time.Second, 50*time.Millisecond, func() bool {
			return w.send("toko-c", otherWebhookSecret, generatedInvoice(13)) == http.StatusNotFound
		}) {
			t.Fatal("toko-c's webhooks never answered 404 after its file was removed")
		}
		inspector := asynq.NewInspectorFromRedisClient(w.redis.Client(t))
		task := func() *asynq.TaskInfo {
			info, err := inspector.GetTaskInfo(w.events.Seller("toko-c").Scope().Queue(), queue.TaskID("toko-c", invoiceKey(12)))
			if err != nil {
				t.Fatalf("toko-c's task: %v", err)
			}
			return info
		}
		// An attempt that began before the removal ends with the version it
		// began with; wait for it, then heal the database.
		if !wait.Until(15*time.Second, 20*time.Millisecond, func() bool {
			return task().State != asynq.TaskStateActive && w.state("toko-c", invoiceKey(12)) == events.StateRetrying
		}) {
			t.Fatalf("toko-c's event never settled to wait: %q", w.state("toko-c", invoiceKey(12)))
		}
		before := task().Retried
		w.dbs.Database("c").SetFaults(sandbox.Faults{})
		// While the seller is gone its event waits: it neither fails nor posts.
		waited := wait.Until(2*time.Second, 50*time.Millisecond, func() bool {
			st := w.state("toko-c", invoiceKey(12))
			return st == events.StateSynced || st == events.StateFailed
		})
		if waited {
			t.Fatalf("toko-c's event went on to %q while the seller was removed", w.state("toko-c", invoiceKey(12)))
		}
		if after := task().Retried; after != before {
			t.Errorf("toko-c's event used %d attempts while its seller was away; want none", after-before)
		}
		w.write("toko-c", w.sellerFile("C"))
		w.waitState("toko-c", invoiceKey(12), events.StateSynced)
		if got := w.send("toko-a", testWebhookSecret, generatedInvoice(14)); got != http.StatusAccepted {
			t.Errorf("toko-a's webhook = %d; the other seller must be untouched", got)
		}
	})
}

// TestSIGHUPReloadsWhatTheFolderCannotShow: a seller whose secret is not
// in the environment yet is listed with its problem; once the secret is
// there, SIGHUP (and nothing else, since no file changed) starts it.
func TestSIGHUPReloadsWhatTheFolderCannotShow(t *testing.T) {
	w := newFleetWorld(t)
	w.write("toko-a", w.sellerFile("A"))
	w.write("toko-e", strings.ReplaceAll(w.sellerFile("C"), "TOKO_C_TOKEN", "TOKO_E_TOKEN"))
	w.start()
	problem := func() bool {
		for _, st := range w.app.sellers.Status() {
			if st.ID == "toko-e" && !st.Active && len(st.Problems) > 0 {
				return true
			}
		}
		return false
	}
	if !problem() {
		t.Fatalf("toko-e without its token = %+v; want listed, not started, with its problem", w.app.sellers.Status())
	}
	if got := w.send("toko-e", otherWebhookSecret, generatedInvoice(40)); got != http.StatusNotFound {
		t.Fatalf("toko-e's webhook before its token = %d; want 404", got)
	}
	w.setenv("TOKO_E_TOKEN", "token-c")
	w.hup <- syscall.SIGHUP
	if !wait.Until(15*time.Second, 50*time.Millisecond, func() bool {
		return w.send("toko-e", otherWebhookSecret, generatedInvoice(41)) == http.StatusAccepted
	}) {
		t.Fatalf("toko-e never took a webhook after SIGHUP: %+v", w.app.sellers.Status())
	}
	w.waitState("toko-e", invoiceKey(41), events.StateSynced)
}

// unmappedInvoice is generatedInvoice(n) from a store the example mapping
// does not know: it fails until the mapping is fixed.
func unmappedInvoice(n int) []byte {
	return []byte(strings.ReplaceAll(string(generatedInvoice(n)), `"store_id":1009`, `"store_id":4242`))
}

func TestSellersAdminScopes(t *testing.T) {
	w := newFleetWorld(t)
	key := invoiceKey(20)
	for _, s := range w.startTwo() {
		if got := w.send(s.seller, s.secret, generatedInvoice(20)); got != http.StatusAccepted {
			t.Fatalf("%s's webhook = %d", s.seller, got)
		}
		if got := w.send(s.seller, s.secret, unmappedInvoice(21)); got != http.StatusAccepted {
			t.Fatalf("%s's webhook = %d", s.seller, got)
		}
		w.waitState(s.seller, key, events.StateSynced)
		w.waitState(s.seller, invoiceKey(21), events.StateFailed)
	}
	const tokenA, tokenB = "admin-of-toko-a-3f9c1e7a52b84d06a1c9", "admin-of-toko-b-3f9c1e7a52b84d06a1c9"

	t.Run("a seller's token reads its own event and not another seller's, which is 404", func(t *testing.T) {
		for _, tc := range []struct {
			path, token string
			want        int
		}{
			{"/admin/sellers/toko-a/events/" + key, tokenA, http.StatusOK},
			{"/admin/events/" + key, tokenA, http.StatusOK},
			{"/admin/sellers/toko-b/events/" + key, tokenA, http.StatusNotFound},
			{"/admin/events?seller=toko-b", tokenA, http.StatusNotFound},
			{"/admin/sellers/toko-b/events/" + key, testAdmin, http.StatusOK},
			{"/admin/sellers/toko-z/events/" + key, testAdmin, http.StatusNotFound},
			{"/admin/sellers/toko-a/events/" + key, "wrong", http.StatusUnauthorized},
		} {
			if got, body := w.get(tc.path, tc.token); got != tc.want {
				t.Errorf("GET %s with %s = %d %v; want %d", tc.path, tc.token, got, body, tc.want)
			}
		}
		_, ev := w.get("/admin/events/"+key, tokenB)
		if ev["seller"] != "toko-b" {
			t.Errorf("toko-b's token reads the event of seller %v; want its own", ev["seller"])
		}
	})

	t.Run("a seller's token replaying another seller's event or failures gets 404 and queues nothing", func(t *testing.T) {
		for _, path := range []string{"/admin/sellers/toko-b/events/" + invoiceKey(21) + "/replay", "/admin/sellers/toko-b/replay-failed"} {
			if got, body := w.post(path, tokenA); got != http.StatusNotFound {
				t.Errorf("POST %s with toko-a's token = %d %v; want 404", path, got, body)
			}
		}
		if st := w.state("toko-b", invoiceKey(21)); st != events.StateFailed {
			t.Errorf("toko-b's failed event is %q after the refused replays; want failed", st)
		}
	})

	t.Run("replay-failed of a seller answers how many it queued, of that seller only", func(t *testing.T) {
		got, body := w.post("/admin/sellers/toko-a/replay-failed", tokenA)
		if got != http.StatusAccepted || body["count"] != float64(1) {
			t.Fatalf("replay-failed = %d %v; want 202 with count 1", got, body)
		}
		if st := w.state("toko-b", invoiceKey(21)); st != events.StateFailed {
			t.Errorf("toko-b's failed event is %q; want failed, untouched", st)
		}
	})

	t.Run("the sellers' list shows each seller with its version, events and queue, to whom may see it", func(t *testing.T) {
		first := w.firstOfTwoSellers(t)
		events, _ := first["events"].(map[string]any)
		if first["id"] != "toko-a" || first["name"] != "Toko A" || first["config_version"] == "" || first["loaded_at"] == nil ||
			events["synced"] != float64(1) || first["queue_depth"] == nil {
			t.Errorf("toko-a = %v", first)
		}
		if n, _ := first["accurate_requests_last_minute"].(float64); n < 1 {
			t.Errorf("toko-a = %v", first)
		}
		_, mine := w.get("/admin/sellers", tokenB)
		if list, _ := mine["sellers"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != "toko-b" {
			t.Errorf("toko-b's token lists %v; want toko-b alone", mine)
		}
	})
}

// discoveringFile is sellerFile without a host: the seller's Accurate host
// and database come from discovery (ACCURATE_ACCOUNT_URL).
func (w *fleetWorld) discoveringFile(x string) string {
	return strings.Replace(w.sellerFile(x), "  host: "+w.acc+"\n", "", 1)
}

func TestSellersOnOneDatabaseShareItsLimit(t *testing.T) {
	w := newFleetWorld(t)
	// Tokens a and b open one database (7), c another (9).
	db := func(token string, id int64) sandbox.Config {
		return sandbox.Config{APIToken: token, SignatureSecret: testSigSecret, Seed: sandbox.DefaultSeed(), DatabaseID: id, RateLimit: 8, MaxConcurrency: 8}
	}
	w.dbs = sandbox.NewMulti(map[string]sandbox.Config{"a": db("token-a", 7), "b": db("token-b", 7), "c": db("token-c", 9)})
	srv := httptest.NewServer(w.dbs)
	t.Cleanup(srv.Close)
	w.acc = srv.URL
	w.env["ACCURATE_ACCOUNT_URL"] = srv.URL
	for _, x := range []string{"A", "B", "C"} {
		w.write("toko-"+strings.ToLower(x), w.discoveringFile(x))
	}
	w.start()
	for _, s := range []sellerSecret{{"toko-a", testWebhookSecret}, {"toko-b", otherWebhookSecret}, {"toko-c", otherWebhookSecret}} {
		if got := w.send(s.seller, s.secret, generatedInvoice(30)); got != http.StatusAccepted {
			t.Fatalf("%s's webhook = %d", s.seller, got)
		}
		w.waitState(s.seller, invoiceKey(30), events.StateSynced)
	}
	key := func(seller string) string {
		p, ok := w.app.fleet.Part(seller)
		if !ok {
			t.Fatalf("no part for %s", seller)
		}
		return p.Limiter.Key()
	}
	ns := w.redis.Namespace
	t.Run("two sellers whose tokens open one database share its limit, found by discovery", func(t *testing.T) {
		if a, b := key("toko-a"), key("toko-b"); a != b || a != fleetpkg.DatabaseLimiterKey(ns, "7") {
			t.Errorf("limits: toko-a %q, toko-b %q; want both %q", a, b, fleetpkg.DatabaseLimiterKey(ns, "7"))
		}
	})
	t.Run("a seller on another database has a limit of its own", func(t *testing.T) {
		if c := key("toko-c"); c != fleetpkg.DatabaseLimiterKey(ns, "9") {
			t.Errorf("toko-c's limit %q; want %q", c, fleetpkg.DatabaseLimiterKey(ns, "9"))
		}
	})
	t.Run("another replica discovers under the database's limit, not the seller's own", func(t *testing.T) {
		// A part built afresh, as on a second replica or after a restart:
		// its first request (host discovery) must already count against
		// database 7, which Accurate charges for it.
		s, ok := w.app.sellers.Get("toko-a")
		if !ok {
			t.Fatal("toko-a is not configured")
		}
		fresh, err := w.app.fleet.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := fresh.Limiter.Key(); got != fleetpkg.LimiterKey(ns, s) {
			t.Fatalf("a fresh part starts on %q; want the seller's own %q until it asks", got, fleetpkg.LimiterKey(ns, s))
		}
		release, err := fresh.Limiter.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		release()
		if got := fresh.Limiter.Key(); got != fleetpkg.DatabaseLimiterKey(ns, "7") {
			t.Errorf("its first request went under %q; want database 7's %q", got, fleetpkg.DatabaseLimiterKey(ns, "7"))
		}
	})
}
