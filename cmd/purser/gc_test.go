package main

import (
	"errors"
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
		{"nothing known", nil, 0},
		{"garbage", map[string]string{"/proc/meminfo": "MemTotal: lots", "/sys/fs/cgroup/memory.max": "-1"}, 0},
	} {
		if got := memoryAvailable(files(tc.files)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if _, err := files(nil)("x"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("test helper broken")
	}
}
