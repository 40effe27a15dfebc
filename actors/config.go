package actors

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Config bounds the runtime. Every field has a default (DefaultConfig) and
// is checked in Validate; hitting a bound is a clear answer (overloaded),
// never unbounded memory.
type Config struct {
	Limits Limits // per wallet

	MailboxSize int           // queued requests per wallet; default 4,096; full = overloaded
	MaxBatch    int           // commands decided per journal append; default 512
	MaxActors   int           // live wallets in memory; default 200,000; full = overloaded
	IdleAfter   time.Duration // passivate a wallet idle this long with nothing due; default 5m
	// TickDelay is how long after a time-driven change (a hold's expiry,
	// a grant's) is due a wallet applies it on its own, when no request
	// has: SPEC §3 allows up to a second. A request applies what is due
	// at its time before it is decided, whatever the delay; so the delay
	// only lets a busy wallet journal its expiries with its requests, and
	// expiries that fall close together share one append, instead of each
	// taking an append of its own the instant it is due. Default and
	// most 500ms: the rest of the second is for an append in flight when
	// the timer fires and the Tick's own.
	TickDelay time.Duration
	// NegativeCacheSize bounds the cache of wallet ids known not to exist,
	// so a flood of unknown ids costs one journal read each, once.
	NegativeCacheSize int           // default 100,000
	NegativeCacheTTL  time.Duration // default 1m
	LoadTimeout       time.Duration // journal read on activation; default 30s

	// Snapshots, when set, makes activation read the wallet's latest image
	// and the journal after it instead of the whole journal. Images are
	// taken every SnapshotEvery journaled events (more for big wallets:
	// see snapshotSizeRatio), on passivation and on shutdown, and saved by
	// SnapshotWorkers goroutines, each with a queue of SnapshotQueue images;
	// a full queue skips an image, it never delays a decision.
	Snapshots       SnapshotStore // default nil: no snapshots
	SnapshotEvery   int           // default 1,000
	SnapshotWorkers int           // default 2
	SnapshotQueue   int           // images waiting per worker; default 8
	SnapshotTimeout time.Duration // one save; default 30s

	// Now stamps each command as it enters its actor. Default time.Now;
	// timers use the time package, so tests run under testing/synctest.
	Now func() time.Time
	Log *zap.Logger
	// Observe receives measurements for metrics; nil observes nothing.
	Observe Observer
}

// MaxTickDelay keeps TickDelay within the second SPEC §3 gives the runtime
// to apply a due change with no traffic.
const MaxTickDelay = 500 * time.Millisecond

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Limits:            DefaultLimits(),
		MailboxSize:       4096,
		MaxBatch:          512,
		MaxActors:         200_000,
		IdleAfter:         5 * time.Minute,
		TickDelay:         500 * time.Millisecond,
		NegativeCacheSize: 100_000,
		NegativeCacheTTL:  time.Minute,
		LoadTimeout:       30 * time.Second,
		SnapshotEvery:     1000,
		SnapshotWorkers:   2,
		SnapshotQueue:     8,
		SnapshotTimeout:   30 * time.Second,
		Now:               time.Now,
		Log:               zap.NewNop(),
	}
}

// Validate reports the first setting out of range.
func (c *Config) Validate() error {
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	switch {
	case c.MailboxSize < 1:
		return fmt.Errorf("MailboxSize must be >= 1, got %d", c.MailboxSize)
	case c.MaxBatch < 1:
		return fmt.Errorf("MaxBatch must be >= 1, got %d", c.MaxBatch)
	case c.MaxActors < 1:
		return fmt.Errorf("MaxActors must be >= 1, got %d", c.MaxActors)
	case c.IdleAfter <= 0:
		return fmt.Errorf("IdleAfter must be > 0, got %s", c.IdleAfter)
	case c.TickDelay < 0 || c.TickDelay > MaxTickDelay:
		return fmt.Errorf("TickDelay must be between 0 and %s, got %s", MaxTickDelay, c.TickDelay)
	case c.NegativeCacheSize < 0 || c.NegativeCacheTTL < 0:
		return fmt.Errorf("negative cache bounds must be >= 0")
	case c.LoadTimeout <= 0:
		return fmt.Errorf("config: LoadTimeout must be > 0")
	case c.SnapshotEvery < 1 || c.SnapshotWorkers < 1 || c.SnapshotQueue < 1 || c.SnapshotTimeout <= 0:
		return fmt.Errorf("config: SnapshotEvery, SnapshotWorkers, SnapshotQueue and SnapshotTimeout must be > 0")
	case c.Now == nil || c.Log == nil:
		return fmt.Errorf("config: Now and Log are required")
	}
	return nil
}
