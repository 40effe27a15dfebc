package main

import (
	"io/fs"
	"testing"
)

func TestMemoryAvailable(t *testing.T) {
	const meminfo = "MemTotal:       24683520 kB\nMemFree:        1000 kB\n"
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if s, ok := m[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		}
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"machine only", map[string]string{"/proc/meminfo": meminfo}, 24683520 * 1024},
		{"cgroup v2 below the machine", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, 2 << 30},
		{"cgroup v2 without a limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, 24683520 * 1024},
		{"cgroup v1 unlimited", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 24683520 * 1024},
		{"cgroup v1 limit, no meminfo", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824"}, 1 << 30},
		{"cgroup v2 of the process, below its parent", map[string]string{"/proc/meminfo": meminfo,
			"/proc/self/cgroup": "0::/system.slice/purser.service\n", "/sys/fs/cgroup/memory.max": "max\n",
			"/sys/fs/cgroup/system.slice/memory.max":                "8589934592\n",
			"/sys/fs/cgroup/system.slice/purser.service/memory.max": "1073741824\n"}, 1 << 30},
		{"cgroup v2, a parent's limit binds", map[string]string{"/proc/meminfo": meminfo,
			"/proc/self/cgroup":                                     "0::/system.slice/purser.service\n",
			"/sys/fs/cgroup/system.slice/memory.max":                "536870912\n",
			"/sys/fs/cgroup/system.slice/purser.service/memory.max": "max\n"}, 512 << 20},
		{"cgroup v1 memory controller among others", map[string]string{"/proc/meminfo": meminfo,
			"/proc/self/cgroup": "5:cpuacct,cpu:/x\n4:memory:/docker/abc\n",
			"/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "268435456\n"}, 256 << 20},
		{"nothing known", nil, 0},
		{"garbage", map[string]string{"/proc/meminfo": "MemTotal: lots", "/sys/fs/cgroup/memory.max": "-1"}, 0},
	} {
		if got := memoryAvailable(files(tc.files)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestGCSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name     string
		env      map[string]string
		explicit bool
		gogc     int
		limit    int64
	}{
		{"defaults", nil, false, 400, 800},
		{"GOGC beats the default", map[string]string{"GOGC": "100"}, false, 0, 800},
		{"a set --gc-percent beats GOGC", map[string]string{"GOGC": "100"}, true, 400, 800},
		{"GOMEMLIMIT replaces the limit", map[string]string{"GOMEMLIMIT": "1GiB"}, false, 400, 0},
	} {
		gogc, limit := gcSettings(env(tc.env), 400, tc.explicit, 1000)
		if gogc != tc.gogc || limit != tc.limit {
			t.Errorf("%s: gogc %d, limit %d; want %d, %d", tc.name, gogc, limit, tc.gogc, tc.limit)
		}
	}
	if _, limit := gcSettings(env(nil), 400, false, 0); limit != 0 {
		t.Errorf("unknown memory: limit %d, want none", limit)
	}
}
