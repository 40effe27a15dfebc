package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/snapshot"
	"github.com/purser-dev/purser/transport/journal"
	"github.com/purser-dev/purser/transport/metrics"
	"github.com/purser-dev/purser/transport/node"
	"github.com/purser-dev/purser/transport/wire"
)

type serveFlags struct {
	dataDir, natsListen, natsURL, httpListen, prefix string
	relaxFsync, serverFsync, journalEcho             bool
	batchStaging                                     string
	journalInflight, journalMinBatch                 int
	replicas                                         int
	natsFlags
	logLevel, logFormat          string
	mailbox, maxBatch, maxActors int
	idleAfter, tickDelay         time.Duration
	shutdownTimeout              time.Duration
	gcPercent                    int
	gcPercentSet                 bool // by flag, PURSER_GC_PERCENT or config: beats GOGC
	// embeddedSet names the embedded server's settings given (by flag,
	// environment or config): moot with --nats-url, so serve says so.
	embeddedSet []string
}

func newServe() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Purser node (embedded NATS + JetStream by default)",
		Long: "Run a Purser node. With no flags: an embedded NATS server with JetStream on 127.0.0.1:4222,\n" +
			"file storage under ./purser-data, every change fsynced before its reply, metrics on http://127.0.0.1:9464/metrics.\n\n" +
			"Every setting below is a flag, an environment variable PURSER_<FLAG> (e.g. PURSER_DATA_DIR)\n" +
			"and a key of the --config YAML file (e.g. data-dir: /var/lib/purser); a flag beats the\n" +
			"environment, which beats the file, which beats the default shown.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.gcPercentSet = cmd.Flags().Changed("gc-percent")
			for _, name := range []string{"data-dir", "nats-listen", "relax-fsync", "server-fsync", "batch-staging-dir"} {
				if cmd.Flags().Changed(name) {
					f.embeddedSet = append(f.embeddedSet, "--"+name)
				}
			}
			return runServe(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "./purser-data", "directory of the embedded JetStream store")
	fl.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "host:port of the embedded NATS server")
	fl.StringVar(&f.natsURL, "nats-url", "", "use an existing NATS cluster at this URL instead of embedding one (also NATS_URL)")
	fl.StringVar(&f.httpListen, "http-listen", "127.0.0.1:9464", "host:port for /metrics, /healthz and /readyz (empty: off)")
	fl.StringVar(&f.prefix, "prefix", "purser", "subject prefix of the API")
	fl.BoolVar(&f.relaxFsync, "relax-fsync", false, "fsync on an interval, not every write: LOSES ACKNOWLEDGED CHANGES ON POWER LOSS")
	fl.BoolVar(&f.serverFsync, "server-fsync", false, "the embedded server fsyncs every write and the journal shares fsyncs through "+
		"JetStream atomic batches (default: the journal fsyncs the stream once per group of appends before answering any; same guarantee, faster)")
	fl.StringVar(&f.batchStaging, "batch-staging-dir", "auto", "tmpfs directory where the embedded server stages journal batches "+
		"(auto: /dev/shm/purser-<hash of data dir> if /dev/shm exists; off: stage on disk, about half the durable append rate)")
	fl.IntVar(&f.journalInflight, "journal-inflight", 0, "journal publishes (or atomic batches) awaiting their JetStream ack at once (0: the mode's default)")
	fl.IntVar(&f.journalMinBatch, "journal-min-batch", journal.DefaultMinBatch, "fewest appends worth an atomic batch (fewer go as plain fenced publishes)")
	fl.IntVar(&f.replicas, "replicas", 1, "replicas of the journal stream when Purser creates it (with --nats-url)")
	fl.BoolVar(&f.journalEcho, "bench-journal-echo", false, "for benchmarks only: also answer <prefix>.bench.v1.journal-echo.<key> by journaling "+
		"each request as the wallets' appends are and echoing it once durable (`purser loadtest --scenario journal-echo`; anyone who can "+
		"reach the API can make it write)")
	f.natsFlags.register(fl)
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error (no line per request at info)")
	fl.StringVar(&f.logFormat, "log-format", "auto", "json, console, or auto: console when stderr is a terminal, else json")
	def := actors.DefaultConfig()
	fl.IntVar(&f.mailbox, "mailbox", def.MailboxSize, "queued requests per wallet before overloaded")
	fl.IntVar(&f.maxBatch, "max-batch", def.MaxBatch, "requests decided per journal append")
	fl.IntVar(&f.maxActors, "max-wallets", def.MaxActors, "wallets held in memory at once")
	fl.DurationVar(&f.idleAfter, "idle-after", def.IdleAfter, "passivate a wallet idle this long with no open hold")
	fl.DurationVar(&f.tickDelay, "tick-delay", def.TickDelay, fmt.Sprintf("how long after a hold's or grant's expiry a wallet applies it itself when no request has "+
		"(0 to %s; a request always applies what is due first)", actors.MaxTickDelay))
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for mailboxes to drain")
	fl.IntVar(&f.gcPercent, "gc-percent", defaultGCPercent, "the Go collector's GOGC, with a soft memory limit at 80% of the machine's or cgroup's memory "+
		"(GOGC in the environment wins over this default, not over a value set; GOMEMLIMIT replaces the limit)")
	return cmd
}

func newLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usageError{err}
	}
	if format == "auto" {
		format = "json"
		if isTerminal(os.Stderr) {
			format = "console"
		}
	}
	cfg := zap.NewProductionConfig()
	switch format {
	case "json":
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.DisableStacktrace = true // a warning is not a crash; keep the console readable
	default:
		return nil, usageError{fmt.Errorf("--log-format must be auto, json or console, got %q", format)}
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	return cfg.Build()
}

// isTerminal reports whether f is a character device (a terminal), the
// stdlib way: operators at a shell read console logs, collectors get JSON.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runServe(ctx context.Context, f serveFlags) error {
	log, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	switch {
	case f.gcPercent < 1:
		return usageError{fmt.Errorf("--gc-percent must be positive, got %d", f.gcPercent)}
	case f.shutdownTimeout <= 0:
		return usageError{fmt.Errorf("--shutdown-timeout must be positive, got %s", f.shutdownTimeout)}
	case f.relaxFsync && f.serverFsync:
		return usageError{errors.New("--relax-fsync and --server-fsync exclude each other")}
	}
	if _, err := wire.NewSubjects(f.prefix); err != nil || f.prefix == "" {
		return usageError{fmt.Errorf("--prefix %q: one or more dot-separated tokens, no wildcards or whitespace", f.prefix)}
	}
	if f.natsURL == "" {
		f.natsURL = os.Getenv("NATS_URL")
	}
	rt := actors.DefaultConfig()
	rt.MailboxSize, rt.MaxBatch, rt.MaxActors, rt.IdleAfter, rt.Log = f.mailbox, f.maxBatch, f.maxActors, f.idleAfter, log
	rt.TickDelay = f.tickDelay
	if err := rt.Validate(); err != nil {
		return usageError{err}
	}
	jc := journal.Config{MaxInflight: f.journalInflight, MinBatch: f.journalMinBatch, Replicas: f.replicas}
	if err := jc.Validate(); err != nil {
		return usageError{err}
	}
	tuneGC(f.gcPercent, f.gcPercentSet, log) // the command line is good: from here the node starts
	if f.natsURL != "" && len(f.embeddedSet) > 0 {
		// A NATS_URL left in the environment turns an embedded setup into
		// a client of another server: say which settings that voids.
		log.Warn("connecting to an existing NATS: the embedded server's settings do nothing",
			zap.String("nats_url", f.natsURL), zap.Strings("ignored", f.embeddedSet))
	}
	natsOpts, err := f.options()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The HTTP server starts first: /healthz answers while the node comes
	// up, and /readyz says 503 until it answers requests.
	reg := newRegistry()
	m := metrics.New(reg)
	rt.Observe = m
	// The snapshot bucket's stream is KV_<bucket>.
	ready := &readiness{streams: []string{journal.DefaultStream, "KV_" + snapshot.Bucket}}
	var httpSrv *http.Server
	if f.httpListen != "" {
		if httpSrv, err = serveHTTP(f.httpListen, reg, ready, log); err != nil {
			return err
		}
	}
	n, err := node.Start(ctx, node.Config{DataDir: f.dataDir, NATSListen: f.natsListen, RelaxFsync: f.relaxFsync, ServerFsync: f.serverFsync,
		BatchStagingDir: stagingDir(f.batchStaging, f.dataDir),
		Journal:         jc,
		NATSURL:         f.natsURL, NATSOptions: natsOpts, Replicas: f.replicas, Prefix: f.prefix, Runtime: rt, Log: log,
		ObserveRequest: m.Request, JournalEcho: f.journalEcho})
	if err != nil {
		if httpSrv != nil {
			_ = httpSrv.Close()
		}
		return err
	}
	metrics.Snapshots(reg, n.System().SnapshotStats)
	if s := n.SnapshotStore(); s != nil {
		metrics.SnapshotStore(reg, s.Stats)
	}
	metrics.Journal(reg, n.Journal().Stats)
	metrics.Runtime(reg, n.System().Stats)
	ready.set(n.Conn())
	fmt.Fprintf(os.Stderr, "purser %s serving on %s (prefix %q)\n", version, n.ClientURL(), f.prefix)
	<-ctx.Done()
	// A second SIGINT or SIGTERM is the default's again: it ends the
	// process at once, for an operator who will not wait for the drain
	// (what is acknowledged is durable either way).
	stop()
	log.Info("shutting down: draining mailboxes (a second signal stops at once)")
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if httpSrv != nil {
		_ = httpSrv.Shutdown(sctx)
	}
	return n.Close(sctx)
}

// stagingDir resolves --batch-staging-dir: "auto" picks a directory on
// /dev/shm named after the data dir, so two nodes on one machine never
// share one; "off" or "" stages on disk.
func stagingDir(flag, dataDir string) string {
	switch flag {
	case "off", "":
		return ""
	case "auto":
		if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
			return ""
		}
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return ""
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(abs))
		return fmt.Sprintf("/dev/shm/purser-%016x", h.Sum64())
	}
	return flag
}
