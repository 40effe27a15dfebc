// Package embedded runs a nats-server with JetStream inside the Purser
// process, for `purser serve` without --nats-url and for tests.
//
// Durability is the point of this package: by default the file store
// fsyncs every write (nats-server `sync_interval: always`), so a message
// JetStream acknowledged survives a crash or power loss (SPEC §7). Config
// RelaxFsync trades that away for speed and MUST be documented to users as
// "loses acknowledged changes on power loss" — unless whoever
// acknowledges makes the writes durable itself first: StreamSync does
// that for one stream, one fsync for many messages (the journal's group
// commit).
package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	// BatchStagingDir, when set, is where the server stages the atomic
	// batches of the streams named in StagedStreams, instead of a fresh
	// on-disk file store per batch under DataDir. Meant for a tmpfs
	// (/dev/shm): nats-server 2.15 stages every R1 file-backed atomic
	// batch in a new file store (mkdir, synced meta files, flush, remove)
	// at a fixed cost of milliseconds, against one fsync for the commit
	// itself. The commit into the stream is unchanged: all messages are
	// written and fsynced before the ack. What is given up is only the
	// server's own repair of a commit cut by a power loss (it completes a
	// partial batch from the staging copy on restart): after a power loss
	// mid-commit, part of an unacknowledged batch may be stored. Use it
	// only for streams whose messages are each valid alone, like Purser's
	// journal (one message per wallet, each fenced on its own subject,
	// unacknowledged outcomes resolved by reading). One server per
	// directory: staging lives in BatchStagingDir/<stream>.
	BatchStagingDir string
	// StagedStreams names the streams (in the default account) whose
	// atomic batches are staged in BatchStagingDir.
	StagedStreams []string
	// Logger receives the server's notices, warnings and errors; nil
	// silences it.
	Logger *zap.Logger
	// MaxPayload is the server's max_payload in bytes: the largest message,
	// headers included, a client may send or be sent. Default
	// DefaultMaxPayload; tests set less.
	MaxPayload int32
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return errors.New("embedded: DataDir is required")
	}
	if c.Port < RandomPort || c.Port > 65535 {
		return fmt.Errorf("embedded: bad port %d", c.Port)
	}
	if c.ReadyTimeout < 0 || c.MaxBatchInflightPerStream < 0 || c.MaxPayload < 0 {
		return errors.New("embedded: negative ReadyTimeout, MaxBatchInflightPerStream or MaxPayload")
	}
	if len(c.StagedStreams) > 0 && c.BatchStagingDir == "" {
		return errors.New("embedded: StagedStreams needs BatchStagingDir")
	}
	for _, st := range c.StagedStreams {
		if st == "" || strings.ContainsAny(st, "/\\. *>") {
			return fmt.Errorf("embedded: bad stream name %q", st)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 10 * time.Second
	}
	if c.ServerName == "" {
		c.ServerName = "purser"
	}
	return c
}

// DefaultMaxPayload is the embedded server's max_payload unless
// Config.MaxPayload says otherwise.
const DefaultMaxPayload = 8 << 20

// Server is a running embedded nats-server.
type Server struct {
	ns      *server.Server
	dataDir string
	lock    *os.File // the data dir's, held until Shutdown (nil: the file system has no locks)
}

// Start starts a server and waits until it accepts clients.
func Start(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	lock, err := lockDataDir(cfg.DataDir)
	switch {
	case errors.Is(err, errNoLocks):
		if cfg.Logger != nil {
			cfg.Logger.Warn("embedded: the data dir's file system has no locks: nothing stops a second server on it", zap.Error(err))
		}
	case err != nil:
		return nil, err
	}
	started := false
	defer func() {
		if !started && lock != nil {
			lock.Close()
		}
	}()
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
		// Replies can outgrow NATS's default 1 MiB: a settle or debit lists
		// up to 10,000 allocations (1.64 MB of JSON, 1.53 MB of msgpack,
		// with 128-byte grant ids: measured), a balance every grant with its meta. 8 MiB is NATS's own
		// advised ceiling; the node answers limit_exceeded for a reply
		// past it rather than let the server drop it.
		MaxPayload: cfg.MaxPayload,
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
	// The server recovered its streams during Start and removed their
	// batch directories (links included), so staging is set up afresh.
	for _, st := range cfg.StagedStreams {
		if err := stageBatches(cfg.DataDir, cfg.BatchStagingDir, st); err != nil {
			ns.Shutdown()
			ns.WaitForShutdown()
			return nil, err
		}
	}
	started = true
	return &Server{ns: ns, dataDir: cfg.DataDir, lock: lock}, nil
}

// stageBatches makes <stream dir>/batches a link to stagingDir/<stream>.
// The stream directory may not exist yet: the server creates the stream
// in it later and keeps what is there. The layout
// (jetstream/<account>/streams/<stream>/batches) is nats-server's
// (2.15: filestore.go batchesDir, jetstream_batching.go getBatchStoreDir);
// if it changed, staging would silently go back to disk, which is only
// slower.
func stageBatches(dataDir, stagingDir, stream string) error {
	streamDir := filepath.Join(dataDir, "jetstream", globalAccount, "streams", stream)
	link := filepath.Join(streamDir, "batches")
	target, err := filepath.Abs(filepath.Join(stagingDir, stream))
	if err != nil {
		return fmt.Errorf("embedded: staging dir: %w", err)
	}
	if cur, err := os.Readlink(link); err == nil && cur == target {
		// Left from a run whose restart did not remove it (the stream did
		// not exist then); the server already read what it needed.
		return os.MkdirAll(target, 0o750)
	}
	// Staged copies of batches from before the restart are spent: the
	// server completed any partial commit from them while starting.
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("embedded: clear staging dir: %w", err)
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return fmt.Errorf("embedded: staging dir: %w", err)
	}
	if err := os.MkdirAll(streamDir, 0o750); err != nil {
		return fmt.Errorf("embedded: stream dir: %w", err)
	}
	// Remove refuses a non-empty directory: a batch already being staged
	// on disk is never pulled from under the server.
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("embedded: cannot stage batches of %s: %w", stream, err)
	}
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("embedded: stage batches of %s: %w", stream, err)
	}
	return nil
}

// globalAccount is the account of a server without accounts configured.
const globalAccount = "$G"

// ClientURL is the nats:// URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// NATS exposes the underlying server, for in-process connections and
// monitoring.
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server, waits until it has closed its store and
// frees the data dir, so a restart on the same DataDir may follow at once.
func (s *Server) Shutdown() { _ = s.ShutdownWith(nil) }

// ShutdownWith stops the server, runs cleanup (what must be done before
// another server may use the data dir) if not nil, then frees the data
// dir. It returns cleanup's error.
func (s *Server) ShutdownWith(cleanup func() error) error {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	var err error
	if cleanup != nil {
		err = cleanup()
	}
	if s.lock != nil {
		s.lock.Close() // the data dir is free once the store is closed
	}
	return err
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
