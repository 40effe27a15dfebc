package snapshot

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

// lapsedHold runs a first system on a fresh journal and store: a
// governed wallet (team:z and feature chat capped at 100 a day) whose
// reserve for team:z/user:q and chat lapses (ttl, in ms: 1 lapses at the
// next command), and shuts it down, so that the store has its snapshot.
func lapsedHold(t *testing.T, ttl int64) (*actors.MemJournal, *Store, *MemBlobs) {
	j := actors.NewMemJournal()
	store, blobs := NewMemStore()
	s := newSystem(t, j, store, nil)
	ask(t, s, "w", actors.Grant{ID: "g", Amount: 1_000, Kind: "paid"})
	ask(t, s, "w", actors.Configure{ID: "c",
		Policies: map[string]actors.Policy{"team:z": {Caps: []actors.Cap{{Window: actors.WindowDay, Limit: 100}}}},
		Features: map[string]actors.Feature{"chat": {Enabled: true, Limit: &actors.FeatureLimit{Window: actors.WindowDay, Amount: 100}}}})
	ask(t, s, "w", actors.Reserve{ID: "r1", Amount: 30, TTLms: ttl, Principal: "team:z/user:q", Feature: "chat"})
	// A millisecond a command: this one applies a 1 ms hold's expiry.
	if b := ask(t, s, "w", actors.Balance{}).(actors.BalanceReply); (b.Holds == 0) != (ttl == 1) {
		t.Fatalf("ttl %d ms: %+v", ttl, b)
	}
	closeSystem(t, s)
	return j, store, blobs
}

// settleLate starts a system an hour later on j (from store, if not nil),
// settles r1 for 90, and checks that it was late and counted at the hold's
// principal and feature.
func settleLate(t *testing.T, j actors.Journal, store actors.SnapshotStore) actors.SnapshotStats {
	t.Helper()
	s := newSystem(t, j, store, func(c *actors.Config) { c.Now = clock(t0.Add(time.Hour)) })
	defer closeSystem(t, s)
	if r := ask(t, s, "w", actors.Settle{ID: "s1", HoldID: "r1", Actual: 90, Final: true}).(actors.SettleReply); !r.Late {
		t.Fatalf("not a late settle: %+v", r)
	}
	for _, c := range []struct {
		check   actors.Check
		allowed bool
	}{
		{actors.Check{Amount: 10, Principal: "team:z/user:q"}, true},
		{actors.Check{Amount: 11, Principal: "team:z/user:q"}, false},
		{actors.Check{Amount: 10, Feature: "chat"}, true},
		{actors.Check{Amount: 11, Feature: "chat"}, false},
	} {
		if r := ask(t, s, "w", c.check).(actors.ReserveReply); r.Allowed != c.allowed {
			t.Errorf("%+v: %+v", c.check, r)
		}
	}
	return s.SnapshotStats()
}

// A hold that lapsed before a restart still says whom it was for: its
// late settle, decided by a wallet restored from a snapshot (the
// reserve's record read from the restored id columns, format v5), counts
// at the hold's principal and feature, as a wallet rebuilt from its
// journal alone decides it.
func TestALateSettleAfterARestoreCountsWhereItsHoldDid(t *testing.T) {
	j, store, _ := lapsedHold(t, 1)
	if st := settleLate(t, j, store); st.Loaded != 1 {
		t.Fatalf("the snapshot was not loaded: %+v", st)
	}
	j, _, _ = lapsedHold(t, 1)
	settleLate(t, j, nil)
}

// A snapshot of a format before v5 that remembers a lapsed hold cannot
// say whom the hold was for: it is refused, and the wallet rebuilt from
// its journal, which says. One that remembers no lapsed hold still loads.
func TestAnOldSnapshotOfALapsedHoldIsRefused(t *testing.T) {
	for _, ttl := range []int64{1, 3_600_000} {
		j, store, blobs := lapsedHold(t, ttl)
		// The snapshot as a build before v5 wrote it: no attribution, v3.
		img, err := Decode(blobs.Raw("w"))
		if err != nil {
			t.Fatal(err)
		}
		rs, err := img.Records()
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			rs[i].Answer.Attr = nil
		}
		img.IDs, img.IDCols = rs, nil
		old, err := Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint16(old[4:], versionColumns)
		blobs.SetRaw("w", old)
		if _, err := Decode(old); errors.Is(err, ErrUnattributed) != (ttl == 1) {
			t.Fatalf("ttl %d ms: Decode of the v3 snapshot: %v", ttl, err)
		}
		if ttl != 1 {
			s := newSystem(t, j, store, nil)
			ask(t, s, "w", actors.Balance{})
			closeSystem(t, s)
			if st := s.SnapshotStats(); st.Loaded != 1 {
				t.Fatalf("the v3 snapshot with an open hold was not loaded: %+v", st)
			}
			continue
		}
		if st := settleLate(t, j, store); st.Rejected != 1 || st.Loaded != 0 {
			t.Fatalf("the v3 snapshot of a lapsed hold was not refused: %+v", st)
		}
	}
}

// TestGoldenV5Decodes: format v5's answers name a lapsed hold's principal
// and feature. testdata/v5.snap (written once, by -update, when missing)
// is a governed wallet whose hold lapsed; read back, its reserve's record
// has the attribution, and the restored wallet's late settle counts at the
// hold's levels.
func TestGoldenV5Decodes(t *testing.T) {
	start := time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
	data := goldenSnapshot(t, "v5.snap", 44, func() *actors.Wallet {
		w, now := goldenWallet(t), start
		for _, c := range []actors.Command{
			actors.Configure{ID: "cfg-z", Policies: map[string]actors.Policy{
				"team:z": {Caps: []actors.Cap{{Window: actors.WindowDay, Limit: 100}}}},
				Features: map[string]actors.Feature{"chat": {Enabled: true, Limit: &actors.FeatureLimit{Window: actors.WindowDay, Amount: 100}}}},
			actors.Reserve{ID: "h-lapse", Amount: 30, TTLms: 1_000, Principal: "team:z/user:q", Feature: "chat"},
			actors.Tick{},
		} {
			if _, _, err := w.Execute(c, now, nil); err != nil {
				t.Fatalf("%s: %v", c.Op(), err)
			}
			now = now.Add(time.Second)
		}
		return w
	})
	now := start.Add(10 * time.Second) // the hold lapsed at start+2s
	if v := binary.BigEndian.Uint16(data[4:]); v != versionColumnsAttr {
		t.Fatalf("the golden file is version %d", v)
	}
	img, err := Decode(data)
	if err != nil {
		t.Fatalf("the v5 golden file no longer decodes: %v", err)
	}
	rs, err := img.Records()
	if err != nil {
		t.Fatal(err)
	}
	var lapsed *actors.RecordImage
	for i := range rs {
		if rs[i].Answer.ID == "h-lapse" {
			lapsed = &rs[i]
		}
	}
	if lapsed == nil || lapsed.Hold != actors.IDHoldLapsed || lapsed.Answer.Attr == nil ||
		*lapsed.Answer.Attr != (actors.Attribution{Principal: "team:z/user:q", Feature: "chat"}) {
		t.Fatalf("the lapsed hold's record: %+v", lapsed)
	}
	w, _, err := actors.FromImage(img, actors.DefaultLimits())
	if err != nil {
		t.Fatalf("the v5 golden image does not restore: %v", err)
	}
	if _, r, e := w.Execute(actors.Settle{ID: "s-lapse", HoldID: "h-lapse", Actual: 90, Final: true}, now, nil); e != nil || !r.(actors.SettleReply).Late {
		t.Fatalf("late settle: %+v %v", r, e)
	}
	if _, r, e := w.Execute(actors.Check{Amount: 11, Principal: "team:z/user:q"}, now, nil); e != nil || r.(actors.ReserveReply).Allowed {
		t.Fatalf("the late settle did not count at team:z: %+v %v", r, e)
	}
}
