package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockName is the file in a data dir that the server holding it locks.
const lockName = "purser.lock"

// ErrDataDirInUse: another process holds the data dir. Two servers on one
// file store each append to the same block files, and each loses the
// other's writes: acknowledged changes would be gone after a restart.
var ErrDataDirInUse = errors.New("embedded: the data dir is in use by another process")

// errNoLocks: the data dir's file system does not lock (some FUSE and NFS
// mounts). The server starts without the guard, with a warning.
var errNoLocks = errors.New("embedded: the data dir's file system does not support locks")

// lockDataDir takes an exclusive lock on dir (created if need be) for as
// long as the returned file stays open. The lock is the kernel's (flock):
// it goes with the process, so a crash never leaves the dir locked.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("embedded: data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		switch {
		case errors.Is(err, syscall.EWOULDBLOCK):
			return nil, fmt.Errorf("%w: %s (%s)", ErrDataDirInUse, dir, holderOf(holder))
		case errors.Is(err, syscall.ENOLCK), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return nil, fmt.Errorf("%w: %s: %v", errNoLocks, dir, err)
		}
		return nil, fmt.Errorf("embedded: data dir lock: %w", err)
	}
	// Who holds it, for the next one's message; the lock is what counts.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

func holderOf(b []byte) string {
	if s := strings.TrimSpace(string(b)); s != "" {
		return "held by " + s
	}
	return "held by another process"
}
