// Package rediscluster is what the tests (internal/testredis) and the
// reliability runs (loadtest/reliability) both do with a Redis Cluster of
// their own: find ports for its nodes, join them into one Cluster, and wait
// until it serves every slot.
package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/wait"
)

// NodePort finds a port below 55535 that is free now and whose cluster bus
// port (port + 10000) is free too, other than the ports in taken and their
// bus ports.
func NodePort(taken []int) (int, error) {
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if p >= 55535 || p < 1024 || clashes(taken, p) {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return p, nil
	}
	return 0, errors.New("no port below 55535 free with its bus port + 10000")
}

// clashes says whether p or its bus port is one of taken or their bus ports.
func clashes(taken []int, p int) bool {
	return slices.ContainsFunc(taken, func(q int) bool { return q == p || q+10000 == p || p+10000 == q })
}

// Create joins the masters at addrs into one Cluster, without replicas,
// with `redis-cli --cluster create`.
func Create(ctx context.Context, addrs []string) error {
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	return nil
}

// WaitReady waits until every node at addrs reports the Cluster ok with all
// its slots served and a Cluster client reaches every master; it gives up
// when within has passed or ctx ends.
func WaitReady(ctx context.Context, addrs []string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last string
	for {
		err := ready(ctx, addrs)
		if err == nil {
			return nil
		}
		last = err.Error()
		if wait.Sleep(ctx, 100*time.Millisecond) != nil {
			return fmt.Errorf("the Redis Cluster was not ready within %s: %s", within, last)
		}
	}
}

// ready is one look at every node and one ping of every master.
func ready(ctx context.Context, addrs []string) error {
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
		info, err := c.ClusterInfo(ctx).Result()
		_ = c.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
			first, _, _ := strings.Cut(info, "\n")
			return fmt.Errorf("%s: %q", a, first)
		}
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	return rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() })
}
