package embedded

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestStreamSync proves what the journal's group commit relies on: after
// Sync, every message the server acknowledged before it is in a file Sync
// fsynced, at the size it has now — across block rolls, whose directory
// entries are synced too. It fails if nats-server stops writing a message
// before acknowledging it, or moves its blocks.
func TestStreamSync(t *testing.T) {
	dir := t.TempDir()
	s, js := relaxedWithStream(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ss := s.StreamSync("J")
	defer ss.Close()
	synced := map[string]int64{} // path → size when last fsynced
	syncs := map[string]int{}    // path → fsyncs
	ss.fsync = func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		synced[f.Name()] = fi.Size()
		syncs[f.Name()]++
		return f.Sync()
	}
	// A node syncs once at start, before the stream has stored anything.
	if err := ss.Sync(); err != nil {
		t.Fatalf("sync of a stream with nothing stored: %v", err)
	}
	msgs := filepath.Join(dir, "jetstream", globalAccount, "streams", "J", "msgs")
	known := 0 // blocks after the previous Sync
	if _, err := os.Stat(msgs); err == nil {
		known = len(blocks(t, msgs))
	}
	// 8 MB blocks (a limits stream without limits): 24 MB rolls twice.
	payload := make([]byte, 96<<10)
	for i := range 256 {
		payload[0] = byte(i)
		if _, err := js.Publish(ctx, "j.x", payload); err != nil {
			t.Fatal(err)
		}
		dirSyncs := syncs[msgs]
		if err := ss.Sync(); err != nil {
			t.Fatal(err)
		}
		after := blocks(t, msgs)
		if len(after) > known {
			if syncs[msgs] == dirSyncs {
				t.Fatalf("message %d opened block %d, but the directory entry was not synced", i, len(after))
			}
		}
		known = len(after)
		for _, b := range after {
			fi, err := os.Stat(b)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := synced[b]; !ok || got != fi.Size() {
				t.Fatalf("after message %d: %s is %d bytes, last fsynced at %d (synced: %v)", i, b, fi.Size(), got, ok)
			}
		}
	}
	if known < 3 {
		t.Fatalf("%d blocks: the test did not roll blocks twice", known)
	}
	for _, p := range []string{filepath.Join(dir, "jetstream"), filepath.Join(msgs, "..", "meta.inf")} {
		if _, ok := synced[filepath.Clean(p)]; !ok {
			t.Errorf("%s never synced by the first Sync", p)
		}
	}
}

func blocks(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".blk") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// syncWithOpenBlock returns the StreamSync of a stream with one message,
// synced once, so its block file is open.
func syncWithOpenBlock(t *testing.T) *StreamSync {
	t.Helper()
	s, js := relaxedWithStream(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "j.x", []byte("m")); err != nil {
		t.Fatal(err)
	}
	ss := s.StreamSync("J")
	if err := ss.Sync(); err != nil { // opens the block
		t.Fatal(err)
	}
	return ss
}

// Close does not wait for a Sync stuck in an fsync (a stalled disk), so a
// node's shutdown is bounded; the stuck Sync releases the block if it
// ever returns, and no Sync succeeds after Close.
func TestStreamSyncCloseDoesNotWaitForAStuckFsync(t *testing.T) {
	ss := syncWithOpenBlock(t)
	entered, gate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	ss.fsync = func(f *os.File) error {
		once.Do(func() { close(entered) })
		<-gate
		return f.Sync()
	}
	stuck, queued := make(chan error, 1), make(chan error, 1)
	go func() { stuck <- ss.Sync() }()
	<-entered
	// Another Sync queues behind the stuck one (or starts after Close):
	// either way it must fail, whoever gets the lock first when the
	// fsync returns.
	go func() { queued <- ss.Sync() }()
	if err := ss.Close(); err != nil {
		t.Fatalf("Close beside a stuck Sync: %v", err)
	}
	close(gate)
	if err := <-stuck; err != nil {
		t.Fatalf("the Sync that was stuck: %v", err)
	}
	if err := <-queued; err == nil {
		t.Fatal("a Sync that waited behind the stuck one succeeded after Close")
	}
	closedForGood(t, ss)
}

// closedForGood checks that Close's work is done: a Sync fails, and the
// block is not open.
func closedForGood(t *testing.T, ss *StreamSync) {
	t.Helper()
	if err := ss.Sync(); err == nil {
		t.Fatal("a Sync after Close succeeded")
	}
	ss.mu.Lock()
	open := ss.f != nil
	ss.mu.Unlock()
	if open {
		t.Fatal("the block is still open after Close")
	}
}

// relaxedWithStream starts a server that does not fsync (RelaxFsync, as
// group sync runs it) on dir, with file stream J on subjects j.>, as the
// journal's: no deletes, no purges.
func relaxedWithStream(t *testing.T, dir string) (*Server, jetstream.JetStream) {
	t.Helper()
	s, err := Start(Config{DataDir: dir, Port: RandomPort, RelaxFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	_, js := connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "J", Subjects: []string{"j.>"},
		Storage: jetstream.FileStorage, DenyDelete: true, DenyPurge: true}); err != nil {
		t.Fatal(err)
	}
	return s, js
}

// A Sync that gets the lock after a Close that could not take it (another
// holder had it and let go without doing Close's work) fails, and closes
// the block. The stuck-fsync test above cannot pin this: there the stuck
// Sync's own deferred check always wins the lock first.
func TestStreamSyncAfterACloseItRacedFails(t *testing.T) {
	ss := syncWithOpenBlock(t)
	ss.mu.Lock() // a holder Close cannot wait for
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}
	ss.mu.Unlock() // let go without Close's work
	closedForGood(t, ss)
}
