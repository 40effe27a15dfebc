package snapshot

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/purser-dev/purser/actors"
)

// recorder saves a system's images to a store while on is set, and keeps
// the last one saved, and its format v3 encoding, for a benchmark to load
// again and again.
type recorder struct {
	store *Store
	on    atomic.Bool
	mu    sync.Mutex
	last  *actors.Image
	whole []byte
}

func (r *recorder) Load(context.Context, string) (*actors.Image, error) { return nil, nil }

func (r *recorder) Save(ctx context.Context, img *actors.Image) error {
	if !r.on.Load() {
		return nil
	}
	whole, err := Encode(img)
	if err != nil {
		return err
	}
	if err := r.store.Save(ctx, img); err != nil {
		return err
	}
	r.mu.Lock()
	r.last, r.whole = img, whole
	r.mu.Unlock()
	return nil
}

// segmentedWallet runs a wallet to its 100,000-id bound through a real
// System, so that its images are an actor's (their ids queued, stored in
// segments), and stops saving once one image is stored and ~500 events
// more are journaled: the journal, the stored image's blobs, and the same
// image in format v3.
var segmentedWallet = sync.OnceValue(func() (out struct {
	j     *bytesJournal
	blobs *MemBlobs
	whole []byte
}) {
	out.j = &bytesJournal{}
	store, blobs := NewMemStore()
	rec := &recorder{store: store}
	rec.on.Store(true)
	cfg := actors.DefaultConfig()
	cfg.Snapshots = rec
	s, err := actors.NewSystem(cfg, out.j)
	if err != nil {
		panic(err)
	}
	ask := func(c actors.Command) {
		if _, err := s.Ask(context.Background(), "hot", c); err != nil {
			panic(err)
		}
	}
	ask(actors.Grant{ID: "g", Amount: 1 << 50, Kind: "paid"})
	pair := func(i int) {
		id := fmt.Sprintf("r%d", i)
		ask(actors.Reserve{ID: id, Amount: 100, TTLms: 60_000})
		ask(actors.Settle{ID: "s" + id, HoldID: id, Actual: 60, Final: true})
	}
	i := 0
	for ; i < 55_000 || len(blobs.Segments()) == 0; i++ {
		if i > 200_000 {
			panic("no segment stored after 200,000 reserves")
		}
		pair(i)
	}
	// The next image stored is the one: then ~500 events of tail.
	rec.mu.Lock()
	first := rec.last
	rec.mu.Unlock()
	for ; ; i++ {
		if i > 200_000 {
			panic("no image stored after 200,000 reserves")
		}
		pair(i)
		rec.mu.Lock()
		done := rec.last != first
		rec.mu.Unlock()
		if done {
			break
		}
	}
	for range tailEvents / 2 {
		pair(i)
		i++
	}
	rec.on.Store(false)
	if err := s.Close(context.Background()); err != nil {
		panic(err)
	}
	out.blobs, out.whole = blobs, rec.whole
	return out
})

// BenchmarkColdActivationSegmented is BenchmarkColdActivation1MEvents'
// snapshot case for a wallet whose image came from its actor: 100,000
// remembered ids, the image ~500 events behind the journal's end, loaded
// whole (v3, its ids kept as the snapshot's columns) and from segments
// (v4, its ids joined into new columns). Issue 5's target is ≤ 5 ms p99.
func BenchmarkColdActivationSegmented(b *testing.B) {
	w := segmentedWallet()
	b.Logf("image: %d bytes whole; %d segments", len(w.whole), len(w.blobs.Segments()))
	// The same two, stored on an embedded JetStream server: the whole
	// image is an object of 6.7 MB, the segmented one a key-value entry
	// and its segments.
	ctx := context.Background()
	js := startJetStream(b)
	wholeJS, err := OpenJetStream(ctx, js, Config{Bucket: "COLD_WHOLE"})
	if err != nil {
		b.Fatal(err)
	}
	segmentedJS, err := OpenJetStream(ctx, js, Config{Bucket: "COLD_SEGMENTED"})
	if err != nil {
		b.Fatal(err)
	}
	if err := wholeJS.blobs.Put(ctx, "hot", w.whole); err != nil {
		b.Fatal(err)
	}
	image, _ := w.blobs.Get(ctx, "hot")
	if err := segmentedJS.blobs.Put(ctx, "hot", image); err != nil {
		b.Fatal(err)
	}
	slots, _ := w.blobs.SegmentSlots(ctx, "hot")
	for _, slot := range slots {
		data, _ := w.blobs.GetSegment(ctx, "hot", slot)
		if err := segmentedJS.blobs.PutSegment(ctx, "hot", slot, data); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		store actors.SnapshotStore
	}{{"whole", readOnly{w.whole}}, {"segmented", NewStore(w.blobs)},
		{"whole_on_jetstream", wholeJS}, {"segmented_on_jetstream", segmentedJS}} {
		b.Run(c.name, func(b *testing.B) { timeActivations(b, readOnlyStore{c.store}, w.j) })
	}
}

// readOnlyStore loads from its store and drops saves, so every activation
// starts from the same snapshot.
type readOnlyStore struct{ actors.SnapshotStore }

func (readOnlyStore) Save(context.Context, *actors.Image) error { return nil }
