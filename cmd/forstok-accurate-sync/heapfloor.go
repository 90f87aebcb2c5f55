package main

// The garbage collector runs whenever the heap has grown by GOGC % (100)
// of what was live after the last run. The service's own live heap is a few
// megabytes, while intake allocates about 20 kB a webhook: with nothing else
// live, the collector runs some 40 times a second under intake's load. The
// zstd encoders of the records' bodies kept about 9 MB live, which paced it
// by accident; S2, which compresses the bodies in a fifth of their CPU,
// keeps almost nothing, and the collections it brought back took more CPU
// than the compression saved (docs/performance.md, "A cheaper pack of the
// body"). A floor of heap allocated once and never written makes the
// collector pace against at least that much, on purpose: its pages are
// never touched, so it is address space, not memory, though the garbage it
// lets build up between collections is (peak RSS under intake's load about
// 7 MB higher than with zstd's tables). A large deployment's heap, far
// above it, is paced as before; GOMEMLIMIT, when set, still bounds the
// whole.

// heapFloorBytes is the floor serve holds: about what zstd's encoders kept.
const heapFloorBytes = 8 << 20

// holdHeapFloor allocates n bytes the collector counts as live for as long
// as the caller keeps the result reachable (runtime.KeepAlive); the caller
// must never write to them.
func holdHeapFloor(n int) []byte { return make([]byte, n) }
