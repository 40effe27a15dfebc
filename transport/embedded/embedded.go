// Package embedded runs a nats-server with JetStream inside the Purser
// process, for `purser serve` without --nats-url and for tests.
//
// Durability is the point of this package: by default the file store
// fsyncs every write (nats-server `sync_interval: always`), so a message
// JetStream acknowledged survives a crash or power loss (SPEC §7). Config
// RelaxFsync trades that away for speed and MUST be documented to users as
// "loses acknowledged changes on power loss".
package embedded

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// RandomPort asks the server to pick a free port (tests).
const RandomPort = server.RANDOM_PORT

// Config configures an embedded server. The zero value is not valid:
// DataDir is required.
type Config struct {
	// DataDir holds JetStream's file store (required).
	DataDir string
	// Host to listen on; default 127.0.0.1 (SPEC §9).
	Host string
	// Port to listen on; 0 means 4222, RandomPort picks a free one.
	Port int
	// RelaxFsync lets the file store fsync on the server's interval instead
	// of on every write. Acknowledged changes may be lost on power loss.
	RelaxFsync bool
	// ReadyTimeout bounds how long Start waits for the server to accept
	// clients; default 10s.
	ReadyTimeout time.Duration
	// ServerName names the server in JetStream (default "purser").
	ServerName string
	// MaxBatchInflightPerStream raises JetStream's limit of open atomic
	// batches per stream (server default 50); 0 keeps the default.
	MaxBatchInflightPerStream int
	// Logger receives the server's notices, warnings and errors; nil
	// silences it.
	Logger *zap.Logger
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return errors.New("embedded: DataDir is required")
	}
	if c.Port < RandomPort || c.Port > 65535 {
		return fmt.Errorf("embedded: bad port %d", c.Port)
	}
	if c.ReadyTimeout < 0 || c.MaxBatchInflightPerStream < 0 {
		return errors.New("embedded: negative ReadyTimeout or MaxBatchInflightPerStream")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 10 * time.Second
	}
	if c.ServerName == "" {
		c.ServerName = "purser"
	}
	return c
}

// Server is a running embedded nats-server.
type Server struct {
	ns *server.Server
}

// Start starts a server and waits until it accepts clients.
func Start(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		// SyncAlways is what `sync_interval: always` sets: the file store
		// flushes and fsyncs each write before JetStream acknowledges it.
		SyncAlways: !cfg.RelaxFsync,
		NoSigs:     true,
		NoLog:      cfg.Logger == nil,
		JetStreamLimits: server.JSLimitOpts{
			MaxBatchInflightPerStream: cfg.MaxBatchInflightPerStream,
		},
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: new server: %w", err)
	}
	if cfg.Logger != nil {
		ns.SetLoggerV2(&zapLogger{l: cfg.Logger.Sugar()}, false, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("embedded: server not ready within %s", cfg.ReadyTimeout)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, errors.New("embedded: JetStream did not start")
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the nats:// URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// NATS exposes the underlying server, for in-process connections and
// monitoring.
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server and waits until it has closed its store, so
// a restart on the same DataDir may follow at once.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// zapLogger adapts zap to nats-server's Logger. Debug and trace are off
// (Start passes false for both), so they map to Debug for completeness.
type zapLogger struct{ l *zap.SugaredLogger }

func (z *zapLogger) Noticef(format string, v ...any) { z.l.Infof(format, v...) }
func (z *zapLogger) Warnf(format string, v ...any)   { z.l.Warnf(format, v...) }
func (z *zapLogger) Fatalf(format string, v ...any)  { z.l.Errorf(format, v...) }
func (z *zapLogger) Errorf(format string, v ...any)  { z.l.Errorf(format, v...) }
func (z *zapLogger) Debugf(format string, v ...any)  { z.l.Debugf(format, v...) }
func (z *zapLogger) Tracef(format string, v ...any)  { z.l.Debugf(format, v...) }
