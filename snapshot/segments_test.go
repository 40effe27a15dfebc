package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/purser-dev/purser/actors"
)

// faultyBlobs fails puts and gets on schedules: each put takes the next
// fault, round and round (0: none; 1: refused, nothing stored; 2: stored,
// then an error, as a put whose ack was lost), and each get the next of
// gets (0: none; else an error).
type faultyBlobs struct {
	*MemBlobs
	faults, gets []int
	n, g         atomic.Int64
}

var errInjected = errors.New("injected put failure")

func (f *faultyBlobs) fault() int { return next(f.faults, &f.n) }

func next(faults []int, n *atomic.Int64) int {
	if len(faults) == 0 {
		return 0
	}
	return faults[int(n.Add(1)-1)%len(faults)]
}

func (f *faultyBlobs) put(store func()) error {
	switch f.fault() {
	case 1:
		return errInjected
	case 2:
		store()
		return errInjected
	}
	store()
	return nil
}

// Get fails when its fault is not 0: a load that cannot read the stored
// snapshot.
func (f *faultyBlobs) Get(ctx context.Context, wallet string) ([]byte, error) {
	if next(f.gets, &f.g) != 0 {
		return nil, errInjected
	}
	return f.MemBlobs.Get(ctx, wallet)
}

func (f *faultyBlobs) Put(ctx context.Context, wallet string, data []byte) error {
	return f.put(func() { _ = f.MemBlobs.Put(ctx, wallet, data) })
}

func (f *faultyBlobs) PutSegment(ctx context.Context, wallet string, slot int, data []byte) error {
	return f.put(func() { _ = f.MemBlobs.PutSegment(ctx, wallet, slot, data) })
}

// loadChecked is a Store that, after each save, loads the wallet back and
// checks that it is the image saved (or, when the save failed, the image
// saved before it or this one: a failed put may have landed), compared as
// format v3 holds it.
type loadChecked struct {
	store atomic.Pointer[Store]
	blobs Blobs // the store's, without faults
	mu    sync.Mutex
	last  map[string]*actors.Image // the normalised image the wallet's stored one must be
	bad   []string
}

func (s *loadChecked) Load(ctx context.Context, wallet string) (*actors.Image, error) {
	return s.store.Load().Load(ctx, wallet)
}

func (s *loadChecked) Save(ctx context.Context, img *actors.Image) error {
	want, err := Encode(img)
	if err != nil {
		return err
	}
	wantImg, err := Decode(want)
	if err != nil {
		return err
	}
	saveErr := s.store.Load().Save(ctx, img)
	// Read through a store of its own, so that the load does not tell the
	// store under test which slots the stored image refers to.
	got, err := NewStore(s.blobs).Load(ctx, img.Wallet)
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.last[img.Wallet]
	switch {
	case err != nil || got == nil && saveErr == nil:
		s.bad = append(s.bad, fmt.Sprintf("%s at %d: load after save (%v): %v", img.Wallet, img.Pos, saveErr, err))
	case got != nil && reflect.DeepEqual(norm(got), norm(wantImg)):
		s.last[img.Wallet] = norm(wantImg)
	case saveErr != nil && (prev == nil && got == nil || prev != nil && got != nil && reflect.DeepEqual(norm(got), prev)):
		// The failed save did not land: the stored image is the last one.
	default:
		s.bad = append(s.bad, fmt.Sprintf("%s at %d (save: %v): loads as another image", img.Wallet, img.Pos, saveErr))
	}
	return saveErr
}

// Whatever happens between two snapshots — ids queued and evicted, holds
// closed, lapsed and settled late (a status that changes in a stored
// segment), restarts of the node (its store's bookkeeping lost, each wallet
// back from a segmented snapshot), puts that fail or land without an ack,
// loads that fail (the wallet rebuilt from its journal, the slots its
// stored snapshot names unknown) —
// the wallet's stored snapshot loads as the last image stored, ids
// included, with small segments so that images refer to segments written
// by earlier ones and the first segment's oldest rows are evicted.
func TestSegmentedSnapshotsLoadAsTheirImage(t *testing.T) {
	var referenced, segmented atomic.Uint64
	rapid.Check(t, func(rt *rapid.T) {
		blobs := &faultyBlobs{MemBlobs: &MemBlobs{data: map[string][]byte{}, segments: map[string][]byte{}},
			faults: rapid.SliceOfN(rapid.SampledFrom([]int{0, 0, 0, 1, 2}), 0, 40).Draw(rt, "faults"),
			gets:   rapid.SliceOfN(rapid.SampledFrom([]int{0, 0, 0, 1}), 0, 10).Draw(rt, "get_faults")}
		segRows := rapid.IntRange(1, 5).Draw(rt, "segment_rows")
		newStore := func() *Store {
			s := NewStore(blobs)
			s.segRows, s.minSegmented = segRows, rapid.IntRange(1, 3*segRows).Draw(rt, "min_segmented")
			s.segLimit = rapid.SampledFrom([]int{segmentMaxBytes, 900}).Draw(rt, "segment_limit")
			return s
		}
		cs := &loadChecked{blobs: blobs.MemBlobs, last: make(map[string]*actors.Image)}
		cs.store.Store(newStore())
		var now atomic.Int64
		now.Store(t0.UnixNano())
		cfg := actors.DefaultConfig()
		cfg.Now = func() time.Time { return time.Unix(0, now.Add(int64(time.Millisecond))) }
		cfg.Snapshots = cs
		cfg.SnapshotEvery = 1
		cfg.Limits.MaxRememberedIDs = rapid.IntRange(1, 40).Draw(rt, "max_ids")
		j := actors.NewMemJournal()
		start := func() *actors.System {
			s, err := actors.NewSystem(cfg, j)
			if err != nil {
				rt.Fatal(err)
			}
			return s
		}
		s := start()
		wallets := rapid.IntRange(1, 3).Draw(rt, "wallets")
		ask := func(w int, cmd actors.Command) {
			_, _ = s.Ask(context.Background(), fmt.Sprintf("w%d", w), cmd)
		}
		for w := range wallets {
			ask(w, actors.Grant{ID: "g", Amount: 1 << 40, Kind: "paid"})
		}
		reserved := make([][]string, wallets)
		for i := range rapid.IntRange(1, 300).Draw(rt, "steps") {
			w := rapid.IntRange(0, wallets-1).Draw(rt, "wallet")
			switch rapid.IntRange(0, 10).Draw(rt, "op") {
			case 0, 1, 2, 3:
				// Long ids fill a 900-byte segment in a few rows.
				id := fmt.Sprintf("r%d-%s", i, strings.Repeat("x", rapid.IntRange(0, 300).Draw(rt, "pad")))
				ttl := rapid.SampledFrom([]int64{5, 3_600_000}).Draw(rt, "ttl_ms")
				// A lapsed hold's record names its principal (format v5).
				principal := rapid.SampledFrom([]string{"", "team:a"}).Draw(rt, "principal")
				ask(w, actors.Reserve{ID: id, Amount: 10, TTLms: ttl, Principal: principal})
				reserved[w] = append(reserved[w], id)
			case 4, 5, 6:
				if len(reserved[w]) > 0 {
					hold := rapid.SampledFrom(reserved[w]).Draw(rt, "hold")
					ask(w, actors.Settle{ID: fmt.Sprintf("s%d", i), HoldID: hold, Actual: 5, Final: true})
				}
			case 7:
				ask(w, actors.Debit{ID: fmt.Sprintf("d%d", i), Amount: 1})
			case 8:
				now.Add(int64(10 * time.Millisecond)) // short holds lapse
			case 9, 10:
				// A restart: every wallet comes back from its snapshot in
				// another id table; on a node restart the store's
				// bookkeeping is gone too.
				if err := s.Close(context.Background()); err != nil {
					rt.Fatal(err)
				}
				if rapid.Bool().Draw(rt, "node_restart") {
					st := cs.store.Swap(newStore()).Stats()
					referenced.Add(st.RowsReferenced)
					segmented.Add(st.Segments)
				}
				s = start()
			}
		}
		if err := s.Close(context.Background()); err != nil {
			rt.Fatal(err)
		}
		if len(cs.bad) > 0 {
			rt.Fatalf("%d loads differ from the image saved, first: %s", len(cs.bad), cs.bad[0])
		}
		st := cs.store.Load().Stats()
		referenced.Add(st.RowsReferenced)
		segmented.Add(st.Segments)
	})
	t.Logf("segments written %d, rows referenced %d", segmented.Load(), referenced.Load())
	if referenced.Load() == 0 || segmented.Load() == 0 {
		t.Fatal("no image referred to a segment: the test proves nothing")
	}
}

// segmentedHistory runs history on wallet w with a store that writes
// segments of 4 ids, and returns the journal, the store and its blobs,
// which hold the shutdown snapshot.
func segmentedHistory(t *testing.T) (*actors.MemJournal, *Store, *MemBlobs) {
	t.Helper()
	j := actors.NewMemJournal()
	store, blobs := NewMemStore()
	store.segRows, store.minSegmented = 4, 4
	s := newSystem(t, j, store, nil)
	history(t, s, "w", 0, historyLen)
	closeSystem(t, s)
	return j, store, blobs
}

// A segmented snapshot whose segments are not what it names — one missing,
// one corrupt, another segment in its slot, rows past a segment's end —
// is refused, and the wallet is rebuilt from its whole journal.
func TestUnusableSegmentsFallBackToFullReplay(t *testing.T) {
	j, _, blobs := segmentedHistory(t)
	image, segs := blobs.Raw("w"), blobs.Segments()
	if len(segs) < 2 {
		t.Fatalf("%d segments", len(segs))
	}
	if _, err := NewStore(blobs).Load(context.Background(), "w"); err != nil {
		t.Fatalf("the intact snapshot: %v", err)
	}
	// An image naming rows past its first segment's end: the real image's
	// plan, one ref's skip moved.
	img, sg, err := decode(image)
	if err != nil || sg == nil {
		t.Fatalf("not a segmented image: %v", err)
	}
	img.IDCols = sg.head
	plan := idPlan{tail: actors.RowsOf(nil)}
	for _, ref := range sg.refs {
		plan.refs = append(plan.refs, segmentRef{seg: &segment{slot: ref.slot, nonce: ref.nonce, crc: ref.crc},
			skip: ref.skip + 1, rows: actors.RowsOf(make([]actors.RecordImage, len(ref.hold)))})
	}
	pastTheEnd, err := encode(img, sg.head, actors.IDRows{}, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		image []byte
		slot0 func([]byte) []byte // the segment in slot 0: nil deletes it
	}{
		{"missing segment", image, func([]byte) []byte { return nil }},
		{"corrupt segment", image, func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }},
		{"another segment in its slot", image, func([]byte) []byte { return blobs.segments[segs[1]] }},
		{"rows past a segment's end", pastTheEnd, func(b []byte) []byte { return b }},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, damaged := NewMemStore()
			damaged.SetRaw("w", c.image)
			for _, key := range segs {
				slot, _ := strings.CutPrefix(key, "w.s")
				n := 0
				fmt.Sscan(slot, &n)
				data := blobs.segments[key]
				if n == 0 {
					if data = c.slot0(bytes.Clone(data)); data == nil {
						continue
					}
				}
				damaged.SetSegment("w", n, data)
			}
			_, err := store.Load(context.Background(), "w")
			if err == nil {
				t.Fatal("the damaged snapshot loads")
			}
			t.Log(err)
			s := newSystem(t, j, store, nil)
			defer closeSystem(t, s)
			expectFold(t, s, j, "w")
			if st := s.SnapshotStats(); st.Loaded != 0 || st.Rejected != 1 {
				t.Fatalf("want the snapshot rejected: %+v", st)
			}
		})
	}
}

// A wallet whose ids fall below the segmented size (here: a restored
// wallet, its ids in columns, the next image holding them all) has its
// segments deleted once an image without them is stored, those a crashed
// process left behind included.
func TestSegmentsOfAnImageThatNoLongerNeedsThemAreDeleted(t *testing.T) {
	j, _, blobs := segmentedHistory(t)
	if len(blobs.Segments()) == 0 {
		t.Fatal("no segments written")
	}
	// A segment a crashed process left behind, in a slot the stored image
	// does not name: the node that restarts never saw it.
	blobs.SetSegment("w", 77, blobs.segments[blobs.Segments()[0]])
	store := NewStore(blobs) // a restart: the bookkeeping is gone
	store.segRows, store.minSegmented = 4, 4
	s := newSystem(t, j, store, func(c *actors.Config) { c.SnapshotEvery = 1 })
	ask(t, s, "w", actors.Debit{ID: "one-more", Amount: 1}) // one queued id: below 4
	closeSystem(t, s)
	if got := blobs.Segments(); len(got) != 0 {
		t.Fatalf("segments left: %v", got)
	}
	if _, err := Decode(blobs.Raw("w")); err != nil {
		t.Fatalf("the image is not whole: %v", err)
	}
}

// A store that could not read a wallet's stored snapshot does not know
// which slots it names: the next image holds all its ids and writes no
// segment, so the stored snapshot stays whole until it is replaced.
func TestAFailedLoadWritesNoSegmentOverTheStoredSnapshot(t *testing.T) {
	j, _, mem := segmentedHistory(t)
	before := map[string][]byte{}
	for _, key := range mem.Segments() {
		before[key] = bytes.Clone(mem.segments[key])
	}
	blobs := &faultyBlobs{MemBlobs: mem, gets: []int{1}} // every get fails
	store := NewStore(blobs)
	store.segRows, store.minSegmented = 4, 4
	var first []string // what was wrong when the first image was stored
	saves := 0
	hook := saveHook{Store: store, see: func(*actors.Image) {}}
	hook.after = func() {
		if saves++; saves > 1 {
			return
		}
		for key, data := range before {
			if !bytes.Equal(mem.segments[key], data) {
				first = append(first, "segment "+key+" changed")
			}
		}
		if _, err := Decode(mem.Raw("w")); err != nil {
			first = append(first, "the image stored is not whole: "+err.Error())
		}
	}
	s := newSystem(t, j, hook, func(c *actors.Config) { c.SnapshotEvery = 1 })
	ask(t, s, "w", actors.Debit{ID: "one-more", Amount: 1})
	closeSystem(t, s) // waits for the images to be saved
	if st := s.SnapshotStats(); st.Rejected != 1 || saves == 0 {
		t.Fatalf("want the load refused and an image saved: %+v", st)
	}
	if len(first) > 0 {
		t.Fatalf("after the first save: %v", first)
	}
}

// The two id compares that guard a known segment's row numbers: a
// segment whose recorded ids are not where its numbers put them is not
// named, and a new one is written in its place.
func TestASegmentWhoseIDsDoNotMatchIsWrittenAgain(t *testing.T) {
	c := capture{imgs: make(chan *actors.Image, 2)}
	s := newSystem(t, actors.NewMemJournal(), c, func(c *actors.Config) { c.SnapshotEvery = 8 })
	history(t, s, "w", 0, historyLen)
	closeSystem(t, s)
	imgs := [2]*actors.Image{<-c.imgs, <-c.imgs}
	store, _ := NewMemStore()
	store.segRows, store.minSegmented = 4, 4
	ctx := context.Background()
	if err := store.Save(ctx, imgs[0]); err != nil {
		t.Fatal(err)
	}
	written := store.Stats().Segments
	if written == 0 {
		t.Fatal("no segment written")
	}
	store.segs["w"].segs[0].lastID = "not-this-one"
	if err := store.Save(ctx, imgs[1]); err != nil {
		t.Fatal(err)
	}
	if e := store.segs["w"]; e.segs[0].lastID == "not-this-one" {
		t.Fatalf("the forged segment is still named: %+v", e.segs[0])
	}
	if store.Stats().Segments < 2*written {
		t.Fatalf("%d segments written in all, want the first image's written again", store.Stats().Segments)
	}
	got, err := store.Load(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Encode(imgs[1])
	if err != nil {
		t.Fatal(err)
	}
	wantImg, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(norm(got), norm(wantImg)) {
		t.Fatal("loads as another image")
	}
}

// getHook runs beside once, inside the next image Get, after the image
// is read: a Load that saves of the same wallet overtake.
type getHook struct {
	*MemBlobs
	beside func()
}

func (b *getHook) Get(ctx context.Context, wallet string) ([]byte, error) {
	data, err := b.MemBlobs.Get(ctx, wallet)
	if f := b.beside; f != nil {
		b.beside = nil
		f()
	}
	return data, err
}

// A Load beside the saves of its wallet's last actor (an actor's images
// are saved one at a time, but a wallet activated again loads beside
// them) reads the image stored when it began: those saves neither reuse
// nor delete a segment it names, however many of them there are. Ids are
// evicted as the history goes on, so later images drop earlier segments.
func TestALoadBesideSavesReadsTheImageItBeganWith(t *testing.T) {
	c := capture{imgs: make(chan *actors.Image, 256)}
	s := newSystem(t, actors.NewMemJournal(), c, func(c *actors.Config) {
		c.SnapshotEvery = 2
		c.Limits.MaxRememberedIDs = 12
	})
	ask(t, s, "w", actors.Grant{ID: "g", Amount: 100_000, Kind: "paid"})
	// An image is skipped while the last one is being saved, so how many
	// come of a number of debits depends on the machine (2 of 240 with
	// the package's other tests beside it): debit until there are enough.
	for i := 0; len(c.imgs) < 30 && i < 20_000; i++ {
		ask(t, s, "w", actors.Debit{ID: fmt.Sprint("d", i), Amount: 1})
	}
	closeSystem(t, s)
	var imgs []*actors.Image
	for len(c.imgs) > 0 {
		imgs = append(imgs, <-c.imgs)
	}
	ctx := context.Background()
	loads := 0
	for k := 0; k < len(imgs); k += 2 {
		want, err := Encode(imgs[k])
		if err != nil {
			t.Fatal(err)
		}
		wantImg, err := Decode(want)
		if err != nil {
			t.Fatal(err)
		}
		for d1 := k + 1; d1 < min(len(imgs), k+6); d1++ {
			for d2 := d1 + 1; d2 < min(len(imgs), d1+4); d2++ {
				hook := &getHook{MemBlobs: &MemBlobs{data: map[string][]byte{}, segments: map[string][]byte{}}}
				store := NewStore(hook)
				store.segRows, store.minSegmented = 4, 4
				if err := store.Save(ctx, imgs[k]); err != nil {
					t.Fatal(err)
				}
				hook.beside = func() {
					for _, d := range []int{d1, d2} {
						if err := store.Save(ctx, imgs[d]); err != nil {
							t.Error(err)
						}
					}
				}
				got, err := store.Load(ctx, "w")
				if err != nil {
					t.Fatalf("image %d, loaded beside the saves of %d and %d: %v", k, d1, d2, err)
				}
				if !reflect.DeepEqual(norm(got), norm(wantImg)) {
					t.Fatalf("image %d, loaded beside the saves of %d and %d, loads as another", k, d1, d2)
				}
				loads++
			}
		}
	}
	if len(imgs) < 12 {
		t.Fatalf("%d loads from %d images", loads, len(imgs))
	}
}

// Loads of wallets without segments (most of them) leave no bookkeeping
// behind.
func TestLoadsOfWalletsWithoutSegmentsLeaveNothing(t *testing.T) {
	c := capture{imgs: make(chan *actors.Image, 64)}
	s := newSystem(t, actors.NewMemJournal(), c, func(c *actors.Config) { c.SnapshotEvery = historyLen })
	history(t, s, "w", 0, historyLen)
	closeSystem(t, s)
	store, _ := NewMemStore()
	ctx := context.Background()
	if err := store.Save(ctx, <-c.imgs); err != nil {
		t.Fatal(err)
	}
	for _, wallet := range []string{"w", "none"} {
		if _, err := store.Load(ctx, wallet); err != nil {
			t.Fatal(err)
		}
	}
	if len(store.segs) != 0 {
		t.Fatalf("bookkeeping left for %d wallets", len(store.segs))
	}
}
