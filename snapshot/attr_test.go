package snapshot

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

// A hold that lapsed before a restart still says whom it was for: its
// late settle, decided by a wallet restored from a snapshot (the
// reserve's record read from the restored id columns, format v5), counts
// at the hold's principal and feature as it would have before the
// restart, and as a wallet rebuilt from its journal alone counts it.
func TestALateSettleAfterARestoreCountsWhereItsHoldDid(t *testing.T) {
	j := actors.NewMemJournal()
	store, _ := NewMemStore()
	s := newSystem(t, j, store, nil)
	ask(t, s, "w", actors.Grant{ID: "g", Amount: 1_000, Kind: "paid"})
	ask(t, s, "w", actors.Configure{ID: "c",
		Policies: map[string]actors.Policy{"team:z": {Caps: []actors.Cap{{Window: actors.WindowDay, Limit: 100}}}},
		Features: map[string]actors.Feature{"chat": {Enabled: true, Limit: &actors.FeatureLimit{Window: actors.WindowDay, Amount: 100}}}})
	ask(t, s, "w", actors.Reserve{ID: "r1", Amount: 30, TTLms: 1, Principal: "team:z/user:q", Feature: "chat"})
	// A millisecond a command: this one applies the expiry first.
	if b := ask(t, s, "w", actors.Balance{}).(actors.BalanceReply); b.Holds != 0 {
		t.Fatalf("the hold has not lapsed: %+v", b)
	}
	closeSystem(t, s) // the shutdown snapshot has the lapsed hold's record

	for _, restored := range []bool{true, false} {
		var from actors.SnapshotStore
		if restored {
			from = store
		}
		s := newSystem(t, j, from, func(c *actors.Config) { c.Now = clock(t0.Add(time.Hour)) })
		if r := ask(t, s, "w", actors.Settle{ID: "s1", HoldID: "r1", Actual: 90, Final: true}).(actors.SettleReply); !r.Late {
			t.Fatalf("restored %v: not a late settle: %+v", restored, r)
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
				t.Errorf("restored %v: %+v: %+v", restored, c.check, r)
			}
		}
		if st := s.SnapshotStats(); restored && st.Loaded != 1 {
			t.Fatalf("the snapshot was not loaded: %+v", st)
		}
		closeSystem(t, s)
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
