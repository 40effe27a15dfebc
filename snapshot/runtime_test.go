package snapshot

// The runtime with snapshots, on the in-memory journal: activation from a
// snapshot and the journal after it answers exactly as a full replay does;
// every unusable snapshot (corrupt, truncated, of a future format, ahead of
// the journal, of another journal, of other limits) is ignored and the
// wallet rebuilt from its whole journal; snapshots are taken every N events
// and at shutdown; a saturated snapshot writer never delays a decision.

import (
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/purser-dev/purser/actors"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// clock is a deterministic Now: each command is stamped one millisecond
// after the previous one, so a history run twice journals the same events.
func clock(start time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

func newSystem(t *testing.T, j actors.Journal, store actors.SnapshotStore, tune func(*actors.Config)) *actors.System {
	t.Helper()
	cfg := actors.DefaultConfig()
	cfg.Now = clock(t0)
	cfg.Snapshots = store
	cfg.Log = zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))
	if tune != nil {
		tune(&cfg)
	}
	s, err := actors.NewSystem(cfg, j)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func closeSystem(t *testing.T, s *actors.System) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func ask(t *testing.T, s *actors.System, wallet string, cmd actors.Command) actors.Reply {
	t.Helper()
	r, err := s.Ask(context.Background(), wallet, cmd)
	if err != nil {
		t.Fatalf("%s %s: %v", wallet, cmd.Op(), err)
	}
	return r
}

// history drives a mixed history: grants, holds open and closed, partial
// and over-settles, debt, a revoke, retries. from/to select a part of it.
func history(t *testing.T, s *actors.System, wallet string, from, to int) {
	t.Helper()
	var cmds []actors.Command
	cmds = append(cmds,
		actors.Grant{ID: "g-promo", Amount: 2_000, Kind: "promotional", ExpiresAt: t0.Add(24 * time.Hour)},
		actors.Grant{ID: "g-paid", Amount: 50_000, Kind: "paid"},
		actors.Grant{ID: "g-later", Amount: 700, Kind: "included", EffectiveAt: t0.Add(time.Hour)})
	for i := range 20 {
		id := "h-" + string(rune('a'+i))
		cmds = append(cmds, actors.Reserve{ID: id, Amount: int64(100 + i*10), TTLms: 600_000, Principal: "team:x"})
		switch i % 4 {
		case 0:
			cmds = append(cmds, actors.Settle{ID: "s-" + id, HoldID: id, Actual: 60, Final: true})
		case 1:
			cmds = append(cmds, actors.Settle{ID: "s-" + id, HoldID: id, Actual: 40, Final: false})
		case 2:
			cmds = append(cmds, actors.Release{ID: "r-" + id, HoldID: id})
		}
		if i%5 == 4 {
			cmds = append(cmds, actors.Debit{ID: "d-" + id, Amount: 25})
		}
	}
	cmds = append(cmds, actors.Revoke{ID: "rv", GrantID: "g-promo"}, actors.Debit{ID: "d-big", Amount: 60_000},
		actors.Grant{ID: "g-topup", Amount: 20_000, Kind: "paid"})
	for _, c := range cmds[from:min(to, len(cmds))] {
		ask(t, s, wallet, c)
	}
}

const historyLen = 56 // commands in history

// probes are read-only: they change no state and journal nothing, so a
// system and a folded wallet can both answer them.
var probes = []actors.Command{
	actors.Balance{},
	actors.Check{Amount: 10, Principal: "team:x"},
	actors.Settle{ID: "s-h-a", HoldID: "h-a", Actual: 60, Final: true},          // a retry
	actors.Reserve{ID: "h-b", Amount: 110, TTLms: 600_000, Principal: "team:x"}, // a retry of an open hold
	actors.Debit{ID: "d-h-e", Amount: 26},                                       // a conflict
}

type answer struct {
	R   actors.Reply
	Err string
}

// expectFold checks that s answers the probes as the fold of j's events.
func expectFold(t *testing.T, s *actors.System, j actors.Journal, wallet string) {
	t.Helper()
	w := actors.NewWallet(wallet, actors.DefaultLimits())
	if _, err := j.Read(context.Background(), wallet, 0, func(_ uint64, evs []actors.Event) error {
		for _, e := range evs {
			w.Apply(e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute) // later than any command of history
	for _, p := range probes {
		evs, r, err := w.Execute(p, now, nil)
		if len(evs) != 0 {
			t.Fatalf("probe %s is not read-only", p.Op())
		}
		want := answer{R: r}
		if err != nil {
			want = answer{Err: err.Error()}
		}
		var got answer
		if r, err := s.Ask(context.Background(), wallet, p); err != nil {
			got.Err = err.Error()
		} else {
			got.R = r
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("probe %s: got %+v, the journal's fold says %+v", p.Op(), got, want)
		}
	}
}

func TestActivationFromSnapshotAndTailEqualsFullReplay(t *testing.T) {
	j := actors.NewMemJournal()
	store, blobs := NewMemStore()
	// Snapshots every 7 events while the history runs, then more history
	// journaled by a node without snapshots: the tail.
	s := newSystem(t, j, store, func(c *actors.Config) { c.SnapshotEvery = 7 })
	history(t, s, "w", 0, 40)
	closeSystem(t, s)
	if blobs.Puts() < 2 {
		t.Fatalf("%d snapshots saved, want periodic ones and one at shutdown", blobs.Puts())
	}
	s = newSystem(t, j, nil, nil)
	history(t, s, "w", 40, historyLen)
	closeSystem(t, s)

	s = newSystem(t, j, store, nil)
	defer closeSystem(t, s)
	expectFold(t, s, j, "w")
	if st := s.SnapshotStats(); st.Loaded != 1 || st.Rejected != 0 {
		t.Fatalf("want one activation from the snapshot: %+v", st)
	}
}

// snapshotOf returns the encoded snapshot a system with store leaves for
// wallet after running history[:n] on journal j.
func snapshotOf(t *testing.T, j *actors.MemJournal, n int, start time.Time) []byte {
	t.Helper()
	store, blobs := NewMemStore()
	s := newSystem(t, j, store, func(c *actors.Config) { c.Now = clock(start) })
	history(t, s, "w", 0, n)
	closeSystem(t, s)
	data := blobs.Raw("w")
	if data == nil {
		t.Fatal("no snapshot taken at shutdown")
	}
	return data
}

func TestUnusableSnapshotsFallBackToFullReplay(t *testing.T) {
	full := actors.NewMemJournal()
	good := snapshotOf(t, full, historyLen, t0)
	hdr := headerFixed + 1
	damaged := func(f func([]byte) []byte) []byte { return f(slices.Clone(good)) }
	other := actors.NewMemJournal() // the same commands at other times
	ofOther := snapshotOf(t, other, historyLen, t0.Add(time.Second))
	short := actors.NewMemJournal() // the journal lost its last batches
	img, err := Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	evs := full.Events("w")
	for _, e := range evs[:len(evs)-5] {
		short.Append("w", lastPos(t, short, "w"), []actors.Event{e}, func(uint64, error) {})
	}
	imgLimits := *img
	imgLimits.MaxRememberedIDs = 50
	otherLimits, err := Encode(&imgLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		j    *actors.MemJournal
		data []byte
	}{
		{"corrupt", full, damaged(func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b })},
		{"truncated", full, good[:len(good)-100]},
		{"future version", full, damaged(func(b []byte) []byte { binary.BigEndian.PutUint16(b[4:], Version+1); return b })},
		{"bad magic", full, damaged(func(b []byte) []byte { copy(b, "JUNK"); return b })},
		{"ahead of the journal", short, good},
		{"of another journal", full, ofOther},
		{"other id limits", full, otherLimits},
		{"empty body", full, good[:hdr]},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, blobs := NewMemStore()
			blobs.SetRaw("w", c.data)
			s := newSystem(t, c.j, store, nil)
			defer closeSystem(t, s)
			expectFold(t, s, c.j, "w")
			if st := s.SnapshotStats(); st.Loaded != 0 || st.Rejected != 1 {
				t.Fatalf("want the snapshot rejected: %+v", st)
			}
		})
	}
}

func lastPos(t *testing.T, j *actors.MemJournal, wallet string) uint64 {
	pos, err := j.Read(context.Background(), wallet, 0, func(uint64, []actors.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

func TestSnapshotsEveryNEventsAndAtShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := actors.NewMemJournal()
		store, blobs := NewMemStore()
		s := newSystem(t, j, store, func(c *actors.Config) { c.SnapshotEvery = 10 })
		var want []uint64 // positions covered by the snapshots expected so far
		since := 0
		for i := range 35 {
			ask(t, s, "w", actors.Grant{ID: "g" + string(rune('A'+i)), Amount: 10, Kind: "paid"})
			synctest.Wait() // the worker has saved what was queued
			if since++; since == 10 {
				want, since = append(want, lastPos(t, j, "w")), 0
			}
			if blobs.Puts() != len(want) {
				t.Fatalf("after %d events: %d snapshots, want %d", i+1, blobs.Puts(), len(want))
			}
		}
		img, _ := Decode(blobs.Raw("w"))
		if img.Pos != want[len(want)-1] {
			t.Fatalf("latest snapshot at %d, want %d", img.Pos, want[len(want)-1])
		}
		closeSystem(t, s)
		if img, _ = Decode(blobs.Raw("w")); blobs.Puts() != 4 || img.Pos != lastPos(t, j, "w") {
			t.Fatalf("shutdown: %d snapshots, latest at %d, journal at %d", blobs.Puts(), img.Pos, lastPos(t, j, "w"))
		}
	})
}

func TestPassivationTakesASnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := actors.NewMemJournal()
		store, blobs := NewMemStore()
		s := newSystem(t, j, store, func(c *actors.Config) { c.IdleAfter = time.Minute; c.Now = time.Now })
		ask(t, s, "w", actors.Grant{ID: "g", Amount: 10, Kind: "paid"})
		time.Sleep(2 * time.Minute) // fake time: the bubble's clock
		synctest.Wait()
		if s.Stats().Passivations != 1 || blobs.Puts() != 1 {
			t.Fatalf("passivations %d, snapshots %d", s.Stats().Passivations, blobs.Puts())
		}
		ask(t, s, "w", actors.Balance{})
		if st := s.SnapshotStats(); st.Loaded != 1 {
			t.Fatalf("reactivation did not use the snapshot: %+v", st)
		}
		closeSystem(t, s)
		if blobs.Puts() != 1 {
			t.Fatal("nothing changed since the last snapshot, yet shutdown saved one")
		}
	})
}

// stuckBlobs holds every Put until released: a snapshot writer that cannot
// keep up.
type stuckBlobs struct {
	MemBlobs
	release chan struct{}
}

func (b *stuckBlobs) Put(ctx context.Context, wallet string, data []byte) error {
	<-b.release
	return b.MemBlobs.Put(ctx, wallet, data)
}

func TestSaturatedSnapshotWriterNeverDelaysDecisions(t *testing.T) {
	blobs := &stuckBlobs{MemBlobs: MemBlobs{data: map[string][]byte{}}, release: make(chan struct{})}
	j := actors.NewMemJournal()
	s := newSystem(t, j, NewStore(blobs), func(c *actors.Config) {
		c.SnapshotEvery, c.SnapshotWorkers, c.SnapshotQueue = 1, 1, 1
	})
	// One image held by the stuck worker, one queued: of six wallets' images
	// at least four are skipped, and every request is still answered.
	for _, w := range []string{"a", "b", "c", "d", "e", "f"} {
		ask(t, s, w, actors.Grant{ID: "g", Amount: 10, Kind: "paid"})
		ask(t, s, w, actors.Debit{ID: "d", Amount: 1})
	}
	if st := s.SnapshotStats(); st.Skipped < 4 {
		t.Fatalf("want skipped snapshots: %+v", st)
	}
	close(blobs.release)
	closeSystem(t, s)
	if st := s.SnapshotStats(); st.Saved < 6 {
		t.Fatalf("shutdown snapshots of every wallet: %+v", st)
	}
}

// TestAnAnswerThatDoesNotDecodeFallsBackToFullReplay: a v3 snapshot's
// answers are decoded only when a request needs one. One that passed the
// checksum yet does not decode sends the wallet back to its whole journal
// (the snapshot counted rejected, no panic counted), and the request that
// found it is decided again there: the retry gets the journal's answer.
func TestAnAnswerThatDoesNotDecodeFallsBackToFullReplay(t *testing.T) {
	j := actors.NewMemJournal()
	img, err := Decode(snapshotOf(t, j, historyLen, t0))
	if err != nil {
		t.Fatal(err)
	}
	c := *img.IDCols
	c.Answers = slices.Clone(c.Answers)
	broken := -1
	for i := range c.Len() {
		if string(c.IDs[end(c.IDEnds, i-1):c.IDEnds[i]]) == "s-h-a" {
			c.Answers[end(c.AnswerEnds, i-1)] = 0xc1 // never used by msgpack
			broken = i
		}
	}
	if broken < 0 {
		t.Fatal("the settle s-h-a is not among the snapshot's columns")
	}
	img.IDCols = &c
	data, err := Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	store, blobs := NewMemStore()
	blobs.SetRaw("w", data)
	s := newSystem(t, j, store, nil)
	defer closeSystem(t, s)
	expectFold(t, s, j, "w") // the retry of s-h-a among the probes
	if st := s.SnapshotStats(); st.Loaded != 1 || st.Rejected != 1 {
		t.Fatalf("want the snapshot used, then refused for the rebuild: %+v", st)
	}
	if st := s.Stats(); st.Panics != 0 {
		t.Fatalf("an undecodable snapshot answer counted as a panic of the core: %+v", st)
	}
}

// slowStore takes 3 ms of the bubble's time per save.
type slowStore struct{ *Store }

func (s slowStore) Save(ctx context.Context, img *actors.Image) error {
	time.Sleep(3 * time.Millisecond)
	return s.Store.Save(ctx, img)
}

// The workers count the time their saves take, and the store the bytes
// it wrote.
func TestSnapshotSaveTimeAndBytesAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, blobs := NewMemStore()
		s := newSystem(t, actors.NewMemJournal(), slowStore{store}, func(c *actors.Config) { c.SnapshotEvery = 1 })
		var bytes uint64
		for i := range 5 {
			ask(t, s, "w", actors.Grant{ID: fmt.Sprintf("g%d", i), Amount: 10, Kind: "paid"})
			time.Sleep(time.Second) // the bubble's clock: past the save's 3 ms
			synctest.Wait()         // saved
			bytes += uint64(len(blobs.Raw("w")))
		}
		st := s.SnapshotStats()
		if st.Saved != 5 || st.SaveTime != 5*3*time.Millisecond {
			t.Fatalf("%d saves in %v, want 5 in 15ms", st.Saved, st.SaveTime)
		}
		if got := store.Stats().Bytes; got != bytes {
			t.Fatalf("store counted %d bytes, wrote %d", got, bytes)
		}
		closeSystem(t, s)
	})
}
