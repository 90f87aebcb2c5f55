package main

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
)

// heapGoal is the heap size at which the collector will next run.
func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestHeapFloor(t *testing.T) {
	const floor = 256 << 20 // far above what this test binary keeps live
	t.Run("the collector paces against at least the floor while it is held", func(t *testing.T) {
		runtime.GC()
		if before := heapGoal(); before >= floor {
			t.Skipf("the heap goal is already %d bytes; the floor would not show", before)
		}
		held := holdHeapFloor(floor)
		runtime.GC()
		if got := heapGoal(); got < floor {
			t.Errorf("heap goal with a %d-byte floor held = %d; want at least the floor", floor, got)
		}
		runtime.KeepAlive(held)
	})

	// serve holds its floor from the start of a fresh process, whose heap
	// has no freed pages the floor could reuse (reused pages are zeroed,
	// which makes them resident): so is this subtest's process.
	t.Run("the floor's pages, held from the start of a process, are not resident", func(t *testing.T) {
		if _, ok := residentBytes(); !ok {
			t.Skip("no /proc/self/statm here")
		}
		cmd := exec.Command(os.Args[0], "-test.run", "^TestHeapFloorInFreshProcess$", "-test.count", "1")
		cmd.Env = append(os.Environ(), "HEAP_FLOOR_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("in a fresh process: %v\n%s", err, out)
		}
	})
}

// TestHeapFloorInFreshProcess is TestHeapFloor's child process.
func TestHeapFloorInFreshProcess(t *testing.T) {
	if os.Getenv("HEAP_FLOOR_CHILD") != "1" {
		t.Skip("run by TestHeapFloor in a process of its own")
	}
	const floor = 256 << 20
	before, _ := residentBytes()
	held := holdHeapFloor(floor)
	after, _ := residentBytes()
	if grew := after - before; grew > floor/8 {
		t.Errorf("holding a %d-byte floor made the process %d bytes more resident; want its pages untouched", floor, grew)
	}
	runtime.KeepAlive(held)
}

// residentBytes is this process's resident set, from /proc/self/statm.
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
