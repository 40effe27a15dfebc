package snapshot

// Benchmarks for docs/benchmarks.md, "Snapshots (issue 5)":
//
//	go test ./snapshot -run '^$' -bench . -benchtime 20x
//
// Cold activation uses an in-memory journal of encoded batches: filling
// JetStream with a million events per run would take minutes, and what the
// snapshot changes is the fold, not the transport. It keeps bytes, as
// JetStream does, not decoded events: a million live events would be a
// heap the collector marks during every activation measured.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

func BenchmarkEncodeDecode1000Holds(b *testing.B) {
	img := bigWallet(b, 1000).Image(1)
	data, _ := Encode(img)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		data, err := Encode(img)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImageAndRestore1000Holds(b *testing.B) {
	w := bigWallet(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := actors.FromImage(w.Image(1), actors.DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

// hotJournal is one wallet's journal of a million events (reserve, then
// settle, in batches of 100 commands, as an actor journals them) and an
// image of it taken tailEvents before the end.
type hotJournal struct {
	j   *bytesJournal
	img []byte
}

// bytesJournal is one wallet's journal as encoded batches, positions 1, 2, ...
type bytesJournal struct {
	mu      sync.Mutex
	batches [][]byte
}

func (j *bytesJournal) Append(_ string, prev uint64, evs []actors.Event, done func(uint64, error)) {
	data, err := actors.AppendEvents(nil, evs)
	if err != nil {
		done(0, err)
		return
	}
	j.mu.Lock()
	if prev != uint64(len(j.batches)) {
		j.mu.Unlock()
		done(0, actors.ErrFenced)
		return
	}
	j.batches = append(j.batches, data)
	pos := uint64(len(j.batches))
	j.mu.Unlock()
	done(pos, nil)
}

func (j *bytesJournal) Read(_ context.Context, _ string, from uint64, fn func(uint64, []actors.Event) error) (uint64, error) {
	j.mu.Lock()
	bs := j.batches
	j.mu.Unlock()
	last := from
	for i := from; i < uint64(len(bs)); i++ {
		evs, err := actors.DecodeEvents(bs[i])
		if err != nil {
			return last, err
		}
		if err := fn(i+1, evs); err != nil {
			return last, err
		}
		last = i + 1
	}
	return last, nil
}

const (
	hotEvents  = 1_000_000
	tailEvents = 500
)

var hot = sync.OnceValue(func() hotJournal {
	j := &bytesJournal{}
	w := actors.NewWallet("hot", actors.DefaultLimits())
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	var evs []actors.Event
	var pos uint64
	var img []byte
	exec := func(c actors.Command) {
		var err *actors.Error
		if evs, _, err = w.Execute(c, now, evs); err != nil {
			panic(err)
		}
	}
	flush := func() {
		if len(evs) == 0 {
			return // the runtime never journals an empty batch
		}
		j.Append("hot", pos, evs, func(p uint64, err error) {
			if err != nil {
				panic(err)
			}
			pos = p
		})
		evs = evs[:0]
	}
	exec(actors.Grant{ID: "g", Amount: 1 << 50, Kind: "paid"})
	for i, n := 0, 1; n < hotEvents; i++ {
		id := fmt.Sprintf("r%d", i)
		exec(actors.Reserve{ID: id, Amount: 100, TTLms: 60_000})
		exec(actors.Settle{ID: "s" + id, HoldID: id, Actual: 60, Final: true})
		n += 2
		if i%50 == 49 {
			flush()
			now = now.Add(time.Millisecond)
		}
		if img == nil && n >= hotEvents-tailEvents {
			flush()
			var err error
			if img, err = Encode(w.Image(pos)); err != nil {
				panic(err)
			}
		}
	}
	flush()
	return hotJournal{j: j, img: img}
})

// readOnly serves one image and drops saves, so every activation of the
// benchmark starts from the same snapshot.
type readOnly struct{ data []byte }

func (r readOnly) Load(context.Context, string) (*actors.Image, error) { return Decode(r.data) }
func (readOnly) Save(context.Context, *actors.Image) error             { return nil }

func BenchmarkColdActivation1MEvents(b *testing.B) {
	h := hot()
	for _, c := range []struct {
		name  string
		store actors.SnapshotStore
	}{{"full_replay", nil}, {"snapshot_and_tail", readOnly{h.img}}} {
		b.Run(c.name, func(b *testing.B) {
			timeActivations(b, c.store, h.j)
			b.ReportMetric(float64(len(h.img)), "snapshot-bytes")
		})
	}
}

// timeActivations activates wallet "hot" from store (nil: its whole
// journal) and j, once a benchmark iteration, in a new System each time,
// and reports the activations' p50 and p99. With a store, every
// activation must have loaded its snapshot.
func timeActivations(b *testing.B, store actors.SnapshotStore, j actors.Journal) {
	cfg := actors.DefaultConfig()
	cfg.Snapshots = store
	var took []time.Duration
	for b.Loop() {
		s, err := actors.NewSystem(cfg, j)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := s.Ask(context.Background(), "hot", actors.Balance{}); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		if st := s.SnapshotStats(); store != nil && st.Loaded != 1 {
			b.Fatalf("activation did not load the snapshot: %+v", st)
		}
		_ = s.Close(context.Background())
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[(len(took)*99)/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkDecodeAndRestoreHotWallet is the snapshot's share of a cold
// activation of the hot wallet (100,000 remembered ids): decode and check
// the snapshot, rebuild the wallet from it. No system, no journal tail.
func BenchmarkDecodeAndRestoreHotWallet(b *testing.B) {
	h := hot()
	b.SetBytes(int64(len(h.img)))
	b.ReportAllocs()
	for b.Loop() {
		img, err := Decode(h.img)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := actors.FromImage(img, actors.DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideOnARestoredWallet: a reserve and its settle on the hot
// wallet (100,000 remembered ids) restored from its snapshot — its ids
// frozen in columns, so each new id is probed in two indexes and each
// eviction is a frozen row — against the same wallet restored from
// records (as a v2 snapshot restored).
func BenchmarkDecideOnARestoredWallet(b *testing.B) {
	h := hot()
	img, err := Decode(h.img)
	if err != nil {
		b.Fatal(err)
	}
	records := *img
	if records.IDs, err = img.Records(); err != nil {
		b.Fatal(err)
	}
	records.IDCols = nil
	for _, c := range []struct {
		name string
		img  *actors.Image
	}{{"columns", img}, {"records", &records}} {
		b.Run(c.name, func(b *testing.B) {
			w, _, err := actors.FromImage(c.img, actors.DefaultLimits())
			if err != nil {
				b.Fatal(err)
			}
			now := time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC)
			var evs []actors.Event
			i := 0
			for b.Loop() {
				id := "b" + strconv.Itoa(i)
				i++
				var err *actors.Error
				if evs, _, err = w.Execute(actors.Reserve{ID: id, Amount: 100, TTLms: 60_000}, now, evs[:0]); err != nil {
					b.Fatal(err)
				}
				if evs, _, err = w.Execute(actors.Settle{ID: "s" + id, HoldID: id, Actual: 60, Final: true}, now, evs[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// capture keeps the first images a System's snapshot worker is handed:
// images as the actor takes them (their ids referenced in place, not
// copied), which no exported function returns.
type capture struct{ imgs chan *actors.Image }

func (capture) Load(context.Context, string) (*actors.Image, error) { return nil, nil }
func (c capture) Save(_ context.Context, img *actors.Image) error {
	select {
	case c.imgs <- img:
	default:
	}
	return nil
}

// hotImages are two successive images of a hot wallet, as a snapshot
// worker gets them: 100,000 remembered ids and about 25,000 open holds,
// the shape of issue 4's reserve-only bursts (docs/benchmarks.md); the
// second ~7,800 reserves after the first.
var hotImages = sync.OnceValue(func() [2]*actors.Image {
	j := &bytesJournal{}
	w := actors.NewWallet("hot", actors.DefaultLimits())
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	var evs []actors.Event
	var pos uint64
	flush := func() {
		j.Append("hot", pos, evs, func(p uint64, err error) {
			if err != nil {
				panic(err)
			}
			pos = p
		})
		evs = evs[:0]
	}
	exec := func(c actors.Command) {
		var err *actors.Error
		if evs, _, err = w.Execute(c, now, evs); err != nil {
			panic(err)
		}
		if len(evs) >= 100 {
			flush()
		}
	}
	exec(actors.Grant{ID: "g", Amount: 1 << 50, Kind: "paid"})
	for i := range 100_000 {
		id := fmt.Sprintf("req-%08d", i)
		exec(actors.Reserve{ID: id, Amount: 100, TTLms: 3_600_000})
		exec(actors.Settle{ID: "s" + id, HoldID: id, Actual: 60, Final: true})
	}
	for i := range 25_000 {
		exec(actors.Reserve{ID: fmt.Sprintf("open-%08d", i), Amount: 100, TTLms: 3_600_000})
	}
	if len(evs) > 0 {
		flush()
	}
	cfg := actors.DefaultConfig()
	cfg.Now = func() time.Time { return now }
	c := capture{imgs: make(chan *actors.Image, 2)}
	cfg.Snapshots = c
	s, err := actors.NewSystem(cfg, j)
	if err != nil {
		panic(err)
	}
	defer s.Close(context.Background())
	// Reserves settled at once: the open holds stay as they are, and each
	// queues two ids.
	for i := 0; len(c.imgs) < 2; i++ {
		id := fmt.Sprintf("more-%08d", i)
		if _, err := s.Ask(context.Background(), "hot", actors.Reserve{ID: id, Amount: 100, TTLms: 3_600_000}); err != nil {
			panic(err)
		}
		if _, err := s.Ask(context.Background(), "hot", actors.Settle{ID: "s" + id, HoldID: id, Actual: 60, Final: true}); err != nil {
			panic(err)
		}
	}
	return [2]*actors.Image{<-c.imgs, <-c.imgs}
})

// BenchmarkEncodeHotImage: what a snapshot worker spends encoding the hot
// wallet's periodic image: all of it (Encode, format v3), and as a Store
// writes it once the last image's segments are stored (format v4: the
// segments' rows referred to, not written; the new segments' own encoding,
// once each, is not in the loop).
func BenchmarkEncodeHotImage(b *testing.B) {
	imgs := hotImages()
	store, _ := NewMemStore()
	ctx := context.Background()
	if err := store.Save(ctx, imgs[0]); err != nil {
		b.Fatal(err)
	}
	c, rows, err := idSource(imgs[1])
	if err != nil {
		b.Fatal(err)
	}
	plan, err := store.planSegments(ctx, imgs[1].Wallet, rows)
	if err != nil {
		b.Fatal(err)
	}
	whole, err := Encode(imgs[1])
	if err != nil {
		b.Fatal(err)
	}
	data, err := encode(imgs[1], c, rows, plan)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d open holds, %d ids referenced; %d bytes whole, %d with %d of the ids in %d segments",
		len(imgs[1].Holds), rows.Len(), len(whole), len(data), plan.rows(), len(plan.refs))
	b.Run("whole", func(b *testing.B) {
		b.SetBytes(int64(len(whole)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(imgs[1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("segmented", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encode(imgs[1], c, rows, plan); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadHotImage: a cold activation's snapshot part for the hot
// wallet's image (25,000 open holds, 100,000 ids), loaded through a Store
// in memory and restored: in format v3, and in v4 with its ids in ~25
// segments, read (in memory: no round trips) and joined.
func BenchmarkLoadHotImage(b *testing.B) {
	img := hotImages()[1]
	ctx := context.Background()
	whole, wholeBlobs := NewMemStore()
	data, err := Encode(img)
	if err != nil {
		b.Fatal(err)
	}
	wholeBlobs.SetRaw(img.Wallet, data)
	segmented, blobs := NewMemStore()
	if err := segmented.Save(ctx, img); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d bytes whole; %d bytes and %d segments", len(data), len(blobs.Raw(img.Wallet)), len(blobs.Segments()))
	for _, c := range []struct {
		name  string
		store *Store
	}{{"whole", whole}, {"segmented", segmented}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				img, err := c.store.Load(ctx, img.Wallet)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := actors.FromImage(img, actors.DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadHotImageOnJetStream is BenchmarkLoadHotImage through the
// JetStream store on an embedded server: the hot wallet's image stored
// whole (v3: one 9.8 MB object) and segmented (v4: a 2.7 MB object and 24
// segment entries, read 8 at a time).
func BenchmarkLoadHotImageOnJetStream(b *testing.B) {
	img := hotImages()[1]
	js := startJetStream(b)
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		segmented bool
	}{{"whole", false}, {"segmented", true}} {
		store, err := OpenJetStream(ctx, js, Config{Bucket: "HOT_" + strings.ToUpper(c.name)})
		if err != nil {
			b.Fatal(err)
		}
		if !c.segmented {
			store.minSegmented = math.MaxInt
		}
		if err := store.Save(ctx, img); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				img, err := store.Load(ctx, img.Wallet)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := actors.FromImage(img, actors.DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
