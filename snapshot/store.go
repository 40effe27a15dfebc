package snapshot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/purser-dev/purser/actors"
)

// Blobs keeps one encoded snapshot per wallet: the part of a store that
// differs between JetStream and memory.
type Blobs interface {
	// Get returns wallet's snapshot, nil, nil when there is none.
	Get(ctx context.Context, wallet string) ([]byte, error)
	// Put replaces wallet's snapshot.
	Put(ctx context.Context, wallet string, data []byte) error
}

// Store is actors.SnapshotStore over Blobs: it encodes images on Save (on
// the runtime's snapshot workers, off the actors' path) and decodes and
// checks them on Load.
type Store struct {
	blobs Blobs

	mu sync.Mutex
	// ids holds the id columns of the last snapshot saved of at most
	// cachedWallets wallets with at least cacheRows queued ids: the next
	// snapshot of each copies the rows they still share (idcache.go).
	ids   map[string]*idCache
	saves uint64 // keep's count, under mu
	// minCached is cacheRows but in tests.
	minCached     int
	bytes, copied atomic.Uint64
}

// StoreStats counts what Save has written.
type StoreStats struct {
	Bytes      uint64 // encoded snapshots the blobs accepted
	RowsCopied uint64 // remembered ids copied from a wallet's last snapshot, not encoded again (idcache.go)
}

// Stats returns the counters.
func (s *Store) Stats() StoreStats {
	return StoreStats{Bytes: s.bytes.Load(), RowsCopied: s.copied.Load()}
}

// A cache's id columns stay in memory until the wallet's next snapshot
// (~10 MB for a wallet at its 100,000-id bound), so only a few wallets, the
// ones where re-encoding costs the most, have one. A wallet that has
// passivated keeps its entry until another needs the room (the one saved
// longest ago goes): its next actor's rows are another table's
// (IDRows.Origin), which nothing copies.
const (
	cacheRows     = 8192
	cachedWallets = 4
)

var _ actors.SnapshotStore = (*Store)(nil)

// NewStore returns a Store keeping its snapshots in blobs.
func NewStore(blobs Blobs) *Store { return &Store{blobs: blobs, minCached: cacheRows} }

// Load implements actors.SnapshotStore.
func (s *Store) Load(ctx context.Context, wallet string) (*actors.Image, error) {
	data, err := s.blobs.Get(ctx, wallet)
	if err != nil || data == nil {
		return nil, err
	}
	img, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if img.Wallet != wallet {
		return nil, fmt.Errorf("%w: stored under %s, of wallet %s", ErrCorrupt, wallet, img.Wallet)
	}
	return img, nil
}

// Save implements actors.SnapshotStore.
func (s *Store) Save(ctx context.Context, img *actors.Image) error {
	s.mu.Lock()
	cache := s.ids[img.Wallet]
	s.mu.Unlock()
	data, l, err := encode(img, cache)
	if err != nil {
		return err
	}
	s.copied.Add(uint64(l.reused))
	s.keep(img.Wallet, data, l)
	if err := s.blobs.Put(ctx, img.Wallet, data); err != nil {
		return err
	}
	s.bytes.Add(uint64(len(data)))
	return nil
}

// keep makes data's id columns wallet's cache, if it has enough queued ids
// to be worth one; else it drops the wallet's cache.
func (s *Store) keep(wallet string, data []byte, l idLayout) {
	var c *idCache
	if l.n-l.refsRow >= s.minCached {
		c = l.cache(data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		delete(s.ids, wallet)
		return
	}
	if s.ids == nil {
		s.ids = make(map[string]*idCache)
	}
	s.saves++
	c.saved = s.saves
	if _, ok := s.ids[wallet]; !ok && len(s.ids) >= cachedWallets {
		// The wallet whose snapshot is the oldest makes room: a hot
		// wallet saves again within a second, an idle one never.
		oldest := ""
		for w, e := range s.ids {
			if oldest == "" || e.saved < s.ids[oldest].saved {
				oldest = w
			}
		}
		delete(s.ids, oldest)
	}
	s.ids[wallet] = c
}

// MemBlobs keeps snapshots in memory, for tests: Raw and SetRaw let a test
// corrupt, truncate or forge what Load will read.
type MemBlobs struct {
	mu   sync.Mutex
	data map[string][]byte
	puts int
}

// NewMemStore returns a Store in memory and its blobs.
func NewMemStore() (*Store, *MemBlobs) {
	m := &MemBlobs{data: make(map[string][]byte)}
	return NewStore(m), m
}

// Get implements Blobs.
func (m *MemBlobs) Get(_ context.Context, wallet string) ([]byte, error) {
	return m.Raw(wallet), nil
}

// Put implements Blobs.
func (m *MemBlobs) Put(_ context.Context, wallet string, data []byte) error {
	m.SetRaw(wallet, data)
	m.mu.Lock()
	m.puts++
	m.mu.Unlock()
	return nil
}

// Raw returns a copy of wallet's stored bytes (nil: none).
func (m *MemBlobs) Raw(wallet string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.data[wallet])
}

// SetRaw stores data as wallet's snapshot, as is.
func (m *MemBlobs) SetRaw(wallet string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[wallet] = slices.Clone(data)
}

// Puts counts the snapshots saved through Put.
func (m *MemBlobs) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}

// Wallets lists the wallets with a snapshot, sorted.
func (m *MemBlobs) Wallets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.data))
}
