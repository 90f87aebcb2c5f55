package rig

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/accurate/sandbox"
	"forstok-accurate-sync/events"
)

// EachKeyMemory calls fn with every key of ns and what Redis says it takes
// (MEMORY USAGE with every element sampled). Unlike used_memory it counts
// no one else's keys on a shared Redis.
func EachKeyMemory(ctx context.Context, rdb redis.UniversalClient, ns string, fn func(key string, bytes int64)) error {
	err := events.EachKey(ctx, rdb, ns, func(batch []string) error {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0) // SAMPLES 0: every element, exact
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, c := range cmds {
			if n, err := c.Result(); err == nil {
				fn(batch[i], n)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory of namespace %s: %w", ns, err)
	}
	return nil
}

// Info reads one numeric field of INFO section.
func Info(ctx context.Context, rdb redis.UniversalClient, section, field string) (float64, error) {
	s, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return 0, fmt.Errorf("INFO %s: %w", section, err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("INFO %s has no %s", section, field)
}

// InfoSum is Info's field summed over every master of a Cluster (Info of
// the one node otherwise): used_memory of a Cluster is its masters' sum.
func InfoSum(ctx context.Context, rdb redis.UniversalClient, section, field string) (float64, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return Info(ctx, rdb, section, field)
	}
	var mu sync.Mutex
	var total float64
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		v, err := Info(ctx, c, section, field)
		mu.Lock()
		total += v
		mu.Unlock()
		return err
	})
	return total, err
}

// Masters is how many masters a Cluster has (1 for one Redis).
func Masters(ctx context.Context, rdb redis.UniversalClient) int {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return 1
	}
	var mu sync.Mutex
	n := 0
	_ = cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error {
		mu.Lock()
		n++
		mu.Unlock()
		return nil
	})
	return n
}

// RedisCPU is the CPU time Redis has used, user and system, from INFO cpu:
// every master's, summed, on a Cluster.
func RedisCPU(ctx context.Context, rdb redis.UniversalClient) (time.Duration, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return nodeCPU(ctx, rdb)
	}
	var mu sync.Mutex
	var total time.Duration
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		d, err := nodeCPU(ctx, c)
		mu.Lock()
		total += d
		mu.Unlock()
		return err
	})
	return total, err
}

func nodeCPU(ctx context.Context, rdb redis.UniversalClient) (time.Duration, error) {
	u, err := Info(ctx, rdb, "cpu", "used_cpu_user")
	if err != nil {
		return 0, err
	}
	s, err := Info(ctx, rdb, "cpu", "used_cpu_sys")
	if err != nil {
		return 0, err
	}
	return time.Duration((u + s) * float64(time.Second)), nil
}

// Memory is a process's resident set as /proc/<pid>/status tells it.
type Memory struct {
	Peak, Now int64 // VmHWM, VmRSS in bytes
}

// ProcMemory reads VmHWM and VmRSS of pid.
func ProcMemory(pid int) (Memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // "12345 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			m.Peak = kb << 10
		case "VmRSS":
			m.Now = kb << 10
		}
	}
	return m, sc.Err()
}

// ProcCPU is the CPU time (user + system) process pid has used, from
// /proc/<pid>/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after its ")" are fixed.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// MachineCPU is the CPU time every process on the machine has used so far
// (all CPUs, from /proc/stat, idle and iowait excluded): what the run's own
// processes did not use of it was someone else's.
func MachineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, errors.New("/proc/stat: no cpu line")
	}
	var busy int64
	for i, f := range fields[1:9] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(busy) * time.Second / ticks, nil
}

// SelfCPU is this process's CPU time so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SandboxState reads GET /sandbox/state.
func SandboxState(ctx context.Context, url string) (sandbox.State, error) {
	return sandboxState(ctx, url+"/sandbox/state")
}

// DatabaseState reads the state of one database of a sandbox serving
// several (GET /sandbox/db/<name>/state).
func DatabaseState(ctx context.Context, url, name string) (sandbox.State, error) {
	return sandboxState(ctx, url+"/sandbox/db/"+name+"/state")
}

func sandboxState(ctx context.Context, url string) (sandbox.State, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return sandbox.State{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sandbox.State{}, fmt.Errorf("sandbox state: %w", err)
	}
	defer resp.Body.Close()
	var st sandbox.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return sandbox.State{}, fmt.Errorf("sandbox state: %w", err)
	}
	return st, nil
}

// Machine describes where the figures were taken.
func Machine(ctx context.Context, rdb redis.UniversalClient) string {
	return fmt.Sprintf("%s, Redis %s", CPUModel(), RedisVersion(ctx, rdb))
}

// CPUModel is the machine's CPU as /proc/cpuinfo names it.
func CPUModel() string {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
		}
	}
	return "unknown CPU"
}

// RedisVersion is the version rdb's server reports, "?" when it does not
// answer.
func RedisVersion(ctx context.Context, rdb redis.UniversalClient) string {
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return "?"
}

// SetLatency makes the sandbox (or, with db, one database of it) answer
// every data call d late from now on; the other faults are cleared.
func SetLatency(ctx context.Context, url, db string, d time.Duration) error {
	path := url + "/sandbox/faults"
	if db != "" {
		path = url + "/sandbox/db/" + db + "/faults"
	}
	body := strings.NewReader(fmt.Sprintf(`{"latency":%q}`, d.String()))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox faults: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox faults: HTTP %d", resp.StatusCode)
	}
	return nil
}
