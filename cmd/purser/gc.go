package main

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// defaultGCPercent is --gc-percent's default.
const defaultGCPercent = 400

// tuneGC sets the collector for a node (see gcSettings) and logs what it
// runs with. A node's garbage is short-lived (requests, events, replies)
// beside a large live state (wallets in memory), which the default GOGC of
// 100 marks again after every small growth; docs/operations.md has the
// measurements behind the default of 400.
func tuneGC(percent int, explicit bool, log *zap.Logger) {
	gogc, limit := gcSettings(os.Getenv, percent, explicit, memoryAvailable(os.ReadFile))
	if gogc > 0 {
		debug.SetGCPercent(gogc)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	gogc = debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	log.Info("collector", zap.Int("gogc", gogc), zap.Int64("memory_limit_bytes", debug.SetMemoryLimit(-1)))
}

// gcSettings is what tuneGC sets (0: leave the runtime's): GOGC to percent
// when the operator set --gc-percent (flag, PURSER_GC_PERCENT or config)
// or the environment has no GOGC; a soft memory limit at 80% of avail, the
// memory the process may use, unless GOMEMLIMIT is set.
func gcSettings(getenv func(string) string, percent int, explicit bool, avail int64) (gogc int, limit int64) {
	if explicit || getenv("GOGC") == "" {
		gogc = percent
	}
	if getenv("GOMEMLIMIT") == "" && avail > 0 {
		limit = avail / 10 * 8
	}
	return gogc, limit
}

// memoryAvailable is the least of the machine's memory and the limits of
// the process's memory cgroup and its ancestors (v2 memory.max, v1
// memory.limit_in_bytes, found through /proc/self/cgroup; the mount's root
// too, for a cgroup namespace); 0 if none is known.
func memoryAvailable(read func(string) ([]byte, error)) int64 {
	limit := uint64(0)
	if b, err := read("/proc/meminfo"); err == nil {
		limit = memTotal(b)
	}
	var self []byte
	if b, err := read("/proc/self/cgroup"); err == nil {
		self = b
	}
	for _, p := range cgroupLimitFiles(self) {
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

// cgroupLimitFiles lists the memory limit files that bound the process:
// its memory cgroup's and every ancestor's, by /proc/self/cgroup
// ("0::/path" for v2, "N:…memory…:/path" for v1), and the mount roots.
func cgroupLimitFiles(self []byte) []string {
	files := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	for line := range strings.Lines(string(self)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		root, file := "", ""
		switch {
		case parts[0] == "0" && parts[1] == "":
			root, file = "/sys/fs/cgroup", "memory.max"
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			root, file = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		for dir := parts[2]; dir != "/"; dir = path.Dir(dir) {
			files = append(files, path.Join(root, dir, file))
		}
	}
	return files
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
