package actors

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// SnapshotStore keeps the latest image of each wallet, so activation reads
// an image and the journal after it instead of the whole journal. The
// runtime defines it; package snapshot implements it on JetStream and in
// memory (and encodes images in its versioned format).
//
// A snapshot is only ever a shortcut: the journal stays the truth. An image
// that cannot be used is ignored and the wallet is rebuilt from the whole
// journal, so a store may lose or refuse images at any time.
type SnapshotStore interface {
	// Load returns wallet's latest image, or nil, nil when it has none.
	// An error means an image exists but cannot be used (corrupt, of an
	// unknown format version, unreadable).
	Load(ctx context.Context, wallet string) (*Image, error)
	// Save replaces img.Wallet's image. img is shared and MUST NOT be
	// modified. Its remembered ids may not be in IDs: read them with
	// IDRows (or Records).
	Save(ctx context.Context, img *Image) error
}

// snapshotSizeRatio stretches the snapshot period for big wallets: an image
// is taken after at least size/snapshotSizeRatio events (actor.snapshotPeriod),
// so copying a wallet with a million open holds costs the actor O(1) per
// event amortized, while the tail to replay stays a small fraction of the
// image.
const snapshotSizeRatio = 16

// snapshotter saves images off the actors' path: a fixed set of workers,
// each with a bounded queue. A wallet's images always go to the same worker,
// so they are saved in the order they were taken and a newer image is never
// overwritten by an older one of the same node.
type snapshotter struct {
	store   SnapshotStore
	timeout time.Duration
	log     *zap.Logger
	seed    maphash.Seed

	mu     sync.RWMutex // closed and the queues: offer vs close
	closed bool
	queues []chan snapJob
	wg     sync.WaitGroup

	saved, failed, skipped, loaded, rejected atomic.Uint64
	saveNanos                                atomic.Uint64
}

type snapJob struct {
	img  *Image
	done func() // nil, or called once the save has ended either way
}

// SnapshotStats are the snapshot counters since start.
type SnapshotStats struct {
	Saved    uint64 // images saved
	Failed   uint64 // saves the store refused or timed out
	Skipped  uint64 // images not taken because a worker queue was full
	Loaded   uint64 // activations from an image and the journal after it
	Rejected uint64 // images ignored (unusable or ahead of the journal): full replays
	// SaveTime is the time the workers spent in saves, failed ones too
	// (encoding and writing: the store's work).
	SaveTime time.Duration
}

func newSnapshotter(cfg Config, seed maphash.Seed) *snapshotter {
	p := &snapshotter{store: cfg.Snapshots, timeout: cfg.SnapshotTimeout, seed: seed,
		log: cfg.Log.Named("snapshots")}
	if p.store == nil {
		return p
	}
	p.queues = make([]chan snapJob, cfg.SnapshotWorkers)
	for i := range p.queues {
		q := make(chan snapJob, cfg.SnapshotQueue)
		p.queues[i] = q
		p.wg.Add(1)
		go p.work(q)
	}
	return p
}

func (p *snapshotter) enabled() bool { return p.store != nil }

// offer queues img for saving. Without wait it never blocks: a full queue
// skips the image (counted); with wait it blocks for room, for shutdown,
// when the actor has nothing left to decide. false: not queued.
func (p *snapshotter) offer(img *Image, done func(), wait bool) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	q := p.queues[maphash.String(p.seed, img.Wallet)%uint64(len(p.queues))]
	if wait {
		q <- snapJob{img, done}
		return true
	}
	select {
	case q <- snapJob{img, done}:
		return true
	default:
		p.skipped.Add(1)
		return false
	}
}

func (p *snapshotter) work(q <-chan snapJob) {
	defer p.wg.Done()
	for j := range q {
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		start := time.Now()
		err := p.store.Save(ctx, j.img)
		p.saveNanos.Add(uint64(time.Since(start)))
		cancel()
		if err != nil {
			p.failed.Add(1)
			p.log.Warn("snapshot save failed; the wallet will replay more journal on activation",
				zap.String("wallet", j.img.Wallet), zap.Uint64("pos", j.img.Pos), zap.Error(err))
		} else {
			p.saved.Add(1)
		}
		if j.done != nil {
			j.done()
		}
	}
}

// close stops taking images and waits until the queued ones are saved.
// Called once every actor has stopped.
func (p *snapshotter) close() {
	p.mu.Lock()
	if !p.closed && p.store != nil {
		for _, q := range p.queues {
			close(q)
		}
	}
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

// SnapshotStats returns the snapshot counters.
func (s *System) SnapshotStats() SnapshotStats {
	p := s.snaps
	return SnapshotStats{Saved: p.saved.Load(), Failed: p.failed.Load(), Skipped: p.skipped.Load(),
		Loaded: p.loaded.Load(), Rejected: p.rejected.Load(), SaveTime: time.Duration(p.saveNanos.Load())}
}
