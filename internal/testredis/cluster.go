package testredis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/rediscluster"
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
	if err := rediscluster.WaitReady(context.Background(), c.Addrs, 30*time.Second); err != nil {
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
		p, err := rediscluster.NodePort(n.ports)
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
	if err := rediscluster.Create(context.Background(), n.addrs()); err != nil {
		n.stop()
		return nil, err
	}
	if err := rediscluster.WaitReady(context.Background(), n.addrs(), 30*time.Second); err != nil {
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
