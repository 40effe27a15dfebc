package snapshot

// The JetStream store on a real embedded server (fsync always, random
// port, temp dir): round trips, a snapshot far larger than a NATS message,
// and the runtime over the JetStream journal, where an image ahead of the
// journal must be caught through the journal's own Read.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/embedded"
	"github.com/purser-dev/purser/transport/journal"
)

func startJetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	srv, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Port: embedded.RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// openStore opens the JetStream store on js with the default config.
func openStore(t *testing.T, ctx context.Context, js jetstream.JetStream) *Store {
	t.Helper()
	store, err := OpenJetStream(ctx, js, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestJetStreamStoreRoundTrips(t *testing.T) {
	js := startJetStream(t)
	ctx := ctxT(t)
	store := openStore(t, ctx, js)
	if img, err := store.Load(ctx, "nobody"); img != nil || err != nil {
		t.Fatalf("a wallet without a snapshot: %v, %v", img, err)
	}
	img := goldenWallet(t).Image(42)
	if err := store.Save(ctx, img); err != nil {
		t.Fatal(err)
	}
	// A second open binds to the existing bucket (another node).
	again := openStore(t, ctx, js)
	got, err := again.Load(ctx, img.Wallet)
	if err != nil || !reflect.DeepEqual(norm(got), norm(img)) {
		t.Fatalf("round trip: %v", err)
	}
	// A damaged entry is refused, not returned.
	kv, err := js.KeyValue(ctx, Bucket)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := Encode(img)
	data[len(data)-1] ^= 0xff
	if _, err := kv.Put(ctx, img.Wallet, append([]byte{tagInline}, data...)); err != nil {
		t.Fatal(err)
	}
	if _, err := again.Load(ctx, img.Wallet); !errors.Is(err, ErrChecksum) {
		t.Fatalf("damaged snapshot: %v", err)
	}
}

// A snapshot that shrinks back under the inline size leaves no object
// behind in the large store.
func TestJetStreamStoreDropsALargeSnapshotThatShrank(t *testing.T) {
	js := startJetStream(t)
	ctx := ctxT(t)
	store, err := OpenJetStream(ctx, js, Config{Inline: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	big := bigWallet(t, 100) // ~10 KB, over the 1 KB inline bound
	if err := store.Save(ctx, big.Image(1)); err != nil {
		t.Fatal(err)
	}
	large, err := js.ObjectStore(ctx, Bucket+"_LARGE")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := large.GetInfo(ctx, "big"); err != nil {
		t.Fatalf("the large snapshot is not in the object store: %v", err)
	}
	small := actors.NewWallet("big", actors.DefaultLimits())
	if _, _, err := small.Execute(actors.Grant{ID: "g", Amount: 1, Kind: "paid"}, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, small.Image(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := large.GetInfo(ctx, "big"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("the shrunk wallet's object is still stored: %v", err)
	}
	got, err := store.Load(ctx, "big")
	if err != nil || got.Pos != 2 {
		t.Fatalf("load after shrinking: %+v, %v", got, err)
	}
}

// bigWallet has holds open holds on one grant, each with its own id.
func bigWallet(t testing.TB, holds int) *actors.Wallet {
	limits := actors.DefaultLimits()
	w := actors.NewWallet("big", limits)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := w.Execute(actors.Grant{ID: "g", Amount: int64(holds) * 10, Kind: "paid"}, now, nil); err != nil {
		t.Fatal(err)
	}
	var evs []actors.Event
	for i := range holds {
		var err *actors.Error
		evs, _, err = w.Execute(actors.Reserve{ID: fmt.Sprintf("hold-%07d", i), Amount: 7, TTLms: 3_600_000,
			Principal: "team:load"}, now, evs[:0])
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func TestJetStreamStoreKeepsAHugeSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wallet with 200,000 holds and 100,000 remembered ids")
	}
	w := bigWallet(t, 200_000)
	// Settling a quarter fills the id table (each settle remembers its own
	// id and its reserve's): the snapshot carries 100,000 ids in columns.
	now := time.Date(2026, 6, 1, 0, 0, 1, 0, time.UTC)
	var evs []actors.Event
	settle := func(i int) actors.Settle {
		return actors.Settle{ID: fmt.Sprintf("settle-%07d", i), HoldID: fmt.Sprintf("hold-%07d", i), Actual: 5, Final: true}
	}
	for i := range 50_000 {
		var err *actors.Error
		if evs, _, err = w.Execute(settle(i), now, evs[:0]); err != nil {
			t.Fatal(err)
		}
	}
	img := w.Image(1)
	js := startJetStream(t)
	ctx := ctxT(t)
	store := openStore(t, ctx, js)
	start := time.Now()
	if err := store.Save(ctx, img); err != nil {
		t.Fatal(err)
	}
	saved := time.Since(start)
	got, err := store.Load(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(start) - saved
	data, _ := Encode(img)
	t.Logf("%d open holds, %d ids: %d bytes (%d NATS messages' worth), saved in %s, loaded in %s",
		len(img.Holds), w.Remembered(), len(data), len(data)/(1<<20)+1, saved, loaded)
	if !reflect.DeepEqual(norm(got), norm(img)) {
		t.Fatal("the huge snapshot came back different")
	}
	restored, _, err := actors.FromImage(got, actors.DefaultLimits())
	if err != nil || restored.OpenHolds() != 150_000 || restored.Remembered() != 100_000 || restored.Figures() != w.Figures() {
		t.Fatalf("restored: %v", err)
	}
	// The oldest settle's retry is answered from the columns, as by the
	// wallet that never stopped.
	for _, wl := range []*actors.Wallet{w, restored} {
		evs, r, err := wl.Execute(settle(0), now.Add(time.Second), nil)
		if err != nil || len(evs) != 0 || r.(actors.SettleReply).Consumed != 5 {
			t.Fatalf("retry of the oldest settle: %+v, %v, %d events", r, err, len(evs))
		}
	}
}

// TestRuntimeOnJetStream runs the runtime on the JetStream journal and
// store: a restart activates from the snapshot (its ids in segments,
// segments.go) plus the tail, and a snapshot ahead
// of the journal (its position past the wallet's last message) is ignored.
func TestRuntimeOnJetStream(t *testing.T) {
	js := startJetStream(t)
	ctx := ctxT(t)
	jcfg := journal.Config{Logger: zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))}
	jr, err := journal.New(ctx, js, jcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close(context.Background())
	store := openStore(t, ctx, js)
	store.segRows, store.minSegmented = 4, 4 // segments from the fourth queued id on
	s := newSystem(t, jr, store, func(c *actors.Config) { c.SnapshotEvery = 9 })
	history(t, s, "w", 0, 40)
	closeSystem(t, s)
	if st := store.Stats(); st.Segments == 0 || st.RowsReferenced == 0 {
		t.Fatalf("no snapshot referred to segments: %+v", st)
	}
	s = newSystem(t, jr, nil, nil) // journals a tail no snapshot covers
	history(t, s, "w", 40, historyLen)
	want := ask(t, s, "w", actors.Balance{})
	closeSystem(t, s)

	s = newSystem(t, jr, store, nil)
	if got := ask(t, s, "w", actors.Balance{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("from snapshot + tail: %+v, want %+v", got, want)
	}
	// Retries answered from the snapshot's id columns, as the journal's fold.
	expectFold(t, s, jr, "w")
	if st := s.SnapshotStats(); st.Loaded != 1 || st.Rejected != 0 {
		t.Fatalf("%+v", st)
	}
	closeSystem(t, s) // saves a snapshot at the journal's end

	img, err := store.Load(ctx, "w")
	if err != nil || img == nil {
		t.Fatalf("no snapshot after shutdown: %v", err)
	}
	ahead := *img
	ahead.Pos += 1000
	if err := store.Save(ctx, &ahead); err != nil {
		t.Fatal(err)
	}
	s = newSystem(t, jr, store, nil)
	defer closeSystem(t, s)
	if got := ask(t, s, "w", actors.Balance{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after an ahead snapshot: %+v, want %+v", got, want)
	}
	if st := s.SnapshotStats(); st.Loaded != 0 || st.Rejected != 1 {
		t.Fatalf("the ahead snapshot was not rejected: %+v", st)
	}
}

// A wallet's segments are keys of the bucket beside its snapshot, listed
// and deleted by slot, and no other wallet's key is taken for one.
func TestJetStreamSegmentsAreKeysOfTheirWallet(t *testing.T) {
	js := startJetStream(t)
	ctx := ctxT(t)
	store := openStore(t, ctx, js)
	b := store.blobs
	if err := b.Put(ctx, "w", []byte("image")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		wallet string
		slot   int
	}{{"w", 0}, {"w", 3}, {"w", 12}, {"w2", 1}, {"w-s", 4}} {
		if err := b.PutSegment(ctx, s.wallet, s.slot, []byte(fmt.Sprint(s.wallet, s.slot))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.DeleteSegment(ctx, "w", 3); err != nil {
		t.Fatal(err)
	}
	slots, err := b.SegmentSlots(ctx, "w")
	if slices.Sort(slots); err != nil || !slices.Equal(slots, []int{0, 12}) {
		t.Fatalf("slots of w: %v, %v", slots, err)
	}
	// A wallet with none lists none, without waiting for its context to
	// end (a listing cut short by one ends without an error: clearing a
	// cooled wallet's segments, on its snapshot worker, would stall).
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if slots, err := b.SegmentSlots(lctx, "nobody"); err != nil || len(slots) != 0 || lctx.Err() != nil {
		t.Fatalf("slots of a wallet with none: %v, %v (context: %v)", slots, err, lctx.Err())
	}
	if got, err := b.GetSegment(ctx, "w", 12); err != nil || string(got) != "w12" {
		t.Fatalf("segment 12: %q, %v", got, err)
	}
	if got, err := b.GetSegment(ctx, "w", 3); err != nil || got != nil {
		t.Fatalf("deleted segment: %q, %v", got, err)
	}
	if got, err := b.Get(ctx, "w"); err != nil || string(got) != "image" {
		t.Fatalf("the snapshot beside its segments: %q, %v", got, err)
	}
}
