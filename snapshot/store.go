package snapshot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/purser-dev/purser/actors"
)

// Blobs keeps one encoded snapshot per wallet, and the wallet's id
// segments (segments.go) in numbered slots: the part of a store that
// differs between JetStream and memory. The bytes Get and GetSegment
// return are kept by the images decoded from them (their ids are views of
// them): neither the Store nor the implementation may write to them
// afterwards.
type Blobs interface {
	// Get returns wallet's snapshot, nil, nil when there is none.
	Get(ctx context.Context, wallet string) ([]byte, error)
	// Put replaces wallet's snapshot.
	Put(ctx context.Context, wallet string, data []byte) error
	// GetSegment returns the segment in wallet's slot, nil, nil when there
	// is none.
	GetSegment(ctx context.Context, wallet string, slot int) ([]byte, error)
	// PutSegment replaces the segment in wallet's slot.
	PutSegment(ctx context.Context, wallet string, slot int, data []byte) error
	// DeleteSegment empties wallet's slot.
	DeleteSegment(ctx context.Context, wallet string, slot int) error
	// SegmentSlots lists wallet's slots that hold a segment.
	SegmentSlots(ctx context.Context, wallet string) ([]int, error)
}

// Store is actors.SnapshotStore over Blobs: it encodes images on Save (on
// the runtime's snapshot workers, off the actors' path) and decodes and
// checks them on Load.
type Store struct {
	blobs Blobs
	// segRows, minSegmented and segLimit are segmentRows,
	// segmentedMinRows and segmentMaxBytes but in tests (a key-value
	// bucket also bounds segLimit).
	segRows, minSegmented, segLimit int

	mu   sync.Mutex
	segs map[string]*walletSegments // segstore.go
	// unknown are the wallets whose stored snapshot this store failed to
	// read: which slots it names is not known until one is stored.
	unknown map[string]bool

	bytes, referenced, segments atomic.Uint64
}

// StoreStats counts what Save has written.
type StoreStats struct {
	Bytes uint64 // snapshots and segments the blobs accepted
	// Segments counts segments written; RowsReferenced, remembered ids
	// that stored images referred to in segments instead of holding them.
	Segments, RowsReferenced uint64
}

// Stats returns the counters.
func (s *Store) Stats() StoreStats {
	return StoreStats{Bytes: s.bytes.Load(), Segments: s.segments.Load(), RowsReferenced: s.referenced.Load()}
}

var _ actors.SnapshotStore = (*Store)(nil)

// NewStore returns a Store keeping its snapshots in blobs.
func NewStore(blobs Blobs) *Store {
	return &Store{blobs: blobs, segRows: segmentRows, minSegmented: segmentedMinRows, segLimit: segmentMaxBytes,
		segs: make(map[string]*walletSegments), unknown: make(map[string]bool)}
}

// Load implements actors.SnapshotStore.
func (s *Store) Load(ctx context.Context, wallet string) (*actors.Image, error) {
	s.loadBegin(wallet)
	defer s.loadEnd(wallet)
	img, sg, err := s.read(ctx, wallet)
	s.mu.Lock()
	if err != nil {
		s.unknown[wallet] = true
	} else {
		delete(s.unknown, wallet)
	}
	s.mu.Unlock()
	if err != nil || img == nil {
		return nil, err
	}
	if sg != nil {
		if img.IDCols, err = s.joinSegments(ctx, wallet, sg); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// read gets and decodes wallet's stored snapshot (nil: none), leaving a
// v4 one's ids to join.
func (s *Store) read(ctx context.Context, wallet string) (*actors.Image, *segmentedIDs, error) {
	data, err := s.blobs.Get(ctx, wallet)
	if err != nil || data == nil {
		return nil, nil, err
	}
	img, sg, err := decode(data)
	if err != nil {
		return nil, nil, err
	}
	if img.Wallet != wallet {
		return nil, nil, fmt.Errorf("%w: stored under %s, of wallet %s", ErrCorrupt, wallet, img.Wallet)
	}
	return img, sg, nil
}

// Save implements actors.SnapshotStore.
func (s *Store) Save(ctx context.Context, img *actors.Image) error {
	c, rows, err := idSource(img)
	if err != nil {
		return fmt.Errorf("snapshot: wallet %s: %w", img.Wallet, err)
	}
	plan, err := s.planSegments(ctx, img.Wallet, rows)
	if err != nil {
		return err
	}
	data, err := encode(img, c, rows, plan)
	if err == nil {
		err = s.blobs.Put(ctx, img.Wallet, data)
	}
	stale, clear := s.settleSegments(img.Wallet, plan, err == nil)
	if err != nil {
		return err
	}
	s.bytes.Add(uint64(len(data)))
	s.referenced.Add(uint64(plan.rows()))
	if clear {
		s.clearSegments(ctx, img.Wallet, stale)
	}
	return nil
}

// MemBlobs keeps snapshots in memory, for tests: Raw and SetRaw let a test
// corrupt, truncate or forge what Load will read.
type MemBlobs struct {
	mu       sync.Mutex
	data     map[string][]byte
	segments map[string][]byte // by segmentKey
	puts     int
}

// NewMemStore returns a Store in memory and its blobs.
func NewMemStore() (*Store, *MemBlobs) {
	m := &MemBlobs{data: make(map[string][]byte), segments: make(map[string][]byte)}
	return NewStore(m), m
}

// segmentKey names a wallet's slot: the wallet's key, a dot (which no
// wallet id has) and the slot.
func segmentKey(wallet string, slot int) string { return wallet + ".s" + strconv.Itoa(slot) }

// segmentSlot returns the slot key names, if it is one of wallet's.
func segmentSlot(wallet, key string) (int, bool) {
	n, ok := strings.CutPrefix(key, wallet+".s")
	if !ok {
		return 0, false
	}
	slot, err := strconv.Atoi(n)
	return slot, err == nil && slot >= 0 && strconv.Itoa(slot) == n
}

// GetSegment implements Blobs.
func (m *MemBlobs) GetSegment(_ context.Context, wallet string, slot int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.segments[segmentKey(wallet, slot)], nil // see Get
}

// PutSegment implements Blobs.
func (m *MemBlobs) PutSegment(_ context.Context, wallet string, slot int, data []byte) error {
	m.SetSegment(wallet, slot, data)
	return nil
}

// DeleteSegment implements Blobs.
func (m *MemBlobs) DeleteSegment(_ context.Context, wallet string, slot int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.segments, segmentKey(wallet, slot))
	return nil
}

// SetSegment stores data in wallet's slot, as is.
func (m *MemBlobs) SetSegment(wallet string, slot int, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.segments[segmentKey(wallet, slot)] = slices.Clone(data)
}

// SegmentSlots implements Blobs.
func (m *MemBlobs) SegmentSlots(_ context.Context, wallet string) ([]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var slots []int
	for key := range m.segments {
		if slot, ok := segmentSlot(wallet, key); ok {
			slots = append(slots, slot)
		}
	}
	return slots, nil
}

// Segments lists the stored segments' keys, sorted.
func (m *MemBlobs) Segments() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.segments))
}

// Get implements Blobs.
// The bytes are the stored ones, not a copy: a Store only reads them
// (Raw copies), and every write here stores a copy, never writes in place,
// so what a load shares stays as it was.
func (m *MemBlobs) Get(_ context.Context, wallet string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[wallet], nil
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
