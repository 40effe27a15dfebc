package actors

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"weak"
)

// Closing and extending holds leave stale entries in the expiry heap; they
// must never be due, never outnumber the open holds by more than the
// rebuild margin, and holds must still expire in (expiry, id) order.
func TestExpiryHeapStaysBoundedAndInOrder(t *testing.T) {
	w := NewWallet("w", DefaultLimits())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []Event
	exec := func(c Command, at time.Time) {
		t.Helper()
		var err *Error
		if evs, _, err = w.Execute(c, at, evs[:0]); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		if err := checkInvariants(w); err != nil {
			t.Fatalf("after %T at %v: %v", c, at.Sub(t0), err)
		}
	}
	exec(Grant{ID: "g", Amount: 1 << 40, Kind: "paid"}, t0)
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		exec(Reserve{ID: id, Amount: 10, TTLms: int64(10_000 * (i + 1))}, t0)
	}
	// c's expiry moves back and forth 1,000 times; each move leaves a stale
	// entry, and a rebuild must keep them bounded (checkInvariants).
	for i := range 1000 {
		ttl := int64(30_000 + 5_000*(i%3))
		exec(Extend{ID: "x" + strconv.Itoa(i), HoldID: "c", TTLms: ttl}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	exec(Settle{ID: "sb", HoldID: "b", Actual: 10, Final: true}, t0.Add(time.Second))
	exec(Release{ID: "rd", HoldID: "d"}, t0.Add(time.Second))
	// Two more holds sharing an expiry: the id breaks the tie.
	exec(Reserve{ID: "zz", Amount: 10, TTLms: 59_000}, t0.Add(time.Second))
	exec(Reserve{ID: "za", Amount: 10, TTLms: 59_000}, t0.Add(time.Second))

	var order []string
	for s := 1; s <= 90; s++ {
		exec(Tick{}, t0.Add(time.Duration(s)*time.Second))
		for _, e := range evs {
			if x, ok := e.(*HoldExpired); ok {
				order = append(order, x.Hold)
			}
		}
	}
	// c last moved at 999 ms to 30 s + 5 s × (999 % 3 = 0): 30.999 s.
	want := "a c e za zz"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("expired in order %q, want %q", got, want)
	}
	if w.OpenHolds() != 0 || len(w.expiries) != 0 {
		t.Fatalf("%d holds open, %d expiry entries left", w.OpenHolds(), len(w.expiries))
	}
}

// A remembered id costs its record, not the event that produced it: a
// closed hold's record is copied out of the hold (which lives in the event
// that placed it), and answers' allocation lists out of their events. A
// wallet at its id bound measured ~250 bytes per id; keeping events alive
// made it ~650.
func TestRememberedIDsDoNotKeepEventsAlive(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	limits := DefaultLimits()
	limits.MaxRememberedIDs = 20_000
	w := NewWallet("w", limits)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []Event
	evs, _, _ = w.Execute(Grant{ID: "g", Amount: 1 << 50, Kind: "paid"}, now, evs[:0])
	for i := range 15_000 {
		id := "r" + strconv.Itoa(i)
		evs, _, _ = w.Execute(Reserve{ID: id, Amount: 7}, now, evs[:0])
		evs, _, _ = w.Execute(Settle{ID: "s" + id, HoldID: id, Actual: 5, Final: true}, now, evs[:0])
	}
	evs = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	perID := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(w.Remembered())
	t.Logf("%.0f bytes per remembered id", perID)
	if w.Remembered() != limits.MaxRememberedIDs || perID > 400 {
		t.Fatalf("%d ids remembered, %.0f bytes each", w.Remembered(), perID)
	}
	runtime.KeepAlive(w)
}

// An open hold lives in the wallet's hold slab, not in the HoldPlaced
// event that opened it: once the journal lets go of the event, the
// collector may free it while the hold stays open.
func TestOpenHoldDoesNotKeepItsEventAlive(t *testing.T) {
	w := NewWallet("w", DefaultLimits())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs, _, _ := w.Execute(Grant{ID: "g", Amount: 1 << 40, Kind: "paid"}, now, nil)
	evs, _, err := w.Execute(Reserve{ID: "r", Amount: 7}, now, evs[:0])
	if err != nil || len(evs) != 1 {
		t.Fatalf("reserve: %v, %d events", err, len(evs))
	}
	placed := weak.Make(evs[0].(*HoldPlaced))
	clear(evs)
	runtime.GC()
	if placed.Value() != nil {
		t.Fatal("the open hold keeps its HoldPlaced event alive")
	}
	if _, _, err := w.Execute(Settle{ID: "s", HoldID: "r", Actual: 5, Final: true}, now, evs[:0]); err != nil {
		t.Fatal(err)
	}
}

// A closed hold's slot is reused by the next reserve; the events that
// listed its earmarks must not change when that happens (they own
// copies), however many earmarks there were.
func TestEventsOwnTheEarmarksOfAReusedHoldSlot(t *testing.T) {
	for _, grants := range []int{1, 2, 3} {
		w := NewWallet("w", DefaultLimits())
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		exec := func(c Command, at time.Time) []Event {
			t.Helper()
			out, _, err := w.Execute(c, at, nil)
			if err != nil {
				t.Fatalf("%T: %v", c, err)
			}
			if err := checkInvariants(w); err != nil {
				t.Fatalf("after %T: %v", c, err)
			}
			return out
		}
		find := func(evs []Event, f func(Event) []Allocation) string {
			t.Helper()
			for _, e := range evs {
				if as := f(e); as != nil {
					return allocString(as)
				}
			}
			t.Fatalf("no such event in %v", evs)
			return ""
		}
		for i := range grants {
			exec(Grant{ID: "g" + strconv.Itoa(i), Amount: 10, Kind: "paid"}, now)
		}
		all := int64(10 * grants)
		exec(Reserve{ID: "a", Amount: all - 5, TTLms: 1000}, now)
		lapsed := exec(Tick{}, now.Add(2*time.Second)) // a expires and is released
		exec(Reserve{ID: "b", Amount: all, TTLms: 1000}, now.Add(2*time.Second))
		released := exec(Release{ID: "rb", HoldID: "b"}, now.Add(2*time.Second))
		exec(Reserve{ID: "c", Amount: all, TTLms: 1000, OnExpiry: ExpireCapture}, now.Add(2*time.Second))
		captured := exec(Tick{}, now.Add(4*time.Second)) // c is consumed whole
		exec(Grant{ID: "h", Amount: 10, Kind: "paid"}, now.Add(4*time.Second))
		exec(Reserve{ID: "d", Amount: 10, TTLms: 1000}, now.Add(4*time.Second))
		if w.holdSlab.used != 1 {
			t.Fatalf("%d hold slots used, want the one reused", w.holdSlab.used)
		}

		got := find(lapsed, func(e Event) []Allocation {
			if x, ok := e.(*HoldExpired); ok {
				return x.Returned
			}
			return nil
		}) + " | " + find(released, func(e Event) []Allocation {
			if x, ok := e.(*Released); ok {
				return x.Returned
			}
			return nil
		}) + " | " + find(captured, func(e Event) []Allocation {
			if x, ok := e.(*Settled); ok {
				return x.FromHold
			}
			return nil
		})
		want := map[int]string{
			1: "g0:5 | g0:10 | g0:10",
			2: "g0:10,g1:5 | g0:10,g1:10 | g0:10,g1:10",
			3: "g0:10,g1:10,g2:5 | g0:10,g1:10,g2:10 | g0:10,g1:10,g2:10",
		}[grants]
		if got != want {
			t.Errorf("%d grants: events list %q, want %q", grants, got, want)
		}
	}
}

// An open hold costs its slot, its expiry entry and its share of the id
// index — about 400 bytes — not the ~600-byte event that opened it as
// well (which it kept alive, and the collector marked, before holds had
// slots of their own).
func TestOpenHoldsCostTheirSlots(t *testing.T) {
	var before, after runtime.MemStats
	w := NewWallet("w", DefaultLimits())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs, _, _ := w.Execute(Grant{ID: "g", Amount: 1 << 50, Kind: "paid"}, now, nil)
	const holds = 20_000
	ids := make([]string, holds) // the ids are the requests', not the holds' cost
	for i := range ids {
		ids[i] = "r" + strconv.Itoa(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		evs, _, _ = w.Execute(Reserve{ID: id, Amount: 7}, now, evs[:0])
	}
	evs = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	perHold := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / holds
	t.Logf("%.0f bytes per open hold", perHold)
	if w.OpenHolds() != holds || perHold > 500 {
		t.Fatalf("%d holds open, %.0f bytes each", w.OpenHolds(), perHold)
	}
	runtime.KeepAlive(w)
	runtime.KeepAlive(ids)
}

// Many holds placed at random times with random TTLs, some settled (their
// slots reused) and some extended (earlier or later), expire in exactly
// the order a sort of the survivors by (expiry, id) gives.
func TestExpiryOrderWithManyHolds(t *testing.T) {
	w := NewWallet("w", DefaultLimits())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	exec := func(c Command, at time.Time) []Event {
		t.Helper()
		evs, _, err := w.Execute(c, at, nil)
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		return evs
	}
	exec(Grant{ID: "g", Amount: 1 << 50, Kind: "paid"}, t0)
	type open struct {
		id  string
		exp time.Time
	}
	holds := map[string]time.Time{}
	var ids []string // placed, in order; some since settled
	now := t0
	for i := range 12_000 {
		now = now.Add(time.Duration(rng.IntN(3)) * time.Millisecond) // equal times happen: ids break ties
		id := "h" + strconv.Itoa(rng.IntN(1_000_000)) + "-" + strconv.Itoa(i)
		ttl := int64(60_000 + 1000*rng.IntN(100))
		exec(Reserve{ID: id, Amount: 1, TTLms: ttl}, now)
		holds[id] = now.Add(time.Duration(ttl) * time.Millisecond)
		ids = append(ids, id)
		switch rng.IntN(4) {
		case 0: // settle an open hold, picked at random
			ids = slices.DeleteFunc(ids, func(h string) bool { _, ok := holds[h]; return !ok })
			h := ids[rng.IntN(len(ids))]
			exec(Settle{ID: "s" + strconv.Itoa(i), HoldID: h, Actual: 1, Final: true}, now)
			delete(holds, h)
		case 1: // move this hold's expiry, maybe earlier
			ttl := int64(30_000 + 1000*rng.IntN(100))
			exec(Extend{ID: "x" + strconv.Itoa(i), HoldID: id, TTLms: ttl}, now)
			holds[id] = now.Add(time.Duration(ttl) * time.Millisecond)
		}
		if i%1000 == 0 {
			if err := checkInvariants(w); err != nil {
				t.Fatalf("after %d reserves: %v", i, err)
			}
		}
	}
	var want []open
	for id, exp := range holds {
		want = append(want, open{id, exp})
	}
	slices.SortFunc(want, func(a, b open) int {
		if c := a.exp.Compare(b.exp); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	var got []string
	for _, e := range exec(Tick{}, now.Add(time.Hour)) {
		if x, ok := e.(*HoldExpired); ok {
			got = append(got, x.Hold)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d holds expired, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].id {
			t.Fatalf("expiry %d is %s, want %s (at %v)", i, got[i], want[i].id, want[i].exp.Sub(t0))
		}
	}
	if err := checkInvariants(w); err != nil {
		t.Fatal(err)
	}
}
