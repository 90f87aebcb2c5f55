// Command edge serves the service's HTTP edge alone, as the binary builds it
// (handler.New over the real events.Store, verifier, decoder, metrics and a
// warn-level JSON logger) but with no workers, plus net/http/pprof under
// /debug/pprof/, so that a load run can take a CPU or allocation profile of
// intake by itself. The service binary exposes no pprof on purpose.
//
//	go run ./loadtest/edge -listen 127.0.0.1:8090 &
//	go run ./loadtest/intake -against http://127.0.0.1:8090 -secret "$SECRET" -pprof cpu.pprof
//
// The webhook secret comes from FORSTOK_WEBHOOK_SECRET. Keys go under a
// fresh namespace (printed), deleted when the command ends.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/handler"
	"forstok-accurate-sync/loadtest/internal/rig"
	"forstok-accurate-sync/metrics"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to serve on (127.0.0.1 only)")
	redisURL := flag.String("redis", rig.EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	flag.Parse()
	rig.Main("edge", func(ctx context.Context) error {
		return run(ctx, *listen, *redisURL, os.Getenv("FORSTOK_WEBHOOK_SECRET"))
	})
}

func run(ctx context.Context, listen, redisURL, secret string) error {
	if secret == "" {
		return errors.New("FORSTOK_WEBHOOK_SECRET is required")
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ns := rig.Namespace("edge")
	defer func() {
		if _, err := events.DropNamespace(context.WithoutCancel(ctx), rdb, ns); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	h, err := edge(rdb, ns, secret)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	fmt.Printf("edge on http://%s (pid %d), namespace %s; pprof at /debug/pprof/\n", listen, os.Getpid(), ns)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// edge builds the service's HTTP handler as cmd/forstok-accurate-sync does,
// without the workers.
func edge(rdb redis.UniversalClient, ns, secret string) (http.Handler, error) {
	verifier, err := forstok.NewVerifier(secret, forstok.DefaultTolerance)
	if err != nil {
		return nil, err
	}
	evs := events.New(rdb, events.Config{Namespace: ns})
	store := evs.Seller(events.DefaultSeller)
	meter := metrics.New(&metrics.Source{Events: store, Queue: evs.Queue()})
	enc := zap.NewProductionEncoderConfig()
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(io.Discard), zapcore.WarnLevel))
	return handler.New(handler.Config{
		Store: store, Queue: evs.Queue(), Verifier: verifier, Decoder: forstok.NewDecoder(), Logger: log.Named("http"),
		Metrics: meter, MetricsHandler: meter.Handler(),
	}), nil
}
