package actors

// The accountant: conservation of credits and debt over a wallet's events
// (see state_test.go for the other shared helpers).

import (
	"fmt"
	"slices"
)

// accountant follows a wallet's events from its creation and keeps the
// books the spec promises: every granted credit is remaining, consumed or
// forfeited, per grant and in total; debt is exactly what no credit paid
// minus what was repaid. It also checks burn-down order of each event
// against a shadow wallet that applies the events one by one. The running
// totals may pass int64 in a long run of large amounts and wrap: the
// identities still hold modulo 2^64, far beyond any error they catch.
type accountant struct {
	shadow              *Wallet
	granted             map[string]int64 // by grant id (ids are unique while live)
	consumed, forfeited map[string]int64
	totalGranted        int64
	totalConsumed       int64
	totalForfeited      int64
	debtAdded, repaid   int64
}

func newAccountant(id string, l Limits) *accountant {
	return &accountant{shadow: NewWallet(id, l), granted: map[string]int64{},
		consumed: map[string]int64{}, forfeited: map[string]int64{}}
}

// expectFree is what pickFree must return: free credits of active grants
// in burn-down order, recomputed by sorting every grant.
func expectFree(w *Wallet, amount int64) []Allocation {
	var gs []*grant
	for _, g := range w.grants {
		if g.state == grantActive && g.free() > 0 {
			gs = append(gs, g)
		}
	}
	slices.SortFunc(gs, compareBurn)
	var out []Allocation
	for _, g := range gs {
		if amount == 0 {
			break
		}
		t := min(amount, g.free())
		out = append(out, Allocation{Grant: g.id, Amount: t})
		amount -= t
	}
	return out
}

func sameAllocs(a, b []Allocation) bool { return allocString(a) == allocString(b) }

// book checks one event against the shadow's state before it, then applies it.
func (a *accountant) book(ev Event) error {
	w := a.shadow
	consume := func(allocs []Allocation) {
		for _, x := range allocs {
			a.consumed[x.Grant] += x.Amount
			a.totalConsumed += x.Amount
		}
	}
	switch e := ev.(type) {
	case *GrantCreated:
		if _, live := w.grants[e.Grant]; !live {
			// A reused id after the old grant was dropped: start its books afresh.
			a.consumed[e.Grant], a.forfeited[e.Grant], a.granted[e.Grant] = 0, 0, 0
		}
		a.granted[e.Grant] += e.Amount
		a.totalGranted += e.Amount
	case *HoldPlaced:
		if !sameAllocs(e.Earmarks, expectFree(w, e.Amount)) {
			return fmt.Errorf("hold %s earmarks %v, burn-down order gives %v", e.Hold, e.Earmarks, expectFree(w, e.Amount))
		}
	case *HoldExtended:
		if more := sumAllocations(e.Earmarks); more > 0 && !sameAllocs(e.Earmarks, expectFree(w, more)) {
			return fmt.Errorf("extend of %s earmarks %v, burn-down order gives %v", e.Hold, e.Earmarks, expectFree(w, more))
		}
	case *Debited:
		if !sameAllocs(e.FromFree, expectFree(w, e.Amount)) {
			return fmt.Errorf("debit allocations %v, burn-down order gives %v", e.FromFree, expectFree(w, e.Amount))
		}
		if sumAllocations(e.FromFree)+e.DebtAdded != e.Amount {
			return fmt.Errorf("debit of %d books %v + debt %d", e.Amount, e.FromFree, e.DebtAdded)
		}
		if e.DebtAdded > 0 && w.free != sumAllocations(e.FromFree) {
			return fmt.Errorf("debit made debt %d while free credits were left", e.DebtAdded)
		}
		consume(e.FromFree)
		a.debtAdded += e.DebtAdded
	case *Settled:
		if !e.Late {
			h := w.openHold(e.Hold)
			if h == nil {
				return fmt.Errorf("settle of unknown hold %s", e.Hold)
			}
			if want := takeEarmarks(nil, h.earmarks(), sumAllocations(e.FromHold)); !sameAllocs(e.FromHold, want) {
				return fmt.Errorf("settle of %s took %v from earmarks %v", e.Hold, e.FromHold, h.earmarks())
			}
			if len(e.FromFree) > 0 || e.DebtAdded > 0 {
				if sumAllocations(e.FromHold) != h.amount {
					return fmt.Errorf("settle of %s consumed free credits before its hold", e.Hold)
				}
			}
		}
		if want := expectFree(w, sumAllocations(e.FromFree)); !sameAllocs(e.FromFree, want) {
			return fmt.Errorf("settle of %s took free %v, burn-down order gives %v", e.Hold, e.FromFree, want)
		}
		if e.DebtAdded > 0 && w.free != sumAllocations(e.FromFree) {
			return fmt.Errorf("settle made debt %d while free credits were left", e.DebtAdded)
		}
		consume(e.FromHold)
		consume(e.FromFree)
		a.debtAdded += e.DebtAdded
	case *DebtRepaid:
		for i := 1; i < len(e.Allocations); i++ {
			if compareBurn(w.grants[e.Allocations[i-1].Grant], w.grants[e.Allocations[i].Grant]) >= 0 {
				return fmt.Errorf("debt repaid out of burn-down order: %v", e.Allocations)
			}
		}
		consume(e.Allocations)
		a.repaid += sumAllocations(e.Allocations)
	case *GrantExpired:
		a.forfeited[e.Grant] += e.Amount
		a.totalForfeited += e.Amount
	case *Revoked:
		a.forfeited[e.Grant] += e.Amount
		a.totalForfeited += e.Amount
	}
	w.Apply(ev)
	return nil
}

// check verifies the books against the wallet w (which must have applied
// the same events as the shadow).
func (a *accountant) check(w *Wallet) error {
	if a.totalGranted != w.total+a.totalConsumed+a.totalForfeited {
		return fmt.Errorf("conservation: granted %d != remaining %d + consumed %d + forfeited %d",
			a.totalGranted, w.total, a.totalConsumed, a.totalForfeited)
	}
	if a.debtAdded-a.repaid != w.debt {
		return fmt.Errorf("debt: added %d − repaid %d != debt %d", a.debtAdded, a.repaid, w.debt)
	}
	for id, g := range w.grants {
		if a.granted[id] != g.remaining+a.consumed[id]+a.forfeited[id] || a.granted[id] != g.amount {
			return fmt.Errorf("grant %s: granted %d != remaining %d + consumed %d + forfeited %d",
				id, a.granted[id], g.remaining, a.consumed[id], a.forfeited[id])
		}
	}
	if d := diffSnaps(snapshot(w), snapshot(a.shadow)); d != "" {
		return fmt.Errorf("replay of the events differs from the wallet: %s", d)
	}
	return nil
}
