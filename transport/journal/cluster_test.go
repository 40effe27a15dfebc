package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/natstest"
)

// The journal against a three-server JetStream cluster (R3 stream), as
// `purser serve --nats-url ... --replicas 3` runs it: real nats-servers on
// loopback ports and temp dirs, routed to each other, each fsyncing every
// write. Atomic batches, fences and reads go through the clustered
// (Raft-replicated) paths of the server, which an R1 stream never takes.

var clusterSetup = setup{name: "cluster", cluster: true}

func TestClusterRoundTrip(t *testing.T) { testRoundTrip(t, clusterSetup) }

func TestClusterFenceStaleWriter(t *testing.T) { testFenceStaleWriter(t, clusterSetup) }

func TestClusterFenceInSharedBatch(t *testing.T) { testFenceInSharedBatch(t, clusterSetup) }

func TestClusterConcurrentWalletsCoalesced(t *testing.T) {
	testConcurrentWalletsCoalesced(t, clusterSetup)
}

// The stream's leader goes while 20 wallets append: appends in flight may
// time out or be refused until the other two servers have a new leader,
// then go on. Every acknowledged append is in the journal at its position,
// exactly once; the journal holds nothing else but appends whose outcome
// was reported unknown (which may have landed).
//
// A leader shut down in this process goes in order; killed (SIGKILL, a
// server in a child process), it just stops, and the others elect one when
// they notice.
func TestClusterLeaderShutdownLosesNothingAcknowledged(t *testing.T) {
	servers := natstest.Cluster(t, 3)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	testLeaderLoss(t, urls, func(name string) {
		for _, s := range servers {
			if s.Name() == name {
				s.Shutdown()
			}
		}
	})
}

func TestClusterLeaderKilledLosesNothingAcknowledged(t *testing.T) {
	ps := natstest.ProcessCluster(t, 3)
	var urls []string
	for _, p := range ps {
		urls = append(urls, p.URL)
	}
	testLeaderLoss(t, urls, func(name string) {
		for _, p := range ps {
			if p.Name == name {
				if err := p.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func testLeaderLoss(t *testing.T, urls []string, kill func(name string)) {
	e := &env{dir: t.TempDir(), cluster: urls}
	j, _ := e.open(t, Config{AckTimeout: time.Second})
	info, err := j.stream.Info(context.Background())
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream info: %v", err)
	}
	leader := info.Cluster.Leader
	for j.nc.ConnectedServerName() == leader {
		// Our own connection would go with it; take another journal.
		j, _ = e.open(t, Config{AckTimeout: time.Second})
	}

	const wallets, per = 20, 30
	type outcome struct {
		acked   []uint64
		unknown int
	}
	outcomes := make([]outcome, wallets)
	var wg sync.WaitGroup
	halfway := make(chan struct{}, wallets)
	for i := range wallets {
		wg.Go(func() {
			// Halfway is told once, also by a wallet that stops early on
			// an error: the kill must not wait for it forever.
			var told sync.Once
			tell := func() { told.Do(func() { halfway <- struct{}{} }) }
			defer tell()
			id := fmt.Sprintf("w%d", i)
			s := newScript(id)
			var prev uint64
			for n := range per {
				if n == per/3 {
					tell()
				}
				r := wait(t, appendAsync(t, j, id, prev, s.next(t)))
				switch {
				case r.err == nil:
					outcomes[i].acked = append(outcomes[i].acked, r.pos)
					prev = r.pos
					continue
				case errors.Is(r.err, ErrOutcomeUnknown):
					outcomes[i].unknown++
				case errors.Is(r.err, actors.ErrFenced), errors.As(r.err, new(*jetstream.APIError)):
					// Fenced, or refused by the server (resent MaxAttempts
					// times first): not written.
				default:
					t.Errorf("%s: append %d: %v", id, n, r.err)
					return
				}
				// As an actor does after a failed append: find where the
				// wallet's journal ends, and go on from there.
				if _, got := replayUntil(t, j, id); len(got) > 0 {
					prev = got[len(got)-1]
				}
			}
		})
	}
	for range wallets {
		<-halfway
	}
	kill(leader)
	wg.Wait()
	for i := range wallets {
		id := fmt.Sprintf("w%d", i)
		_, got := replayUntil(t, j, id)
		in := make(map[uint64]bool, len(got))
		for _, p := range got {
			in[p] = true
		}
		for _, p := range outcomes[i].acked {
			if !in[p] {
				t.Fatalf("%s: acknowledged position %d is not in the journal %v", id, p, got)
			}
		}
		if extra := len(got) - len(outcomes[i].acked); extra < 0 || extra > outcomes[i].unknown {
			t.Fatalf("%s: journal %v, acknowledged %v, %d unknown", id, got, outcomes[i].acked, outcomes[i].unknown)
		}
	}
	info, err = j.stream.Info(context.Background())
	if err != nil || info.Cluster == nil || info.Cluster.Leader == leader || info.Cluster.Leader == "" {
		t.Fatalf("after losing its leader the stream is led by %+v (err %v)", info.Cluster, err)
	}
	t.Logf("leader %s -> %s; %+v", leader, info.Cluster.Leader, j.Stats())
}

// replayUntil reads a wallet's whole journal, retrying while the cluster
// cannot answer (no leader yet).
func replayUntil(t *testing.T, j *Journal, id string) (*actors.Wallet, []uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		w := actors.NewWallet(id, actors.DefaultLimits())
		var positions []uint64
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := j.Read(ctx, id, 0, func(pos uint64, evs []actors.Event) error {
			positions = append(positions, pos)
			for _, e := range evs {
				w.Apply(e)
			}
			return nil
		})
		cancel()
		if err == nil {
			return w, positions
		}
		if time.Now().After(deadline) {
			t.Errorf("read %s: %v", id, err)
			return w, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
