package node

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

// A node's journal makes every acknowledged change durable before the
// reply: by default with its own fsync of the embedded server's stream
// (the server does not fsync each write); with ServerFsync by the server
// on every write, atomic batches sharing it. What this test can see of
// that is which path each mode takes (the journal's fsync counts) and that
// a restart keeps the change; a clean restart keeps it fsynced or not, so
// power-loss durability is TestStreamSync's (transport/embedded) to show.
func TestDurabilityModes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		serverFsync bool
	}{{"group sync", false}, {"server fsync", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{DataDir: dir, NATSListen: "127.0.0.1:0", ServerFsync: tc.serverFsync}
			n, err := Start(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.server.NATS().JetStreamConfig().SyncAlways; got != tc.serverFsync {
				t.Fatalf("server SyncAlways %v, want %v", got, tc.serverFsync)
			}
			c := client{t: t, nc: connect(t, n)}
			c.ok("purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 1000, "kind": "paid"})
			c.ok("purser.v1.reserve.acme", map[string]any{"id": "r1", "amount": 300})
			st := n.Journal().Stats()
			if tc.serverFsync && st.Syncs != 0 || !tc.serverFsync && st.Syncs < 2 {
				t.Fatalf("journal stats %+v: wrong durability path", st)
			}
			if st.Acked != 2 {
				t.Fatalf("journal stats %+v: want 2 appends acknowledged", st)
			}
			if err := n.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			n = startNode(t, dir)
			r := client{t: t, nc: connect(t, n)}.ok("purser.v1.balance.acme", map[string]any{})
			if r.num("held") != 300 || r.num("available") != 700 {
				t.Fatalf("after restart: %v", r.body)
			}
		})
	}
}

// batchCounter is an actors.Observer that counts decided batches.
type batchCounter struct{ batches atomic.Int64 }

func (b *batchCounter) Batch(int, int)                                { b.batches.Add(1) }
func (b *batchCounter) Appended(time.Duration, []actors.Event, error) {}
func (b *batchCounter) Activated(int)                                 {}
func (b *batchCounter) Passivated(int)                                {}
func (b *batchCounter) Panicked()                                     {}
func (b *batchCounter) ForgotYoungIDs(uint64)                         {}
func (b *batchCounter) Loaded(int, time.Duration, bool)               {}

// A runtime configured without a clock keeps the rest of its settings
// (here its observer); it used to be replaced whole by the defaults.
func TestRuntimeSettingsKeptWithoutAClock(t *testing.T) {
	rt := actors.DefaultConfig()
	rt.Now = nil
	obs := &batchCounter{}
	rt.Observe = obs
	n, err := Start(context.Background(), Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	client{t: t, nc: connect(t, n)}.ok("purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 10, "kind": "paid"})
	if obs.batches.Load() == 0 {
		t.Fatal("the configured observer saw no batch: the runtime settings were replaced")
	}
}

// A data directory moves between the durability modes: the journal stream
// made by one is taken up by the other (atomic publish switched on when
// needed), and nothing is lost either way.
func TestDurabilityModesShareADataDir(t *testing.T) {
	dir := t.TempDir()
	held := int64(0)
	for i, serverFsync := range []bool{false, true, false} {
		n, err := Start(context.Background(), Config{DataDir: dir, NATSListen: "127.0.0.1:0", ServerFsync: serverFsync})
		if err != nil {
			t.Fatalf("start %d (server fsync %v): %v", i, serverFsync, err)
		}
		c := client{t: t, nc: connect(t, n)}
		if i == 0 {
			c.ok("purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 1000, "kind": "paid"})
		}
		if r := c.ok("purser.v1.balance.acme", map[string]any{}); r.num("held") != held {
			t.Fatalf("start %d: held %d, want %d", i, r.num("held"), held)
		}
		c.ok("purser.v1.reserve.acme", map[string]any{"id": fmt.Sprintf("r%d", i), "amount": 100})
		held += 100
		if err := n.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
