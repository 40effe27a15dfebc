package journal

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Mode selects how appends reach JetStream.
type Mode int

const (
	// ModeBatch coalesces the appends pending across wallets into one
	// JetStream atomic batch: one durable write (one coalesced fsync) for
	// up to MaxBatch wallets, each message keeping its own subject and
	// fence. The default.
	ModeBatch Mode = iota
	// ModeSingle publishes each append as its own fenced message. The
	// fallback for servers without atomic publish (< 2.12), and the
	// baseline the benchmarks compare against.
	ModeSingle
	// ModeGroupSync publishes each append as its own fenced message to a
	// server that does not fsync each write, and acknowledges an append
	// only after Config.Sync, called after its publish was acked, has
	// made it durable: one fsync for every append acked meanwhile, with
	// no atomic batch in the way. It needs a Sync that reaches the
	// server's files, so it is for an embedded server
	// (embedded.StreamSync); docs/journal.md measures it against ModeBatch.
	ModeGroupSync
)

// Defaults. MaxBatch stays under nats-server's default atomic batch limit
// (1,000 messages); MaxInflight under its 50 open batches per stream.
const (
	DefaultStream      = "PURSER_JOURNAL"
	DefaultPrefix      = "purser.journal"
	DefaultPartitions  = 256
	DefaultMaxBatch    = 512
	DefaultMinBatch    = 16
	DefaultMaxInflight = 2
	DefaultMaxPending  = 1 << 16
	DefaultAckTimeout  = 5 * time.Second
	DefaultMaxAttempts = 5
)

// Config configures a Journal. Zero fields take the defaults above.
type Config struct {
	// Stream is the JetStream stream name.
	Stream string
	// Prefix is the subject prefix: wallets live on
	// <Prefix>.<partition>.<wallet>.
	Prefix string
	// Partitions is P, used only when the stream is created; an existing
	// stream's value (kept in its metadata) wins, so the wallet→partition
	// map never changes under a running cluster.
	Partitions uint32
	// Replicas is the stream's replica count when it is created.
	Replicas int
	// Mode chooses batched or single-message appends.
	Mode Mode
	// MaxBatch bounds the appends (one per wallet) in one atomic batch.
	MaxBatch int
	// MinBatch is the fewest appends worth an atomic batch; with fewer
	// waiting, ModeBatch sends one plain fenced publish instead. 1
	// batches whatever is waiting.
	MinBatch int
	// MaxInflight bounds the batches (ModeBatch) or messages (ModeSingle)
	// awaiting their JetStream ack. Pipelining lets the next batch fill
	// while the server fsyncs the previous one.
	MaxInflight int
	// MaxPending bounds appends queued and not yet sent; Append beyond it
	// fails at once with ErrOverloaded (nothing was written).
	MaxPending int
	// AckTimeout is how long a sent batch waits for its ack before its
	// outcome is treated as unknown and resolved by reading the journal.
	AckTimeout time.Duration
	// MaxAttempts bounds how often an append is resent after the server
	// definitively refused its batch for a reason no wallet explains;
	// then it fails with that error. Unknown outcomes are never given up
	// on this way: they are resolved until the journal closes.
	MaxAttempts int
	// Sync, required by ModeGroupSync and unused otherwise, returns once
	// every message the server acknowledged before the call is on stable
	// storage. An error is permanent: the journal then fails every append
	// that Sync was to cover, and every later one.
	Sync func() error
	// Logger receives warnings (fences, retries); nil discards them.
	Logger *zap.Logger
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MinBatch == 0 {
		c.MinBatch = DefaultMinBatch
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
		if c.Mode != ModeBatch {
			c.MaxInflight = 4096
		}
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports what New would refuse in c (its zero fields taking
// their defaults), so that a command line is checked before anything
// starts. Sync and Mode are the caller's to pair, as New checks.
func (c Config) Validate() error { return c.withDefaults().validate() }

func (c Config) validate() error {
	switch {
	case c.Mode != ModeBatch && c.Mode != ModeSingle && c.Mode != ModeGroupSync:
		return fmt.Errorf("journal: unknown mode %d", c.Mode)
	case (c.Mode == ModeGroupSync) != (c.Sync != nil):
		return errors.New("journal: ModeGroupSync needs Sync, and only it uses one")
	case c.Mode == ModeGroupSync && c.Replicas != 1:
		// A replicated file store buffers writes past the ack (AsyncFlush):
		// an fsync of its files would not cover what it acknowledged.
		return fmt.Errorf("journal: ModeGroupSync needs a single-replica stream, not %d replicas", c.Replicas)
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("journal: replicas %d not in 1..5", c.Replicas)
	case c.MaxBatch < 1 || c.MaxBatch > 1000:
		return fmt.Errorf("journal: MaxBatch %d not in 1..1000 (server limit)", c.MaxBatch)
	case c.MinBatch < 1 || c.MinBatch > c.MaxBatch:
		return fmt.Errorf("journal: MinBatch %d not in 1..MaxBatch", c.MinBatch)
	case c.MaxInflight < 1:
		return errors.New("journal: MaxInflight must be positive")
	case c.Mode == ModeBatch && c.MaxInflight > 50:
		return fmt.Errorf("journal: MaxInflight %d above the server's 50 open batches per stream", c.MaxInflight)
	case c.MaxPending < 1:
		return errors.New("journal: MaxPending must be positive")
	case c.AckTimeout < 0 || c.MaxAttempts < 1:
		return errors.New("journal: bad AckTimeout or MaxAttempts")
	}
	return nil
}
