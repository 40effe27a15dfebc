package actors

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
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
	perID := float64(after.HeapAlloc-before.HeapAlloc) / float64(w.Remembered())
	t.Logf("%.0f bytes per remembered id", perID)
	if w.Remembered() != limits.MaxRememberedIDs || perID > 400 {
		t.Fatalf("%d ids remembered, %.0f bytes each", w.Remembered(), perID)
	}
	runtime.KeepAlive(w)
}
