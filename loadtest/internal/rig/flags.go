package rig

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// Target is the Redis a run's service uses and the extra settings it gets:
// the flags -redis, -cluster and -env every run that starts the service
// takes.
type Target struct {
	RedisURL string
	Cluster  string // REDIS_CLUSTER_ADDRS: when set, the service uses the Cluster
	Env      string // KEY=VALUE,... (ParseEnv)
}

// Flags defines -redis, -cluster and -env on the command line.
func (t *Target) Flags() {
	flag.StringVar(&t.RedisURL, "redis", EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL of the started service")
	flag.StringVar(&t.Cluster, "cluster", os.Getenv("REDIS_CLUSTER_ADDRS"),
		"Redis Cluster node addresses, comma-separated: the started service uses the Cluster (its REDIS_CLUSTER_ADDRS, 16 shards) instead of -redis")
	flag.StringVar(&t.Env, "env", "", "extra settings of the started service, KEY=VALUE,... (e.g. GOGC=400)")
}

// Settings are -env's settings, parsed.
func (t Target) Settings() (map[string]string, error) {
	env, err := ParseEnv(t.Env)
	if err != nil {
		return nil, fmt.Errorf("-env: %w", err)
	}
	return env, nil
}

// Flags defines -rate, -in-flight and -latency on the command line: the
// sandbox's limits, of each of its databases (Accurate's by default), and
// the latency it adds to every call.
func (o *SandboxOptions) Flags() {
	flag.IntVar(&o.RateLimit, "rate", 8, "each sandbox database's requests per second (Accurate's limit)")
	flag.IntVar(&o.Concurrency, "in-flight", 8, "each sandbox database's requests in flight (Accurate's limit)")
	flag.DurationVar(&o.Latency, "latency", 100*time.Millisecond, "latency the sandbox adds to every call")
}
