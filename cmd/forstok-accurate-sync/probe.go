package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// probe asks the running service's /readyz (or another URL) and succeeds on
// 200. The image has no shell or curl, so compose's healthcheck runs the
// binary itself.
func probe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("probe", stdout, `usage: forstok-accurate-sync probe [--url URL]

Asks the running service whether it is ready (GET /readyz: Redis answers and
the mapping is loaded) and exits 0 when it answers 200, 1 otherwise: the
health check of deploy/compose.yaml.

`)
	url := fs.String("url", "", "what to ask (default: /readyz on the port of LISTEN_ADDR, on 127.0.0.1)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if helped, err := parseFlags(fs, args, "probe [--url URL]"); helped || err != nil {
		return err
	}
	if *url == "" {
		var err error
		if *url, err = readyURL(getenv("LISTEN_ADDR")); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", *url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", *url, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%d %s\n", resp.StatusCode, strings.TrimSpace(string(answer)))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: the service is not ready (%d)", *url, resp.StatusCode)
	}
	return nil
}

// readyURL is /readyz on the loopback address of listen (LISTEN_ADDR,
// default :8080).
func readyURL(listen string) (string, error) {
	if listen == "" {
		listen = ":8080"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("LISTEN_ADDR %q: %w", listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
