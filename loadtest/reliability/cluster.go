package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/rediscluster"
	"forstok-accurate-sync/internal/wait"
)

// redisCluster is a private Redis Cluster of three masters, each a
// redisServer with append-only persistence (fsync every second): without
// a replica, a master that restarts has only its append-only file to bring
// back what it acknowledged.
type redisCluster struct{ nodes []*redisServer }

func (l *lab) startCluster(ctx context.Context, name string) (*redisCluster, error) {
	c := &redisCluster{}
	for i := range 3 {
		rs, err := l.newRedisServer(name + "-node" + strconv.Itoa(i))
		if err != nil {
			c.close()
			return nil, err
		}
		rs.cluster = true
		c.nodes = append(c.nodes, rs)
		if err := rs.start(ctx); err != nil {
			c.close()
			return nil, err
		}
	}
	if err := rediscluster.Create(ctx, c.addrs()); err != nil {
		c.close()
		return nil, err
	}
	if err := rediscluster.WaitReady(ctx, c.addrs(), 30*time.Second); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *redisCluster) addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = "127.0.0.1:" + strconv.Itoa(n.port)
	}
	return out
}

func (c *redisCluster) close() {
	for _, n := range c.nodes {
		n.close()
	}
}

// nodeID is master i's Cluster node ID, which reshard names.
func (c *redisCluster) nodeID(ctx context.Context, i int) (string, error) {
	rdb := redis.NewClient(&redis.Options{Addr: c.addrs()[i]})
	defer rdb.Close()
	id, err := rdb.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		return "", fmt.Errorf("CLUSTER MYID of %s: %w", c.addrs()[i], err)
	}
	return id, nil
}

// reshard moves every slot master from holds to master to, with
// `redis-cli --cluster reshard`, while the service runs.
func (c *redisCluster) reshard(ctx context.Context, from, to int) (string, error) {
	slots, err := c.slotCount(ctx, from)
	if err != nil {
		return "", err
	}
	fromID, err := c.nodeID(ctx, from)
	if err != nil {
		return "", err
	}
	toID, err := c.nodeID(ctx, to)
	if err != nil {
		return "", err
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, "redis-cli", "--cluster", "reshard", c.addrs()[to],
		"--cluster-from", fromID, "--cluster-to", toID, "--cluster-slots", strconv.Itoa(slots),
		"--cluster-yes", "--cluster-pipeline", "100").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("redis-cli --cluster reshard: %w: %s", err, lastLines(string(out), 5))
	}
	return fmt.Sprintf("%d slots from master %d to master %d in %s", slots, from, to, time.Since(start).Round(100*time.Millisecond)), nil
}

// slotCount is how many slots master i serves.
func (c *redisCluster) slotCount(ctx context.Context, i int) (int, error) {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.addrs()})
	defer rdb.Close()
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("CLUSTER SHARDS: %w", err)
	}
	n := 0
	for _, sh := range shards {
		if !servedBy(sh, c.addrs()[i]) {
			continue
		}
		for _, r := range sh.Slots {
			n += int(r.End - r.Start + 1)
		}
	}
	return n, nil
}

// servedBy says whether addr is the master of a shard.
func servedBy(sh redis.ClusterShard, addr string) bool {
	for _, node := range sh.Nodes {
		if node.Role == "master" && net.JoinHostPort(node.IP, strconv.FormatInt(node.Port, 10)) == addr {
			return true
		}
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// clusterNode is master i of a Cluster, restarted on its own port and
// directory, so that it comes back as the same master with its
// append-only file.
type clusterNode struct {
	c *redisCluster
	i int
}

func (n clusterNode) stop(sig syscall.Signal) error { return n.c.nodes[n.i].stop(sig) }

func (n clusterNode) start(ctx context.Context) error {
	if err := n.c.nodes[n.i].start(ctx); err != nil {
		return err
	}
	return rediscluster.WaitReady(ctx, n.c.addrs(), 30*time.Second)
}

// runClusterRestart is redis-restart on a 3-master Cluster: master 1 is
// SIGKILLed and restarted twice during intake and once while the queue
// drains.
func runClusterRestart(ctx context.Context, l *lab, res *result) error {
	c, err := l.startCluster(ctx, "cluster-restart")
	if err != nil {
		return err
	}
	defer c.close()
	return restartsDuringLoad(ctx, l, res, "cluster-restart", syscall.SIGKILL, clusterNode{c, 1},
		stageOptions{cluster: strings.Join(c.addrs(), ",")})
}

// runClusterReshard moves slots between the masters with `redis-cli
// --cluster reshard` while events arrive and while the queue drains: all of
// master 0's slots to master 1 during intake, then all of master 2's to
// master 0 during the drain, so that two thirds of the key space moves
// under the service (MOVED and ASK answers on the way).
func runClusterReshard(ctx context.Context, l *lab, res *result) error {
	c, err := l.startCluster(ctx, "cluster-reshard")
	if err != nil {
		return err
	}
	defer c.close()
	p, err := l.startPairLoad(ctx, res, "cluster-reshard", stageOptions{cluster: strings.Join(c.addrs(), ",")})
	if err != nil {
		return err
	}
	defer p.r.close(ctx)
	r, in, all, n, intakeDone := p.r, p.in, p.all, p.n, p.done
	answers := 2 * n
	var moves []string
	move := func(from, to int) error {
		answered, posted := in.answered(), len(r.sb.Invoices())+len(r.sb.Receipts())
		what, err := c.reshard(ctx, from, to)
		if err != nil {
			return err
		}
		moves = append(moves, fmt.Sprintf("%s, begun at %d answers and %d documents", what, answered, posted))
		return nil
	}
	if waitAnswered(ctx, in, answers/4, intakeDone) {
		if err := move(0, 1); err != nil {
			return err
		}
	}
	<-intakeDone
	res.absorb(in)
	for len(r.sb.Invoices())+len(r.sb.Receipts()) < len(all)/2 && len(r.sb.Invoices())+len(r.sb.Receipts()) < len(all) {
		if err := wait.Sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	if err := move(2, 0); err != nil {
		return err
	}
	res.expect(len(moves) == 2, "%d reshards, want 2", len(moves))
	res.notef("reshards: %s; deliveries answered 503 and sent again: %d; connection errors: %d",
		strings.Join(moves, "; "), in.unavailable, in.unreachable)
	return r.allPairsSynced(ctx, res, in, all, n)
}
