package actors

// Property tests of governance (SPEC §5) over random sequences with many
// principals under nested policies:
//   - strict caps: with usage arriving only through holds (reserve, settle
//     within the hold, release, expiry), no level's consumed + held in any
//     window ever exceeds its cap, nor a feature's its limit;
//   - a denial changes nothing: no events, an equal wallet (idempotency
//     table included: a retry of the denied id is evaluated afresh);
//   - replay gives the same decisions: the same commands at the same times
//     on a fresh wallet give the same replies and the same state.
// TestBurstUnderUserCap is the 50-wide burst of issue 6.

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// capsHold checks every cap along principal's path and feature's limit:
// consumed + held within the limit now (a sum past int64 is past any
// limit: the property tests scale amounts up to int64's end).
func capsHold(w *Wallet, principal, feature string) error {
	if w.gov == nil {
		return nil
	}
	it := levels(principal)
	for k, ok := it.next(); ok; k, ok = it.next() {
		ls := w.gov.levels[k]
		if ls == nil {
			continue
		}
		for _, c := range ls.policy.Caps {
			if used, ok := addOK(ls.consumedIn(c.Window, w.clock), ls.held); !ok || used > c.Limit {
				return fmt.Errorf("level %q %s: consumed+held %d over cap %d", k, c.Window, used, c.Limit)
			}
		}
	}
	if fs := w.gov.feats[feature]; fs != nil && feature != "" {
		lim := w.gov.cfg.Features[feature].Limit
		if used, ok := addOK(fs.consumedIn(lim.Window, w.clock), fs.held); !ok || used > lim.Amount {
			return fmt.Errorf("feature %q: consumed+held %d over limit %d", feature, used, lim.Amount)
		}
	}
	return nil
}

type timed struct {
	cmd Command
	at  time.Time
}

func TestGovernanceProperties(t *testing.T) {
	var reasons [reasonCount]int
	defer func() { t.Logf("decisions by reason: %v", reasons) }()
	rapid.Check(t, func(rt *rapid.T) {
		w := NewWallet("w1", DefaultLimits())
		now := genStart
		var evs []Event
		run := func(c Command) (Reply, *Error) {
			var r Reply
			var err *Error
			evs, r, err = w.Execute(c, now, evs[:0])
			return r, err
		}
		if _, err := run(Grant{ID: "g", Amount: 1 << 40, Kind: "paid"}); err != nil {
			rt.Fatal(err)
		}
		g := &genState{gov: true}
		cfg := Configure{ID: "c", Policies: genPolicies(rt, 1)}
		if uniform(rt, 0, 1, "features") == 0 {
			cfg.Features = genFeatureSet(rt, 1)
		}
		if _, err := run(cfg); err != nil {
			rt.Skip("invalid configuration drawn")
		}
		var script []timed
		var replies []Reply
		var holds []string
		for i := range 150 {
			now = now.Add(time.Duration(sampled(rt, []int64{0, 0, 0, 1, 2, 5, 20, 60, 600}, "advance")) * time.Second)
			var c Command
			switch op := uniform(rt, 0, 9, "op"); {
			case op < 5 || len(holds) == 0:
				r := Reserve{ID: fmt.Sprintf("r%d", i), Amount: uniform64(rt, 1, 120, "amount"),
					TTLms: uniform64(rt, 1, 900, "ttl") * 1000}
				if rare(rt, "retry of a denied id") && i > 0 {
					r.ID = fmt.Sprintf("r%d", i-1)
				}
				r.Principal, r.Feature = g.principal(rt)
				c = r
			case op < 7:
				h := sampled(rt, holds, "settle")
				c = Settle{ID: "s" + h, HoldID: h, Actual: uniform64(rt, 0, 120, "actual"), Final: uniform(rt, 0, 3, "final") > 0}
			case op < 8:
				h := sampled(rt, holds, "release")
				c = Release{ID: "x" + h, HoldID: h}
			default:
				ch := Check{Amount: uniform64(rt, 1, 120, "camount")}
				ch.Principal, ch.Feature = g.principal(rt)
				c = ch
			}
			// Settles above the hold are usage past it (never denied): keep
			// this test to usage through holds, where caps are strict.
			if s, ok := c.(Settle); ok {
				if hd := w.openHold(s.HoldID); hd == nil || s.Actual > hd.amount {
					continue
				}
			}
			before := snapshot(w)
			script = append(script, timed{c, now})
			r, _ := run(c)
			replies = append(replies, r)
			if x, ok := r.(ReserveReply); ok {
				reasons[x.Reason]++
			}
			if isDenial(r) {
				for _, e := range evs {
					if !isTimeDriven(e) {
						rt.Fatalf("denied %#v emitted %T", c, e)
					}
				}
				if len(evs) == 0 {
					if d := diffSnaps(snapshot(w), before); d != "" {
						rt.Fatalf("denied %#v changed the wallet: %s", c, d)
					}
				}
			}
			if x, ok := r.(ReserveReply); ok && x.HoldID != "" {
				holds = append(holds, x.HoldID)
			}
			if err := checkGovernance(w); err != nil {
				rt.Fatalf("after %#v: %v", c, err)
			}
			for _, p := range genPrincipals {
				for _, f := range genFeatures {
					if err := capsHold(w, p, f); err != nil {
						rt.Fatalf("after %#v: %v", c, err)
					}
				}
			}
		}
		// Replay the same commands at the same times: same decisions.
		w2 := NewWallet("w1", DefaultLimits())
		now = genStart
		w2.Execute(Grant{ID: "g", Amount: 1 << 40, Kind: "paid"}, now, nil)
		w2.Execute(cfg, now, nil)
		for i, s := range script {
			_, r, _ := w2.Execute(s.cmd, s.at, nil)
			if !reflect.DeepEqual(normReply(r), normReply(replies[i])) {
				rt.Fatalf("replay of %#v replied %+v, first run %+v", s.cmd, r, replies[i])
			}
		}
		if d := diffSnaps(snapshot(w2), snapshot(w)); d != "" {
			rt.Fatalf("replayed commands give another wallet: %s", d)
		}
	})
}

// TestUngovernedPrincipalsCostNoState: 200,000 distinct agents under one
// capped user leave no state behind them; only configured levels are kept.
func TestUngovernedPrincipalsCostNoState(t *testing.T) {
	w := NewWallet("w1", DefaultLimits())
	now := genStart
	w.Execute(Grant{ID: "g", Amount: 1 << 40, Kind: "paid"}, now, nil)
	w.Execute(Configure{ID: "c", Policies: map[string]Policy{
		"team:r/user:a": {Caps: []Cap{{Window: WindowMinute, Limit: 1 << 40}}}}}, now, nil)
	for i := range 200_000 {
		id := fmt.Sprintf("r%d", i)
		now = now.Add(time.Millisecond)
		_, r, err := w.Execute(Reserve{ID: id, Amount: 1, Principal: fmt.Sprintf("team:r/user:a/agent:%d", i)}, now, nil)
		if err != nil || !r.(ReserveReply).Allowed {
			t.Fatalf("reserve %d: %+v %v", i, r, err)
		}
		w.Execute(Settle{ID: "s" + id, HoldID: id, Actual: 1, Final: true}, now, nil)
	}
	if len(w.gov.levels) != 1 || len(w.gov.feats) != 0 {
		t.Fatalf("governance keeps %d levels, %d features", len(w.gov.levels), len(w.gov.feats))
	}
	if u := w.gov.levels["team:r/user:a"]; u.held != 0 || u.consumedIn(WindowMinute, w.clock) == 0 {
		t.Fatalf("user usage %+v", u.usage)
	}
}
