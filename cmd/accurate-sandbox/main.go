// Command accurate-sandbox serves a stand-in for Accurate Online's API (see
// package accurate/sandbox) for tests, demos, load tests and trying a
// mapping: point ACCURATE_ACCOUNT_URL or ACCURATE_HOST of the service at it.
//
//	accurate-sandbox -listen 127.0.0.1:8081 -latency 50ms -error-rate 0.1
//
// The token and signature secret come from ACCURATE_API_TOKEN and
// ACCURATE_SIGNATURE_SECRET, or -token and -secret, which win; with neither,
// demo values are used and printed. GET /sandbox/state shows what was saved.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
)

// Set at build time (see the Makefile).
var (
	version = "dev"
	commit  = "unknown"
)

// Demo credentials, used only when none are given: they are not secrets.
const (
	demoToken  = "sandbox-api-token"
	demoSecret = "sandbox-signature-secret"
)

const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "accurate-sandbox:", err)
		os.Exit(2)
	}
}

// usageText is what -h prints before the flags; docs/sandbox.md says the
// same at more length.
const usageText = `usage: accurate-sandbox [flags]

A stand-in for Accurate Online's API (host discovery, faktur penjualan and
penerimaan penjualan save, list and detail, master-data lists), with
Accurate's API-token signature check, its {"s":false} errors and words, its
limits (HTTP 429) and injectable faults. Point the service at it with
ACCURATE_HOST=http://127.0.0.1:8081 (or ACCURATE_ACCOUNT_URL, to go through
host discovery) and the same token and secret.

Token and secret: -token and -secret, else ACCURATE_API_TOKEN and
ACCURATE_SIGNATURE_SECRET; with neither, the demo token "` + demoToken + `" and
secret "` + demoSecret + `" are used and printed.

Master data: by default what examples/mapping.yaml and the example webhooks
need (customers C-SHOPEE, C-TOKOPEDIA; items KAOS-HTM-L, BRG-TOPI-01,
KAOS-PTH-M; warehouse Utama; accounts 410201 410202 610201 610202 610203
610204 610299; banks 110201 110202; branch Jakarta). -seed FILE replaces it
whole with a JSON file:
  {"customers":["C-1"],"items":["SKU-1"],"warehouses":["Utama"],
   "accounts":["610202"],"banks":["110201"],"branches":["Jakarta"]}

Its own routes, without a signature:
  GET  /sandbox/state   every faktur and penerimaan saved, call counts, faults
  GET  /sandbox/faults  the faults in force
  POST /sandbox/faults  replace them: {"latency":"150ms","error_rate":0.1,
                        "lose_rate":0.05,"move_host_to":""}
  POST /sandbox/reset   forget every document and call; faults back to the flags'

Several databases: -databases a=TOKEN-A,b=TOKEN-B serves one database per API
token (the secret is -secret's), each with its own documents, limits and
faults; a request goes to the database of its token. Their routes are then
under /sandbox/db/<name>/ (state, faults, reset); GET /sandbox/databases
lists them.

It keeps everything in memory: a restart forgets every document.

Flags:
`

// options are the command line, after the environment's defaults.
type options struct {
	listen         string
	token, secret  string
	rateLimit      int
	maxConcurrency int
	faults         sandbox.Faults
	seedFile       string
	randSeed       uint64
	// databases, when given, are several databases by name, each with its
	// own API token (and documents and limits).
	databases map[string]string
}

func parse(args []string, getenv func(string) string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("accurate-sandbox", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8081", "address to listen on")
	// The environment is read after parsing, so that -h never prints a secret
	// as a default.
	fs.StringVar(&o.token, "token", "", "API token callers must present (default $ACCURATE_API_TOKEN)")
	fs.StringVar(&o.secret, "secret", "", "signature secret (default $ACCURATE_SIGNATURE_SECRET)")
	fs.IntVar(&o.rateLimit, "rate-limit", 8, "requests admitted per second, 0 for unlimited")
	fs.IntVar(&o.maxConcurrency, "concurrency", 8, "requests in flight, 0 for unlimited")
	fs.DurationVar(&o.faults.Latency, "latency", 0, "latency added to every data call")
	fs.Float64Var(&o.faults.ErrorRate, "error-rate", 0, "share of data calls answered 500/502/503")
	fs.Float64Var(&o.faults.LoseRate, "lose-rate", 0, "share of saves stored whose answer is dropped")
	fs.StringVar(&o.faults.MoveHostTo, "move-host-to", "", "answer every data call 308 to this base URL")
	fs.StringVar(&o.seedFile, "seed", "", "JSON file of master data (customers, items, warehouses, accounts, banks, branches); default: what the webhooks in examples/ need")
	fs.Uint64Var(&o.randSeed, "rand-seed", 0, "seed for fault injection, 0 for random")
	dbs := fs.String("databases", "", "several databases at once, one per API token: name=TOKEN,name=TOKEN (each with its own documents, limits and faults; the secret is -secret's)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	if err != nil {
		return o, err
	}
	tokenFlag := o.token != ""
	if o.token == "" {
		o.token = getenv("ACCURATE_API_TOKEN")
	}
	if o.secret == "" {
		o.secret = getenv("ACCURATE_SIGNATURE_SECRET")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *dbs != "" {
		if o.databases, err = parseDatabases(*dbs); err != nil {
			return o, err
		}
		// ACCURATE_API_TOKEN may be set for other programs: only -token
		// itself contradicts -databases.
		if tokenFlag {
			return o, errors.New("-token and -databases do not go together: -databases gives each database its token")
		}
		o.token = ""
	}
	if o.rateLimit < 0 || o.maxConcurrency < 0 {
		return o, errors.New("-rate-limit and -concurrency must not be negative")
	}
	if err := o.faults.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// run serves until ctx ends, then shuts down gracefully. args exclude the
// program name.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parse(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	seed := sandbox.DefaultSeed()
	if o.seedFile != "" {
		if seed, err = readSeed(o.seedFile); err != nil {
			return err
		}
	}
	if o.databases != nil && o.secret == "" {
		o.secret = demoSecret
		fmt.Fprintf(stdout, "no signature secret given: using the demo secret %q\n", o.secret)
	}
	if o.databases == nil && o.token == "" && o.secret == "" {
		o.token, o.secret = demoToken, demoSecret
		fmt.Fprintf(stdout, "no token or secret given: using the demo token %q and signature secret %q\n", o.token, o.secret)
	}
	if o.databases == nil && (o.token == "" || o.secret == "") {
		return errors.New("give both the API token and the signature secret, or neither")
	}
	config := func(token string, i uint64) sandbox.Config {
		// Each database draws its faults from its own source.
		rnd := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		if o.randSeed != 0 {
			rnd = rand.New(rand.NewPCG(o.randSeed+i, o.randSeed))
		}
		return sandbox.Config{
			APIToken: token, SignatureSecret: o.secret, Seed: seed,
			RateLimit: o.rateLimit, MaxConcurrency: o.maxConcurrency,
			Faults: o.faults, Rand: rnd,
		}
	}
	var sb http.Handler
	if o.databases != nil {
		cfgs := map[string]sandbox.Config{}
		i := uint64(0)
		for name, token := range o.databases {
			cfgs[name] = config(token, i)
			i++
		}
		multi := sandbox.NewMulti(cfgs)
		fmt.Fprintf(stdout, "databases: %s (each its own documents and limits; state under /sandbox/db/<name>/state)\n", strings.Join(multi.Names(), ", "))
		sb = multi
	} else {
		sb = sandbox.New(config(o.token, 0))
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "accurate-sandbox %s (%s) listening on http://%s (%d req/s, %d in flight)\n",
		version, commit, ln.Addr(), o.rateLimit, o.maxConcurrency)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "accurate-sandbox stopped")
	return nil
}

// parseDatabases reads -databases: name=TOKEN pairs, comma-separated, with
// distinct names and tokens.
func parseDatabases(v string) (map[string]string, error) {
	out := map[string]string{}
	tokens := map[string]bool{}
	for _, pair := range strings.Split(v, ",") {
		name, token, ok := strings.Cut(strings.TrimSpace(pair), "=")
		name, token = strings.TrimSpace(name), strings.TrimSpace(token)
		switch {
		case !ok || name == "" || token == "":
			return nil, fmt.Errorf("-databases: %q is not name=TOKEN", pair)
		case strings.ContainsAny(name, "/ "):
			return nil, fmt.Errorf("-databases: the name %q may not hold / or a space", name)
		case out[name] != "":
			return nil, fmt.Errorf("-databases: the name %q is given twice", name)
		case tokens[token]:
			return nil, fmt.Errorf("-databases: database %q has the token of another: each needs its own", name)
		}
		out[name], tokens[token] = token, true
	}
	return out, nil
}

// readSeed reads a JSON sandbox.Seed; it replaces the default seed whole.
func readSeed(path string) (sandbox.Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sandbox.Seed{}, fmt.Errorf("seed: %w", err)
	}
	var seed sandbox.Seed
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return sandbox.Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	return seed, nil
}
