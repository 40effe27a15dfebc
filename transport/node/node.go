// Package node assembles one Purser node: a NATS connection (to an embedded
// JetStream server, or to an existing cluster), the JetStream journal, the
// wallet actors and the request-reply API. `purser serve` and the
// end-to-end tests start nodes through it.
package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/snapshot"
	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/embedded"
	"github.com/purser-dev/purser/transport/journal"
)

// Config configures a node. The zero value plus DataDir is SPEC §9's
// `purser serve`: embedded server on 127.0.0.1:4222, every append fsynced
// before its reply (group sync).
type Config struct {
	DataDir    string // embedded JetStream store; default ./purser-data
	NATSListen string // embedded server host:port; default 127.0.0.1:4222 (port 0 = random)
	RelaxFsync bool   // LOSES ACKNOWLEDGED CHANGES ON POWER LOSS; for benchmarks of the rest
	// ServerFsync makes the embedded server fsync every write itself
	// (`sync_interval: always`) and the journal share those fsyncs through
	// JetStream atomic batches (journal.ModeBatch), as it must against an
	// external server. By default the embedded server writes without
	// fsync and the journal makes each group of acknowledged appends
	// durable with one fsync of the stream's files
	// (journal.ModeGroupSync, embedded.StreamSync) before any is answered:
	// the same guarantee, a fraction of the cost (docs/journal.md).
	ServerFsync bool
	// BatchStagingDir (a tmpfs such as /dev/shm/purser-x) is where the
	// embedded server stages the journal's atomic batches; empty: on disk
	// under DataDir. Every message is still fsynced before its ack; see
	// docs/journal.md for the one thing given up and why the journal does
	// not need it. Roughly doubles durable appends.
	BatchStagingDir string

	// NATSURL connects to an existing NATS cluster instead of embedding one.
	NATSURL     string
	NATSOptions []nats.Option // credentials, nkey, user/password, TLS
	Replicas    int           // journal stream replicas when created; default 1

	Prefix string // API subject prefix; default "purser"
	// BesideAnother lets the node start while another Purser node serves
	// on the same NATS (alone.go): for tests of fencing between two live
	// nodes, never for serving.
	BesideAnother bool
	Runtime       actors.Config  // zero value: actors.DefaultConfig(); else as given (Now, Log default)
	Journal       journal.Config // zero fields: journal defaults
	Log           *zap.Logger
	// ObserveRequest, when set, sees every answered request (metrics).
	ObserveRequest func(api.Outcome)
	// JournalEcho also serves the load test's second floor
	// (journalecho.go). For benchmarks only: anyone who can publish to
	// the API can make it write.
	JournalEcho bool
}

// Node is a running node.
type Node struct {
	cfg     Config
	server  *embedded.Server // nil with NATSURL
	sync    *embedded.StreamSync
	nc      *nats.Conn
	journal *journal.Journal
	snaps   *snapshot.Store // nil when Config.Runtime brought its own store
	sys     *actors.System
	api     *api.Service
	echo    *journalEcho // nil unless Config.JournalEcho
	log     *zap.Logger
	// The start-up sweep (resume.go).
	stopResume context.CancelFunc
	resumed    chan struct{}
}

// Start brings a node up and returns once it answers requests.
func Start(ctx context.Context, cfg Config) (n *Node, err error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	switch {
	case reflect.ValueOf(cfg.Runtime).IsZero():
		rt := actors.DefaultConfig()
		rt.Log = cfg.Log
		cfg.Runtime = rt
	case cfg.Runtime.Now == nil:
		// A configured runtime keeps every setting it was given; only the
		// clock (and the logger, below) have a default here.
		cfg.Runtime.Now = time.Now
	}
	if cfg.Runtime.Log == nil {
		cfg.Runtime.Log = cfg.Log
	}
	// A failed start closes what it opened. Its returns set n to nil, so
	// the deferred close works on its own copy.
	node := &Node{cfg: cfg, log: cfg.Log}
	n = node
	defer func() {
		if err != nil {
			node.Close(context.Background())
		}
	}()
	url := cfg.NATSURL
	if url == "" {
		if n.server, err = startEmbedded(cfg); err != nil {
			return nil, err
		}
		url = n.server.ClientURL()
	}
	opts := append([]nats.Option{nats.Name("purser"), nats.MaxReconnects(-1)}, cfg.NATSOptions...)
	if n.nc, err = nats.Connect(url, opts...); err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	// Before anything is created or changed on the shared JetStream.
	if !cfg.BesideAnother {
		if err := alone(n.nc, n.log); err != nil {
			return nil, err
		}
	}
	js, err := jetstream.New(n.nc)
	if err != nil {
		return nil, err
	}
	jcfg := cfg.Journal
	jcfg.Logger = cfg.Log
	if groupSync(cfg) {
		if jcfg.Mode != journal.ModeBatch || jcfg.Sync != nil {
			return nil, fmt.Errorf("open journal: its mode is the node's with an embedded server (set ServerFsync or RelaxFsync to choose)")
		}
		n.sync = n.server.StreamSync(journalStream(cfg))
		jcfg.Mode, jcfg.Sync = journal.ModeGroupSync, n.sync.Sync
	}
	if jcfg.Replicas == 0 {
		jcfg.Replicas = cfg.Replicas
	}
	if n.journal, err = journal.New(ctx, js, jcfg); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if n.sync != nil {
		// What a crashed run wrote and never fsynced is back from the page
		// cache: durable before anything is read or answered from it.
		if err := n.sync.Sync(); err != nil {
			return nil, fmt.Errorf("open journal: %w", err)
		}
	}
	// Snapshots live beside the journal, on the same JetStream: activation
	// reads a wallet's latest image and the journal after it.
	if cfg.Runtime.Snapshots == nil {
		if n.snaps, err = snapshot.OpenJetStream(ctx, js, snapshot.Config{Replicas: jcfg.Replicas}); err != nil {
			return nil, fmt.Errorf("open snapshot store: %w", err)
		}
		// Every save publishes to the buckets: without the right to, a
		// node would serve, have each put denied, and wait out its
		// shutdown for them.
		for _, subject := range snapshot.ProbeSubjects("") {
			if err := journal.AwaitRoute(ctx, n.nc, subject, "the snapshot buckets", n.log); err != nil {
				return nil, fmt.Errorf("open snapshot store: %w", err)
			}
		}
		cfg.Runtime.Snapshots = n.snaps
	}
	if n.sys, err = actors.NewSystem(cfg.Runtime, n.journal); err != nil {
		return nil, err
	}
	if n.api, err = api.Start(n.nc, n.sys, n.journal, api.Config{Prefix: cfg.Prefix, Log: cfg.Log,
		Observe: cfg.ObserveRequest}); err != nil {
		return nil, fmt.Errorf("register the purser service: %w", err)
	}
	if cfg.JournalEcho {
		if err := n.startJournalEcho(ctx, js, jcfg); err != nil {
			return nil, fmt.Errorf("start the journal echo: %w", err)
		}
	}
	// The service's subscriptions reach the server asynchronously; a
	// round trip makes sure the server routes requests to them before this
	// node says it is ready (else a first request may find no responders).
	if err := n.nc.FlushTimeout(10 * time.Second); err != nil {
		return nil, fmt.Errorf("register the purser service: %w", err)
	}
	fsync := "the NATS server's (sync_interval; see docs/operations.md, Durability)"
	switch {
	case n.server != nil && cfg.ServerFsync:
		fsync = "server, every write"
	case n.sync != nil:
		fsync = "journal, every group of appends"
	case n.server != nil && cfg.RelaxFsync:
		fsync = "server interval: acknowledged changes can be lost on power loss"
	}
	n.log.Info("purser node ready", zap.String("nats", url), zap.Bool("embedded", n.server != nil),
		zap.String("fsync", fsync))
	n.resume()
	return n, nil
}

// groupSync: the journal fsyncs the embedded server's files itself.
func groupSync(cfg Config) bool {
	return cfg.NATSURL == "" && !cfg.RelaxFsync && !cfg.ServerFsync
}

func journalStream(cfg Config) string {
	if cfg.Journal.Stream != "" {
		return cfg.Journal.Stream
	}
	return journal.DefaultStream
}

func startEmbedded(cfg Config) (*embedded.Server, error) {
	listen := cfg.NATSListen
	if listen == "" {
		listen = "127.0.0.1:4222"
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--nats-listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("--nats-listen %q: bad port", listen)
	}
	if port == 0 {
		port = embedded.RandomPort
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "./purser-data"
	}
	// In group sync the journal fsyncs, not the server, and sends no
	// atomic batch to stage.
	ec := embedded.Config{DataDir: dir, Host: host, Port: port, RelaxFsync: cfg.RelaxFsync || groupSync(cfg),
		Logger: cfg.Log.Named("nats")}
	if cfg.BatchStagingDir != "" && !groupSync(cfg) {
		ec.BatchStagingDir, ec.StagedStreams = cfg.BatchStagingDir, []string{journalStream(cfg)}
	}
	return embedded.Start(ec)
}

// ClientURL is the URL clients use to reach this node's NATS.
func (n *Node) ClientURL() string { return n.nc.ConnectedUrl() }

// Conn is the node's NATS connection (readiness checks).
func (n *Node) Conn() *nats.Conn { return n.nc }

// System is the node's actor system (in-process callers, metrics).
func (n *Node) System() *actors.System { return n.sys }

// SnapshotStore is the snapshot store the node opened (its counters:
// Stats), or nil when Config.Runtime brought one.
func (n *Node) SnapshotStore() *snapshot.Store { return n.snaps }

// Journal is the node's journal.
func (n *Node) Journal() *journal.Journal { return n.journal }

// Close shuts down in order: stop taking requests, let every actor finish
// its mailbox (their appends complete and replies go out), close the
// journal, then the connection and the embedded server.
func (n *Node) Close(ctx context.Context) error {
	var errs []error
	if n.stopResume != nil {
		n.stopResume()
		<-n.resumed
	}
	if n.api != nil {
		errs = append(errs, n.api.Stop())
	}
	if n.echo != nil {
		errs = append(errs, n.echo.close(ctx))
	}
	if n.sys != nil {
		errs = append(errs, n.sys.Close(ctx))
	}
	if n.journal != nil {
		errs = append(errs, n.journal.Close(ctx))
	}
	if n.nc != nil {
		flushCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = n.nc.FlushWithContext(flushCtx)
		cancel()
		n.nc.Close()
	}
	if n.sync != nil {
		errs = append(errs, n.sync.Close())
	}
	if n.server != nil {
		// After a clean shutdown no batch is staged: the tmpfs copy is
		// spent. (After a crash it stays, for the server's repair.) It
		// goes before the data dir's lock does: a node starting on the
		// same dir stages in the same place.
		errs = append(errs, n.server.ShutdownWith(func() error {
			if n.cfg.BatchStagingDir != "" {
				return os.RemoveAll(n.cfg.BatchStagingDir)
			}
			return nil
		}))
	}
	return errors.Join(errs...)
}
