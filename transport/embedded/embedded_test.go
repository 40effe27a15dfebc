// These tests prove the embedded server is durable by default (fsync on
// every write), relaxes that only when asked, listens where it is told,
// and keeps JetStream data across a restart on the same directory.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no data dir", Config{Port: RandomPort}},
		{"bad port", Config{DataDir: t.TempDir(), Port: 70000}},
		{"negative timeout", Config{DataDir: t.TempDir(), Port: RandomPort, ReadyTimeout: -1}},
		{"negative max payload", Config{DataDir: t.TempDir(), Port: RandomPort, MaxPayload: -1}},
	} {
		if _, err := Start(tc.cfg); err == nil {
			t.Errorf("%s: Start succeeded, want error", tc.name)
		}
	}
}

// Clients of the embedded server see its max_payload: 8 MiB unless set,
// so that large replies (a settle's 10,000 allocations) get through.
func TestMaxPayload(t *testing.T) {
	for _, set := range []int32{0, 32 << 10} {
		s, err := Start(Config{DataDir: t.TempDir(), Port: RandomPort, MaxPayload: set})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		want := int64(set)
		if set == 0 {
			want = DefaultMaxPayload
		}
		if got := nc.MaxPayload(); got != want {
			t.Errorf("MaxPayload %d: the client sees %d, want %d", set, got, want)
		}
		nc.Close()
		s.Shutdown()
	}
}

func TestSyncSettings(t *testing.T) {
	for _, relax := range []bool{false, true} {
		s, err := Start(Config{DataDir: t.TempDir(), Port: RandomPort, RelaxFsync: relax})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.NATS().JetStreamConfig().SyncAlways; got == relax {
			t.Errorf("RelaxFsync=%v: SyncAlways=%v", relax, got)
		}
		if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") || strings.HasSuffix(s.ClientURL(), ":4222") {
			t.Errorf("ClientURL %q: want a random loopback port", s.ClientURL())
		}
		s.Shutdown()
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := Start(Config{DataDir: dir, Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	nc, js := connect(t, s)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(ctx, "t.a", []byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()

	s, err = Start(Config{DataDir: dir, Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, js = connect(t, s)
	defer nc.Close()
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "kept" || m.Subject != "t.a" {
		t.Fatalf("after restart got %q on %q", m.Data, m.Subject)
	}
}

func connect(t *testing.T, s *Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// A staged stream's open atomic batch lives in BatchStagingDir, not under
// DataDir, before and after a restart (which removes the server's batch
// directories, links included); its committed messages are in the stream.
func TestBatchStaging(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	cfg := Config{DataDir: dir, Port: RandomPort, BatchStagingDir: staging, StagedStreams: []string{"J"}}
	for round := range 2 {
		s, err := Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nc, js := connect(t, s)
		ctx := context.Background()
		if round == 0 {
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "J", Subjects: []string{"j.>"},
				Storage: jetstream.FileStorage, AllowAtomicPublish: true}); err != nil {
				t.Fatal(err)
			}
		}
		// Open a batch and leave it uncommitted: the server stages it.
		id := fmt.Sprintf("open%d", round)
		m := &nats.Msg{Subject: "j.a", Data: []byte("x"), Header: nats.Header{}}
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", "1")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		// A committed batch lands in the stream as usual.
		for i, commit := range []bool{false, true} {
			m := &nats.Msg{Subject: "j.b", Data: []byte("y"), Header: nats.Header{}}
			m.Header.Set("Nats-Batch-Id", id+"c")
			m.Header.Set("Nats-Batch-Sequence", fmt.Sprint(i+1))
			if commit {
				m.Header.Set("Nats-Batch-Commit", "1")
				if _, err := nc.RequestMsg(m, 5*time.Second); err != nil {
					t.Fatal(err)
				}
			} else if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
		}
		// The stream takes one connection's messages in order, so once
		// that commit is acknowledged the open batch has been staged.
		if staged, _ := os.ReadDir(filepath.Join(staging, "J")); len(staged) != 1 {
			t.Fatalf("round %d: %d batches staged in %s, want 1", round, len(staged), staging)
		}
		st, err := js.Stream(ctx, "J")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(2 * (round + 1)); info.State.Msgs != want {
			t.Fatalf("round %d: %d messages, want %d", round, info.State.Msgs, want)
		}
		nc.Close()
		s.Shutdown()
	}
	if err := (&Config{DataDir: dir, StagedStreams: []string{"J"}}).validate(); err == nil {
		t.Fatal("StagedStreams without BatchStagingDir accepted")
	}
}

// One server a data dir: a second one is refused while the first runs
// (both would write the same block files and lose each other's
// writes), and starts once the first has shut down.
func TestADataDirTakesOneServer(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(Config{DataDir: dir, Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Start(Config{DataDir: dir, Port: RandomPort}); !errors.Is(err, ErrDataDirInUse) {
		if s != nil {
			s.Shutdown()
		}
		t.Fatalf("a second server on the same data dir: %v", err)
	} else if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("the refusal does not name the holder: %v", err)
	}
	first.Shutdown()
	again, err := Start(Config{DataDir: dir, Port: RandomPort})
	if err != nil {
		t.Fatalf("after the first shut down: %v", err)
	}
	again.Shutdown()
}
