package actors

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// A bucket rescaled to a new limit keeps the units it is short of full as
// the old limit reads them: what is available after is the new limit less
// what was taken, and at least none. The bucket may have been taken under
// yet another limit (a configure journaled before rescaling existed).
func TestRescaleKeepsTheUnitsTaken(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		window := rapid.SampledFrom([]int64{int64(time.Second), int64(time.Minute), int64(time.Hour),
			24 * int64(time.Hour), 31 * 24 * int64(time.Hour)}).Draw(t, "window")
		limit := rapid.OneOf(rapid.Int64Range(1, 100), rapid.Int64Range(1, 1<<62)).Draw(t, "limit")
		at := int64(1_800_000_000) * int64(time.Second)
		var b gcra
		for range rapid.IntRange(0, 5).Draw(t, "takes") {
			at += rapid.Int64Range(0, window).Draw(t, "gap")
			next, ok, _ := b.take(rapid.Int64Range(1, limit).Draw(t, "cost"), limit, window, at)
			if ok {
				b = next
			}
		}
		at += rapid.Int64Range(0, window).Draw(t, "until")
		old := limit
		if rapid.Bool().Draw(t, "old limit of its own") {
			old = rapid.OneOf(rapid.Int64Range(1, 100), rapid.Int64Range(1, 1<<62)).Draw(t, "old limit")
		}
		before := b.available(old, window, at)
		n := rapid.OneOf(rapid.Int64Range(1, 100), rapid.Int64Range(1, 1<<62)).Draw(t, "new limit")
		r := b.rescale(old, n, window, at)
		want := max(0, n-(old-before))
		if old == n || b.n == 0 {
			want = b.available(n, window, at)
		}
		if got := r.available(n, window, at); got != want {
			t.Fatalf("%d of %d available, rescaled to %d: %d, want %d (bucket %+v → %+v)", before, limit, n, got, want, b, r)
		}
		if r.tat > at+window {
			t.Fatalf("rescaled past an empty bucket: %+v at %d", r, at)
		}
	})
}
