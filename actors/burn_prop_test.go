package actors

// TestBurnDownOrderFromSpec checks burn-down order against a sort written
// from SPEC §2, not against compareBurn: the property and model tests
// compare the wallet with that function or with a copy of its rule, so a
// misreading of the spec in both would pass them. Keys are drawn from tiny
// sets (a few priorities, two expiries or none, a few effective times,
// ids that differ in case, length and UTF-8), so that grants tie on every
// step of the order but the last, and the later steps decide.

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// specGrant is a grant's burn-down key as SPEC §2 states it.
type specGrant struct {
	id        string
	priority  int64
	expiresAt time.Time // zero: never expires
	effective time.Time
	amount    int64
}

func (g specGrant) String() string {
	exp := "never"
	if !g.expiresAt.IsZero() {
		exp = g.expiresAt.Sub(genStart).String()
	}
	return fmt.Sprintf("%q priority %d expires %s effective %s amount %d",
		g.id, g.priority, exp, g.effective.Sub(genStart), g.amount)
}

// specBurnOrder sorts grants ascending on SPEC §2's key: priority (lower
// first); expiring before non-expiring, earliest expires_at first; earliest
// effective_at first; id in byte order.
func specBurnOrder(gs []specGrant) []specGrant {
	out := slices.Clone(gs)
	slices.SortStableFunc(out, func(a, b specGrant) int {
		switch {
		case a.priority < b.priority:
			return -1
		case a.priority > b.priority:
			return 1
		case !a.expiresAt.IsZero() && b.expiresAt.IsZero():
			return -1
		case a.expiresAt.IsZero() && !b.expiresAt.IsZero():
			return 1
		case a.expiresAt.Before(b.expiresAt):
			return -1
		case a.expiresAt.After(b.expiresAt):
			return 1
		case a.effective.Before(b.effective):
			return -1
		case a.effective.After(b.effective):
			return 1
		}
		return bytes.Compare([]byte(a.id), []byte(b.id))
	})
	return out
}

// specTake takes amount from the grants in order, each up to what left
// says is still there, and lowers left by what it took.
func specTake(order []specGrant, left map[string]int64, amount int64) []Allocation {
	var out []Allocation
	for _, g := range order {
		if amount == 0 {
			break
		}
		if t := min(left[g.id], amount); t > 0 {
			out = append(out, Allocation{Grant: g.id, Amount: t})
			left[g.id] -= t
			amount -= t
		}
	}
	return out
}

func TestBurnDownOrderFromSpec(t *testing.T) {
	ids := []string{"a", "B", "a0", "é", "A", "aa", "b", "Z"}
	t0 := genStart
	expiries := []time.Time{{}, t0.Add(time.Hour), t0.Add(2 * time.Hour)}
	// The zero effective_at is the grant's own time, t0: it ties with the
	// explicit t0. The last one is in the future: that grant enters the
	// order when it activates, not when it is made.
	effective := []time.Time{{}, t0, t0.Add(-2 * time.Minute), t0.Add(-time.Minute), t0.Add(time.Minute)}
	priorities := []int64{math.MinInt64, -1, 10, 50, 90, math.MaxInt64}
	rapid.Check(t, func(rt *rapid.T) {
		w := NewWallet("w1", DefaultLimits())
		// Large amounts in some runs: the walk must not overflow near
		// int64's end (eight grants of 5·2^57 stay below it).
		scale := sampled(rt, []int64{1, 1, 1 << 57}, "scale")
		perm := rapid.Permutation(ids).Draw(rt, "ids")
		var gs []specGrant
		var total int64
		for _, id := range perm[:rapid.IntRange(2, 8).Draw(rt, "grants")] {
			c := Grant{ID: id, Amount: rapid.Int64Range(1, 5).Draw(rt, "amount") * scale,
				Kind:        sampled(rt, []string{"promotional", "included", "paid"}, "kind"),
				EffectiveAt: sampled(rt, effective, "effective"),
				ExpiresAt:   sampled(rt, expiries, "expires")}
			// SPEC §2's default priorities, tied with explicit ones.
			g := specGrant{id: id, priority: map[string]int64{"promotional": 10, "included": 50, "paid": 90}[c.Kind],
				expiresAt: c.ExpiresAt, effective: c.EffectiveAt, amount: c.Amount}
			if rapid.Bool().Draw(rt, "own priority") {
				p := sampled(rt, priorities, "priority")
				c.Priority, g.priority = &p, p
			}
			if g.effective.IsZero() {
				g.effective = t0
			}
			if _, _, err := w.Execute(c, t0, nil); err != nil {
				rt.Fatalf("%#v: %v", c, err)
			}
			gs = append(gs, g)
			total += c.Amount
		}
		order := specBurnOrder(gs)
		left := map[string]int64{}
		for _, g := range gs {
			left[g.id] = g.amount
		}
		now := t0.Add(2 * time.Minute) // every grant active, none expired
		run := func(c Command) []Event {
			evs, r, err := w.Execute(c, now, nil)
			if err != nil || isDenial(r) {
				rt.Fatalf("%#v: %+v %v", c, r, err)
			}
			return evs
		}
		_, r, _ := w.Execute(Balance{}, now, nil)
		var listed []string
		for _, v := range r.(BalanceReply).Grants {
			listed = append(listed, v.ID)
		}
		var want []string
		for _, g := range order {
			want = append(want, g.id)
		}
		if !slices.Equal(listed, want) {
			rt.Fatalf("balance lists %v, spec order %v (keys %v)", listed, want, order)
		}

		// One hold across several grants, settled in two parts.
		amount := rapid.Int64Range(1, total).Draw(rt, "reserve")
		earmarks := specTake(order, left, amount)
		evs := run(Reserve{ID: "r", Amount: amount})
		if got := evs[len(evs)-1].(*HoldPlaced).Earmarks; !sameAllocs(got, earmarks) {
			rt.Fatalf("reserve of %d earmarks %v, spec order %v (keys %v)", amount, got, earmarks, order)
		}
		held := map[string]int64{}
		for _, e := range earmarks {
			held[e.Grant] = e.Amount
		}
		first := rapid.Int64Range(0, amount-1).Draw(rt, "partial settle")
		evs = run(Settle{ID: "s1", HoldID: "r", Actual: first})
		if got, want := evs[len(evs)-1].(*Settled).FromHold, specTake(order, held, first); !sameAllocs(got, want) {
			rt.Fatalf("partial settle of %d took %v from the hold, spec order %v (keys %v)", first, got, want, order)
		}
		// The rest of the hold and some free credits beyond it.
		beyond := rapid.Int64Range(0, total-amount).Draw(rt, "beyond")
		evs = run(Settle{ID: "s2", HoldID: "r", Actual: amount - first + beyond, Final: true})
		s := evs[len(evs)-1].(*Settled)
		if want := specTake(order, held, amount-first); !sameAllocs(s.FromHold, want) {
			rt.Fatalf("final settle took %v from the hold, spec order %v (keys %v)", s.FromHold, want, order)
		}
		if want := specTake(order, left, beyond); !sameAllocs(s.FromFree, want) {
			rt.Fatalf("final settle took %v of free credits, spec order %v (keys %v)", s.FromFree, want, order)
		}
	})
}
