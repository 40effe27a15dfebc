package actors

import (
	"fmt"
	"testing"
	"time"
)

// A wallet forgotten (created here) and later added again keeps its new
// entry when its old slot ages out of the count bound: the old slot must
// not take the new entry with it.
func TestUnknownWalletsForgetThenAddAgain(t *testing.T) {
	u := newUnknownWallets(2, int64(time.Hour))
	now := func() time.Time { return time.Unix(0, 0) }
	u.add("a", 0)
	u.forget("a")
	if u.has("a", now) {
		t.Fatal("forgotten wallet still known")
	}
	u.add("a", 0)
	u.add("b", 0) // three slots for two entries: the oldest (a's first) goes
	if !u.has("a", now) || !u.has("b", now) {
		t.Fatalf("a %v, b %v: want both still known", u.has("a", now), u.has("b", now))
	}
	u.add("c", 0) // now a's live slot is the oldest
	if u.has("a", now) || !u.has("b", now) || !u.has("c", now) {
		t.Fatalf("a %v b %v c %v: want a evicted, b and c known", u.has("a", now), u.has("b", now), u.has("c", now))
	}
}

// Entries and slots stay within the bound whatever the mix of adds and
// forgets, and entries expire with their TTL.
func TestUnknownWalletsBounded(t *testing.T) {
	const max = 16
	u := newUnknownWallets(max, 10)
	for i := range 1000 {
		w := fmt.Sprintf("w%d", i%40)
		if i%3 == 0 {
			u.forget(w)
		} else {
			u.add(w, int64(i))
		}
		if len(u.entries) > max || len(u.fifo) > max {
			t.Fatalf("step %d: %d entries, %d slots, bound %d", i, len(u.entries), len(u.fifo), max)
		}
	}
	u.add("fresh", 0)
	if !u.has("fresh", func() time.Time { return time.Unix(0, 9) }) || u.has("fresh", func() time.Time { return time.Unix(0, 10) }) {
		t.Fatal("entry not fresh before its TTL or not stale after it")
	}
}
