package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/embedded"
	"github.com/purser-dev/purser/transport/natstest"
)

// env is a real embedded JetStream server (fsync always) on a random
// loopback port and a temp dir.
type env struct {
	dir     string
	staging string // BatchStagingDir, "" for the server's own on-disk staging
	// relaxed: the server does not fsync each write; a journal opened
	// with the default mode runs ModeGroupSync on sync, as `purser serve`
	// does.
	relaxed bool
	sync    *embedded.StreamSync
	srv     *embedded.Server
	// cluster, when set, is the client URLs of a routed JetStream cluster
	// (cluster_test.go) in place of srv: journals open an R3 stream on it.
	cluster []string
	opened  int // journals opened on the cluster
}

// setup is one way of making appends durable: atomic batches staged by
// the server on disk or on a tmpfs (fsync always), or group sync.
type setup struct {
	name      string
	staged    bool
	groupSync bool
	cluster   bool // three routed servers, an R3 stream (cluster_test.go)
}

var (
	// batchSetups are the two ways the server stages atomic batches.
	batchSetups = []setup{{name: "disk"}, {name: "staged", staged: true}}
	// allSetups adds ModeGroupSync, for tests of what every mode keeps.
	allSetups = append(batchSetups[:len(batchSetups):len(batchSetups)], setup{name: "groupsync", groupSync: true})
)

// forSetups runs test once per setup.
func forSetups(t *testing.T, setups []setup, test func(t *testing.T, su setup)) {
	for _, su := range setups {
		t.Run(su.name, func(t *testing.T) { test(t, su) })
	}
}

// startEnvSetup starts a server for su.
func startEnvSetup(tb testing.TB, dir string, su setup) *env {
	tb.Helper()
	if su.cluster {
		var urls []string
		for _, s := range natstest.Cluster(tb, 3) {
			urls = append(urls, s.ClientURL())
		}
		return &env{dir: dir, cluster: urls}
	}
	if su.groupSync {
		e := &env{dir: dir, relaxed: true}
		e.start(tb)
		return e
	}
	return startEnvStaged(tb, dir, su.staged)
}

// startEnv starts a server that stages atomic batches on disk (the
// server's default).
func startEnv(tb testing.TB, dir string) *env { return startEnvStaged(tb, dir, false) }

// startEnvStaged starts a server; staged puts the journal stream's batch
// staging on a tmpfs (embedded.Config.BatchStagingDir), as `purser serve`
// can.
func startEnvStaged(tb testing.TB, dir string, staged bool) *env {
	tb.Helper()
	e := &env{dir: dir}
	if staged {
		e.staging = stagingDir(tb)
	}
	e.start(tb)
	return e
}

func (e *env) start(tb testing.TB) {
	tb.Helper()
	cfg := embedded.Config{DataDir: e.dir, Port: embedded.RandomPort, RelaxFsync: e.relaxed}
	if e.staging != "" {
		cfg.BatchStagingDir, cfg.StagedStreams = e.staging, []string{DefaultStream}
	}
	srv, err := embedded.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.srv = srv
	tb.Cleanup(srv.Shutdown)
	if e.relaxed {
		// The syncer belongs to this server; a restart makes a new one.
		e.sync = srv.StreamSync(DefaultStream)
		tb.Cleanup(func() { _ = e.sync.Close() })
	}
}

// restart stops the server and starts it again on the same directories.
func (e *env) restart(tb testing.TB) {
	tb.Helper()
	e.srv.Shutdown()
	e.start(tb)
}

// stagingDir is a fresh directory on /dev/shm when there is one.
func stagingDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "purser-staging-")
	if err != nil {
		return tb.TempDir()
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// open connects a new client (a separate "node") and opens the journal.
func (e *env) open(tb testing.TB, cfg Config) (*Journal, jetstream.JetStream) {
	tb.Helper()
	url := ""
	if e.cluster != nil {
		// A journal on a cluster replicates its stream; each "node"
		// connects to a server of its own.
		e.opened++
		url = e.cluster[e.opened%len(e.cluster)]
		cfg.Replicas = len(e.cluster)
	} else {
		url = e.srv.ClientURL()
	}
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	// On a server that does not fsync, the journal must (the node's
	// default): the default mode becomes group sync, with this server's
	// syncer unless the test brings its own.
	if e.relaxed && (cfg.Mode == ModeBatch || cfg.Mode == ModeGroupSync) && cfg.Sync == nil {
		cfg.Mode, cfg.Sync = ModeGroupSync, e.sync.Sync
	}
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(tb, zaptest.Level(zap.WarnLevel))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := New(ctx, js, cfg)
	if err != nil {
		nc.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = j.Close(ctx)
		nc.Close()
	})
	return j, js
}

type result struct {
	pos uint64
	err error
}

// appendAsync starts an append and returns where its outcome will arrive;
// it fails the test if done is called twice.
func appendAsync(tb testing.TB, j actors.Journal, wallet string, prev uint64, evs []actors.Event) <-chan result {
	ch := make(chan result, 2)
	j.Append(wallet, prev, evs, func(pos uint64, err error) { ch <- result{pos, err} })
	return ch
}

var errNeverDone = errors.New("test: append never completed")

// wait returns the append's outcome; it may run on any goroutine, so it
// reports with Errorf and an error result rather than Fatal.
func wait(tb testing.TB, ch <-chan result) result {
	tb.Helper()
	select {
	case r := <-ch:
		select {
		case <-ch:
			tb.Error("done called twice")
		default:
		}
		return r
	case <-time.After(30 * time.Second):
		tb.Error(errNeverDone)
		return result{err: errNeverDone}
	}
}

func appendSync(tb testing.TB, j actors.Journal, wallet string, prev uint64, evs []actors.Event) (uint64, error) {
	tb.Helper()
	r := wait(tb, appendAsync(tb, j, wallet, prev, evs))
	return r.pos, r.err
}

// walletScript drives a real wallet: a grant, then reserves; each call
// returns the next command's events.
type walletScript struct {
	w   *actors.Wallet
	n   int
	now time.Time
}

func newScript(id string) *walletScript {
	return &walletScript{w: actors.NewWallet(id, actors.DefaultLimits()), now: time.Unix(1_700_000_000, 0)}
}

func (s *walletScript) next(tb testing.TB) []actors.Event {
	tb.Helper()
	s.n++
	s.now = s.now.Add(time.Millisecond)
	var cmd actors.Command = actors.Reserve{ID: fmt.Sprintf("r%d", s.n), Amount: 1}
	if s.n == 1 {
		cmd = actors.Grant{ID: "g1", Amount: 1_000_000, Kind: "paid"}
	}
	evs, _, aerr := s.w.Execute(cmd, s.now, nil)
	if aerr != nil || len(evs) == 0 {
		tb.Fatalf("execute %d: %v (%d events)", s.n, aerr, len(evs))
	}
	return evs
}

// replay folds a wallet's whole journal into a fresh wallet.
func replay(tb testing.TB, j actors.Journal, id string, from uint64) (*actors.Wallet, []uint64) {
	tb.Helper()
	w := actors.NewWallet(id, actors.DefaultLimits())
	return w, readFrom(tb, j, id, from, w.Apply)
}

// readFrom reads a wallet after from, passing each event to apply, and
// returns the positions read.
func readFrom(tb testing.TB, j actors.Journal, id string, from uint64, apply func(actors.Event)) []uint64 {
	tb.Helper()
	var positions []uint64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last, err := j.Read(ctx, id, from, func(pos uint64, evs []actors.Event) error {
		positions = append(positions, pos)
		for _, e := range evs {
			apply(e)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(positions) > 0 && last != positions[len(positions)-1] || len(positions) == 0 && last != from {
		tb.Fatalf("Read returned %d, positions %v from %d", last, positions, from)
	}
	return positions
}

// modes are the journal modes a setup can run durably: group sync on a
// server that does not fsync, the server-fsynced modes elsewhere.
func (su setup) modes() []Mode {
	if su.groupSync {
		return []Mode{ModeGroupSync}
	}
	return []Mode{ModeBatch, ModeSingle}
}
