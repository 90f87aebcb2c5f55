package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/examples"
	"forstok-accurate-sync/forstok"
)

// demo runs the whole flow in one process: an embedded Redis, the Accurate
// sandbox, the example mapping and the real HTTP server; it sends the
// example webhooks through HTTP, waits for the workers and prints what
// Accurate received.
func demo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	verbose := fs.Bool("v", false, "show the service's log")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the events to sync")
	if err := fs.Parse(args); err != nil {
		return usageError("demo [-v] [-timeout 1m]: %v", err)
	}

	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return fmt.Errorf("demo: start the embedded Redis: %w", err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()

	token, sigSecret, webhookSecret := randomSecret(), randomSecret(), "whsec_"+randomSecret()
	accurateSandbox := sandbox.New(sandbox.Config{
		APIToken: token, SignatureSecret: sigSecret, Seed: sandbox.DefaultSeed(), RateLimit: 8, MaxConcurrency: 8,
	})
	accURL, stopSandbox, err := listenAndServe(accurateSandbox)
	if err != nil {
		return fmt.Errorf("demo: start the Accurate sandbox: %w", err)
	}
	defer stopSandbox()

	dir, err := os.MkdirTemp("", "fas-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	mappingPath := filepath.Join(dir, "mapping.yaml")
	mappingYAML, _ := examples.Files.ReadFile("mapping.yaml")
	if err := os.WriteFile(mappingPath, mappingYAML, 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	env := map[string]string{
		"REDIS_URL": "redis://" + mr.Addr(), "FORSTOK_WEBHOOK_SECRET": webhookSecret,
		"ACCURATE_API_TOKEN": token, "ACCURATE_SIGNATURE_SECRET": sigSecret, "ACCURATE_HOST": accURL,
		"MAPPING_FILE": mappingPath, "SHUTDOWN_TIMEOUT": "5s",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, needServe)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	logOut := io.Discard
	if *verbose {
		logOut = os.Stderr
	}
	a, err := newApp(cfg, options{logger: newLogger(zapcore.InfoLevel, logOut), redis: rdb, retryMin: 100 * time.Millisecond, poll: 100 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	serviceURL := "http://" + ln.Addr().String()
	runCtx, stopService := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.run(runCtx, ln) }()
	defer func() {
		stopService()
		<-done
	}()

	fmt.Fprintf(stdout, "forstok-accurate-sync demo: service on %s, Accurate sandbox on %s, embedded Redis on %s\n\n", serviceURL, accURL, mr.Addr())
	// send posts one example webhook and returns its event's key.
	send := func(name string) (string, error) {
		body, _ := examples.Files.ReadFile(name)
		status, answer, err := postWebhook(ctx, http.DefaultClient, serviceURL+"/webhooks/forstok", webhookSecret, newMessageID("demo"), body)
		if err != nil {
			return "", fmt.Errorf("demo: send %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "POST /webhooks/forstok %-40s → %d %s\n", name, status, bytes.TrimSpace(answer))
		if status != http.StatusAccepted {
			return "", fmt.Errorf("demo: %s was answered %d, want 202", name, status)
		}
		ev, _ := forstok.NewDecoder().Decode(body)
		return ev.Key(), nil
	}
	var keys []string
	for _, name := range examples.Webhooks {
		key, err := send(name)
		if err != nil {
			return err
		}
		keys = append(keys, key)
	}

	final, err := waitForEvents(ctx, a.events.Seller(events.DefaultSeller), keys, *timeout)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The rest of an order's life, one event after the other: a cancelled
	// order's invoice is posted and then voided (its faktur deleted), and
	// the Tokopedia bundle comes back (a retur).
	for _, name := range examples.Lifecycle {
		key, err := send(name)
		if err != nil {
			return err
		}
		settled, err := waitForEvents(ctx, a.events.Seller(events.DefaultSeller), []string{key}, *timeout)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		final = append(final, settled...)
	}
	fmt.Fprintln(stdout)
	printEvents(stdout, final)
	printDocuments(stdout, accurateSandbox)
	var problems []string
	for _, ev := range final {
		if ev.State != events.StateSynced {
			problems = append(problems, fmt.Sprintf("%s ended %s: %s", ev.Key, ev.State, ev.LastError))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("demo: not every event synced:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Fprintln(stdout, "\nEvery event synced: every faktur left is paid, every penerimaan balances, the voided order's faktur is gone and the returned bundle is a retur.")
	return nil
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// listenAndServe serves h on a free loopback port.
func listenAndServe(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// waitForEvents polls the store until every event is synced or failed.
func waitForEvents(ctx context.Context, store *events.Store, keys []string, within time.Duration) ([]events.Event, error) {
	deadline := time.Now().Add(within)
	for {
		var out []events.Event
		settled := true
		for _, k := range keys {
			ev, err := store.Get(ctx, k)
			if err != nil && !errors.Is(err, events.ErrNotFound) {
				return nil, err
			}
			if ev.State != events.StateSynced && ev.State != events.StateFailed {
				settled = false
			}
			if ev.Key == "" {
				ev.Key = k
			}
			out = append(out, ev)
		}
		if settled {
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("events did not settle within %s: %s", within, describeStates(out))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func describeStates(evs []events.Event) string {
	var parts []string
	for _, ev := range evs {
		parts = append(parts, fmt.Sprintf("%s %s %s", ev.Key, ev.State, ev.LastError))
	}
	return strings.Join(parts, "; ")
}

func printEvents(w io.Writer, evs []events.Event) {
	fmt.Fprintf(w, "%-24s %-8s %-8s %s\n", "EVENT", "STATE", "ATTEMPTS", "ACCURATE NUMBER")
	for _, ev := range evs {
		fmt.Fprintf(w, "%-24s %-8s %-8d %s\n", ev.Key, ev.State, ev.Attempts, ev.AccurateNumber)
	}
}

// printDocuments shows what the sandbox Accurate holds, as a seller would
// read it in Accurate: amounts in rupiah, Indonesian style.
func printDocuments(w io.Writer, sb *sandbox.Server) {
	line := func(label, qty, price, disc, amount string) {
		fmt.Fprintf(w, "    %-34s %4s %12s %9s %12s\n", label, qty, price, disc, amount)
	}
	fmt.Fprintln(w, "\nFaktur penjualan in Accurate:")
	for _, inv := range sb.Invoices() {
		fmt.Fprintf(w, "\n  %s  %s  customer %s", inv.Number, inv.TransDate, inv.CustomerNo)
		if inv.BranchName != "" {
			fmt.Fprintf(w, "  branch %s", inv.BranchName)
		}
		fmt.Fprintf(w, "  status %s\n", inv.Status)
		line("item", "qty", "unit price", "discount", "amount")
		for _, l := range inv.DetailItem {
			line(l.ItemNo, strconv.FormatInt(l.Quantity, 10), l.UnitPrice.Format(), l.ItemCashDiscount.Format(), l.Amount().Format())
		}
		if inv.CashDiscount != 0 {
			line("cash discount", "", "", "", "-"+inv.CashDiscount.Format())
		}
		for _, e := range inv.DetailExpense {
			line(e.ExpenseName+" ("+e.AccountNo+")", "", "", "", e.ExpenseAmount.Format())
		}
		line("total", "", "", "", inv.TotalAmount.Format())
	}
	fmt.Fprintln(w, "\nPenerimaan penjualan in Accurate:")
	for _, r := range sb.Receipts() {
		fmt.Fprintf(w, "\n  %s  %s  customer %s  bank %s  cheque %s\n", r.Number, r.TransDate, r.CustomerNo, r.BankNo, r.ChequeAmount.Format())
		for _, inv := range r.DetailInvoice {
			fmt.Fprintf(w, "    faktur %-40s payment  %12s\n", inv.InvoiceNo, inv.PaymentAmount.Format())
			for _, d := range inv.DetailDiscount {
				fmt.Fprintf(w, "      discount to account %-33s  %12s\n", d.AccountNo, d.Amount.Format())
			}
		}
		fmt.Fprintf(w, "    %-55s  %12s\n", "balance (payments - discounts)", r.Balance().Format())
	}
	fmt.Fprintln(w, "\nRetur penjualan in Accurate:")
	for _, r := range sb.Returns() {
		fmt.Fprintf(w, "\n  %s  %s  customer %s  against faktur %s\n", r.Number, r.TransDate, r.CustomerNo, r.InvoiceNumber)
		line("item", "qty", "unit price", "discount", "amount")
		for _, l := range r.DetailItem {
			line(l.ItemNo+" → "+l.WarehouseName, strconv.FormatInt(l.Quantity, 10), l.UnitPrice.Format(), l.ItemCashDiscount.Format(), l.Amount().Format())
		}
		line("total", "", "", "", r.TotalAmount.Format())
	}
}
