package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/node"
)

type serveFlags struct {
	dataDir, natsListen, natsURL, httpListen, prefix string
	relaxFsync                                       bool
	replicas                                         int
	creds, nkey, user, password                      string
	tlsCA, tlsCert, tlsKey                           string
	logLevel, logFormat                              string
	mailbox, maxBatch, maxActors                     int
	idleAfter                                        time.Duration
	shutdownTimeout                                  time.Duration
}

func newServe() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Purser node (embedded NATS + JetStream by default)",
		Long: "Run a Purser node. With no flags: an embedded NATS server with JetStream on 127.0.0.1:4222,\n" +
			"file storage under ./purser-data, fsync on every write. Every flag can also be set in the\n" +
			"environment as PURSER_<FLAG> (e.g. PURSER_DATA_DIR).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
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
	fl.IntVar(&f.replicas, "replicas", 1, "replicas of the journal stream when Purser creates it (with --nats-url)")
	fl.StringVar(&f.creds, "creds", "", "NATS credentials file")
	fl.StringVar(&f.nkey, "nkey", "", "NATS nkey seed file")
	fl.StringVar(&f.user, "user", "", "NATS user")
	fl.StringVar(&f.password, "password", "", "NATS password")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificate to verify the NATS server")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "client certificate for NATS")
	fl.StringVar(&f.tlsKey, "tls-key", "", "client key for NATS")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.logFormat, "log-format", "json", "json or console")
	def := actors.DefaultConfig()
	fl.IntVar(&f.mailbox, "mailbox", def.MailboxSize, "queued requests per wallet before overloaded")
	fl.IntVar(&f.maxBatch, "max-batch", def.MaxBatch, "requests decided per journal append")
	fl.IntVar(&f.maxActors, "max-wallets", def.MaxActors, "wallets held in memory at once")
	fl.DurationVar(&f.idleAfter, "idle-after", def.IdleAfter, "passivate a wallet idle this long with no open hold")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for mailboxes to drain")
	return cmd
}

func newLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usageError{err}
	}
	cfg := zap.NewProductionConfig()
	if format == "console" {
		cfg = zap.NewDevelopmentConfig()
	} else if format != "json" {
		return nil, usageError{fmt.Errorf("--log-format must be json or console, got %q", format)}
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	return cfg.Build()
}

func (f serveFlags) natsOptions() []nats.Option {
	var o []nats.Option
	if f.creds != "" {
		o = append(o, nats.UserCredentials(f.creds))
	}
	if f.nkey != "" {
		if opt, err := nats.NkeyOptionFromSeed(f.nkey); err == nil {
			o = append(o, opt)
		}
	}
	if f.user != "" {
		o = append(o, nats.UserInfo(f.user, f.password))
	}
	if f.tlsCA != "" {
		o = append(o, nats.RootCAs(f.tlsCA))
	}
	if f.tlsCert != "" {
		o = append(o, nats.ClientCert(f.tlsCert, f.tlsKey))
	}
	return o
}

func runServe(ctx context.Context, f serveFlags) error {
	log, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	if f.natsURL == "" {
		f.natsURL = os.Getenv("NATS_URL")
	}
	rt := actors.DefaultConfig()
	rt.MailboxSize, rt.MaxBatch, rt.MaxActors, rt.IdleAfter, rt.Log = f.mailbox, f.maxBatch, f.maxActors, f.idleAfter, log
	if err := rt.Validate(); err != nil {
		return usageError{err}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	n, err := node.Start(ctx, node.Config{DataDir: f.dataDir, NATSListen: f.natsListen, RelaxFsync: f.relaxFsync,
		NATSURL: f.natsURL, NATSOptions: f.natsOptions(), Replicas: f.replicas, Prefix: f.prefix, Runtime: rt, Log: log})
	if err != nil {
		return err
	}
	var httpSrv *http.Server
	if f.httpListen != "" {
		if httpSrv, err = serveHTTP(f.httpListen, log); err != nil {
			_ = n.Close(context.Background())
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "purser %s serving on %s (prefix %q)\n", version, n.ClientURL(), f.prefix)
	<-ctx.Done()
	log.Info("shutting down: draining mailboxes")
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if httpSrv != nil {
		_ = httpSrv.Shutdown(sctx)
	}
	return n.Close(sctx)
}

func serveHTTP(addr string, log *zap.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	// The node answers requests once Start returned, which is before this
	// server starts.
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ready\n")) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http-listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", zap.Error(err))
		}
	}()
	return srv, nil
}
