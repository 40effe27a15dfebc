package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// StreamSync makes what the embedded server has stored in one stream
// durable on demand: the group commit of a server that does not fsync each
// write (Config.RelaxFsync).
//
// Why it is sound: on a single-node (R1) file-backed stream, nats-server
// 2.15 writes every message into the stream's last message block file with
// pwrite before it acknowledges the publish (filestore.go: fs.fip, "flush
// in place", is set for R1; writeMsgRecord → flushPendingMsgsLocked →
// mb.writeAt); only the fsync after it depends on sync_interval. fsync(2)
// makes durable every write to the file made before it, by whichever
// descriptor. So a Sync that starts after a set of acks makes all of those
// messages durable, however many there are: one fsync for all the writes
// of many wallets, where `sync_interval: always` pays one per message. On
// restart the file store rebuilds its state from the block files (index.db
// is only a cache checked against them), as it does after any crash of a
// server with the default sync interval.
//
// The layout it relies on (jetstream/<account>/streams/<stream>/msgs/
// <index>.blk, one block written at a time, blocks never removed nor
// rewritten — compaction, which renames a new file over a block, needs
// deletes, and the journal stream denies deletes and purges and has no
// limits) is nats-server's; TestStreamSync fails if a message
// acknowledged before a Sync is not in a file Sync fsynced. Sync keeps the
// block it writes to open, so a block replaced by rename would go
// unsynced: the stream's configuration is what rules that out.
type StreamSync struct {
	streamDir string
	msgsDir   string

	mu sync.Mutex
	// closing is set by Close, which does not wait for a Sync stuck in an
	// fsync (a stalled disk): that Sync closes the block when it returns.
	closing atomic.Bool
	cur     uint64   // index of the block being written
	f       *os.File // that block, open for fsync; nil until primed
	failed  error    // a failed fsync is never retried
	// fsync is (*os.File).Sync; tests record what was synced.
	fsync func(*os.File) error
}

// StreamSync returns the stream's syncer. The stream need not exist yet.
// Sync it once before serving: after a crash of the process alone, the
// server recovers the last run's unsynced writes from the page cache, and
// nothing may be answered from them before they are durable.
func (s *Server) StreamSync(stream string) *StreamSync {
	dir := filepath.Join(s.dataDir, "jetstream", globalAccount, "streams", stream)
	return &StreamSync{streamDir: dir, msgsDir: filepath.Join(dir, "msgs"), fsync: (*os.File).Sync}
}

// Sync returns once every message the server acknowledged before the call
// is on stable storage. After a failed fsync the kernel may have dropped
// the dirty pages and report the next fsync clean, so a failure is
// permanent: every later Sync returns it.
func (ss *StreamSync) Sync() error {
	ss.mu.Lock()
	// Close sets closing, then tries the lock; Sync unlocks, then reads
	// closing: whichever comes second does Close's work, so it is never
	// lost between a Close and a Sync that overlap.
	defer func() {
		ss.mu.Unlock()
		if ss.closing.Load() && ss.mu.TryLock() {
			_ = ss.closeIfClosing()
			ss.mu.Unlock()
		}
	}()
	// A Sync that waited for the lock behind one stuck in an fsync may get
	// it after Close: it must fail as every later Sync does.
	if err := ss.closeIfClosing(); err != nil {
		return err
	}
	if ss.failed != nil {
		return ss.failed
	}
	err := ss.sync()
	if err != nil {
		ss.failed = fmt.Errorf("embedded: fsync of stream store: %w", err)
		return ss.failed
	}
	return nil
}

func (ss *StreamSync) sync() error {
	if ss.f == nil {
		return ss.prime()
	}
	if err := ss.fsync(ss.f); err != nil {
		return err
	}
	// Messages acknowledged before this call may sit in blocks created
	// since the last one; they are found in order, and the directory
	// entry of each new block is made durable too.
	for {
		next := filepath.Join(ss.msgsDir, strconv.FormatUint(ss.cur+1, 10)+".blk")
		f, err := os.Open(next)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ss.fsync(f); err != nil {
			f.Close()
			return err
		}
		if err := ss.syncPath(ss.msgsDir); err != nil {
			f.Close()
			return err
		}
		ss.f.Close()
		ss.f, ss.cur = f, ss.cur+1
	}
}

// prime fsyncs the whole stream directory once: every block (some may
// have been written before the first Sync, by this run or by one that
// crashed), the stream's metadata, and the directories up to the store
// root, so the stream itself survives a power loss even though the server
// wrote its metadata without a sync. A stream with no block yet holds no
// message: nothing to sync, and the next Sync primes.
func (ss *StreamSync) prime() error {
	entries, err := os.ReadDir(ss.msgsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var last uint64
	found := false
	for _, e := range entries {
		idx, ok := strings.CutSuffix(e.Name(), ".blk")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			continue
		}
		if !found || n > last {
			last, found = n, true
		}
	}
	if !found {
		return nil
	}
	err = filepath.WalkDir(ss.streamDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // the batch staging link (Config.BatchStagingDir)
		}
		return ss.syncPath(path)
	})
	if err != nil {
		return err
	}
	// streams/, the account directory, jetstream/.
	for dir, i := filepath.Dir(ss.streamDir), 0; i < 3; dir, i = filepath.Dir(dir), i+1 {
		if err := ss.syncPath(dir); err != nil {
			return err
		}
	}
	f, err := os.Open(filepath.Join(ss.msgsDir, strconv.FormatUint(last, 10)+".blk"))
	if err != nil {
		return err
	}
	ss.f, ss.cur = f, last
	// A block may have been created after the listing: sync finds it.
	return ss.sync()
}

// Close releases the open block; a later Sync fails. It does not wait for
// a Sync in progress, which may be an fsync that never returns: that Sync
// releases the block itself if it ever does.
func (ss *StreamSync) Close() error {
	ss.closing.Store(true)
	if !ss.mu.TryLock() {
		return nil
	}
	defer ss.mu.Unlock()
	return ss.closeIfClosing()
}

// closeIfClosing, under mu, does Close's work once Close was called.
func (ss *StreamSync) closeIfClosing() error {
	if !ss.closing.Load() {
		return nil
	}
	if ss.failed == nil {
		ss.failed = errors.New("embedded: stream sync closed")
	}
	if ss.f == nil {
		return nil
	}
	err := ss.f.Close()
	ss.f = nil
	return err
}

func (ss *StreamSync) syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = ss.fsync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
