// Command forstok-accurate-sync keeps a seller's Accurate Online books in step
// with their Forstok marketplace sales: `serve` (the default) runs the
// webhook intake, the workers and the admin API; `check` validates the
// mapping file; `demo` runs the whole flow on one machine; `send` posts a
// signed test webhook to a running service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Set at build time (see the Makefile).
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "forstok-accurate-sync:", err)
		var ce *checkFailed
		if errors.As(err, &ce) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program, testable: it returns when ctx ends (serve) or the
// command is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			return usageError("serve takes no arguments")
		}
		cfg, err := loadConfig(getenv, needServe)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, getenv, stdout)
	case "check":
		return check(ctx, rest, getenv, stdout)
	case "demo":
		return demo(ctx, rest, stdout)
	case "send":
		return send(ctx, rest, getenv, stdout)
	case "probe":
		return probe(ctx, rest, getenv, stdout)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout)
	case "version", "--version":
		fmt.Fprintf(stdout, "forstok-accurate-sync %s (%s)\n", version, commit)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, errUsage.Error())
		return nil
	}
	return usageError("unknown command %q", cmd)
}
