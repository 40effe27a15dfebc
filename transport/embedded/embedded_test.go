// These tests prove the embedded server is durable by default (fsync on
// every write), relaxes that only when asked, listens where it is told,
// and keeps JetStream data across a restart on the same directory.
package embedded

import (
	"context"
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
	} {
		if _, err := Start(tc.cfg); err == nil {
			t.Errorf("%s: Start succeeded, want error", tc.name)
		}
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
