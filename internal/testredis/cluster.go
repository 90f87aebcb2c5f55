package testredis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
)

// A real Redis Cluster of three masters, for the tests that show the
// service spreading over a Cluster and surviving its faults. Its nodes are
// redis-server processes on spare ports below 55535 (a node's cluster bus
// listens on its port + 10000), joined by `redis-cli --cluster create`.

// Cluster is a Redis Cluster a test may use, under its own Namespace.
type Cluster struct {
	// Addrs are the masters' host:port, for REDIS_CLUSTER_ADDRS.
	Addrs     []string
	Namespace string
	nodes     *clusterNodes
}

// Client opens a Cluster client on c, closed when the test ends.
func (c Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// clusterNodes are the processes of one Cluster.
type clusterNodes struct {
	dir   string
	ports []int
	cmds  []*exec.Cmd
}

var (
	sharedOnce    sync.Once
	sharedCluster *clusterNodes
	sharedErr     error
)

// NewCluster gives the test the Cluster this test binary shares (started on
// first use, its nodes killed when the binary exits) and deletes the test's
// namespace from it when the test ends. Without redis-server and redis-cli
// the test is skipped, or fails under CI=true.
func NewCluster(t testing.TB) Cluster {
	t.Helper()
	needClusterTools(t)
	sharedOnce.Do(func() { sharedCluster, sharedErr = startNodes(3) })
	if sharedErr != nil {
		t.Fatalf("testredis: start a Redis Cluster: %v", sharedErr)
	}
	c := Cluster{Addrs: sharedCluster.addrs(), nodes: sharedCluster,
		Namespace: namespacePrefix + strconv.FormatInt(time.Now().Unix(), 10) + "-" + randomHex(4)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
		defer rdb.Close()
		if _, err := events.DropNamespace(ctx, rdb, c.Namespace); err != nil {
			t.Errorf("testredis: delete the test's keys from the Cluster: %v", err)
		}
	})
	return c
}

// StartCluster starts a Cluster of three masters owned by the test (which
// may stop and restart its nodes), torn down when the test ends.
func StartCluster(t testing.TB) *OwnCluster {
	t.Helper()
	needClusterTools(t)
	n, err := startNodes(3)
	if err != nil {
		t.Fatalf("testredis: start a Redis Cluster: %v", err)
	}
	t.Cleanup(n.stop)
	return &OwnCluster{Cluster: Cluster{Addrs: n.addrs(), nodes: n, Namespace: namespacePrefix + "own"}}
}

// OwnCluster is a Cluster one test owns.
type OwnCluster struct{ Cluster }

// StopNode kills master i (0, 1 or 2); RestartNode brings it back with the
// node's own cluster configuration, so it rejoins as the same master.
func (c *OwnCluster) StopNode(i int) { c.nodes.kill(i) }

// RestartNode starts master i again after StopNode and waits for the
// Cluster to be whole.
func (c *OwnCluster) RestartNode(t testing.TB, i int) {
	t.Helper()
	if err := c.nodes.startNode(i); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes.waitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func needClusterTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("testredis: CI=true needs %s installed for the Redis Cluster tests", tool)
			}
			t.Skipf("%s is not installed: no Redis Cluster", tool)
		}
	}
}

func (n *clusterNodes) addrs() []string {
	out := make([]string, len(n.ports))
	for i, p := range n.ports {
		out[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	return out
}

// startNodes starts count masters and joins them into one Cluster, which it
// waits for to answer everywhere.
func startNodes(count int) (*clusterNodes, error) {
	dir, err := os.MkdirTemp("", "testredis-cluster-")
	if err != nil {
		return nil, err
	}
	n := &clusterNodes{dir: dir, cmds: make([]*exec.Cmd, count)}
	for range count {
		p, err := clusterPort(n.ports)
		if err != nil {
			n.stop()
			return nil, err
		}
		n.ports = append(n.ports, p)
	}
	for i := range count {
		if err := n.startNode(i); err != nil {
			n.stop()
			return nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, n.addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		n.stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	if err := n.waitReady(30 * time.Second); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

func (n *clusterNodes) startNode(i int) error {
	port := strconv.Itoa(n.ports[i])
	nodeDir := filepath.Join(n.dir, port)
	if err := os.MkdirAll(nodeDir, 0o700); err != nil {
		return err
	}
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
		"--save", "", "--appendonly", "no", "--dir", nodeDir, "--logfile", filepath.Join(nodeDir, "redis.log"))
	// The nodes die with the test binary, whoever forgets to stop them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server on %s: %w", port, err)
	}
	n.cmds[i] = cmd
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ping("redis://127.0.0.1:"+port+"/0") == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer within 5s", port)
}

// waitReady waits until every node reports the Cluster ok with all its
// slots served, and a Cluster client can write.
func (n *clusterNodes) waitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var last string
	for time.Now().Before(deadline) {
		ok := true
		for _, a := range n.addrs() {
			c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			info, err := c.ClusterInfo(ctx).Result()
			_ = c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				ok, last = false, fmt.Sprintf("%s: %v %q", a, err, firstLine(info))
				break
			}
		}
		if ok {
			rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: n.addrs()})
			err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() })
			_ = rdb.Close()
			if err == nil {
				return nil
			}
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the Redis Cluster was not ready within %s: %s", within, last)
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func (n *clusterNodes) kill(i int) {
	if c := n.cmds[i]; c != nil && c.Process != nil {
		_ = c.Process.Kill()
		_ = c.Wait()
		n.cmds[i] = nil
	}
}

func (n *clusterNodes) stop() {
	for i := range n.cmds {
		n.kill(i)
	}
	_ = os.RemoveAll(n.dir)
}

// clusterPort finds a port below 55535 free for a node and for its cluster
// bus (port + 10000), other than those taken.
func clusterPort(taken []int) (int, error) {
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if p >= 55535 || p < 1024 || containsPort(taken, p) {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no port below 55535 free with its bus port + 10000")
}

func containsPort(ports []int, p int) bool {
	for _, q := range ports {
		if q == p || q+10000 == p || p+10000 == q {
			return true
		}
	}
	return false
}
