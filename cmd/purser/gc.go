package main

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// tuneGC sets the collector for a node, unless the operator set GOGC or
// GOMEMLIMIT: GOGC to percent, and a soft memory limit at 80% of the
// memory the process may use (its cgroup's limit, else the machine's), so
// the collector runs more often only when the heap nears it. A node's
// garbage is short-lived (requests, events, replies) beside a large live
// state (wallets in memory); the default GOGC of 100 marks that state
// again after every small growth: 400 gave +8–22% reserves/s on the issue 4
// (c) shape and a lower p99 (docs/benchmarks.md).
func tuneGC(percent int, log *zap.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if avail := memoryAvailable(os.ReadFile); avail > 0 {
			debug.SetMemoryLimit(avail / 10 * 8)
		}
	}
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	log.Info("collector", zap.Int("gogc", gogc), zap.Int64("memory_limit_bytes", debug.SetMemoryLimit(-1)))
}

// memoryAvailable is the least of the machine's memory and the cgroup's
// limit (v2 memory.max, v1 memory.limit_in_bytes); 0 if neither is known.
func memoryAvailable(read func(string) ([]byte, error)) int64 {
	limit := uint64(0)
	if b, err := read("/proc/meminfo"); err == nil {
		limit = memTotal(b)
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := read(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64) // "max": no limit
		if err == nil && n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return int64(min(limit, math.MaxInt64))
}

// memTotal reads MemTotal (kB) from /proc/meminfo, in bytes.
func memTotal(meminfo []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil || kb > math.MaxUint64/1024 {
			return 0
		}
		return kb * 1024
	}
	return 0
}
