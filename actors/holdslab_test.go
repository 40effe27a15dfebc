package actors

import "testing"

// Every slot has its own place, in a chunk allocated for it and never
// moved: the first 256 in growing head chunks, the rest in chunks of 256.
func TestHoldSlabSlotsAreDistinctAndStable(t *testing.T) {
	var s holdSlab
	const n = 5 * holdChunkLen
	addrs := make(map[*hold]uint32, n)
	ptrs := make([]*hold, n)
	for i := range n {
		hd := s.alloc()
		if hd.slot != uint32(i) {
			t.Fatalf("alloc %d got slot %d", i, hd.slot)
		}
		if prev, dup := addrs[hd]; dup {
			t.Fatalf("slots %d and %d share a place", prev, i)
		}
		addrs[hd] = uint32(i)
		ptrs[i] = hd
	}
	for i, p := range ptrs {
		if s.at(uint32(i)) != p {
			t.Fatalf("slot %d moved", i)
		}
	}
	var head int
	for _, c := range s.head {
		head += len(c)
	}
	if head != holdChunkLen || len(s.chunks) != n/holdChunkLen-1 {
		t.Fatalf("head chunks hold %d slots, %d full chunks; want 256 and %d", head, len(s.chunks), n/holdChunkLen-1)
	}
}

// eachOpen visits every open hold once, and nothing else, whatever the
// slab's shape: slots in the head chunks and the full ones, closed slots
// among open ones, the last chunk partly used.
func TestHoldSlabEachOpenVisitsTheOpenHolds(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 255, 256, 257, 3*holdChunkLen + 17} {
		var s holdSlab
		want := map[uint32]bool{}
		for i := range n {
			hd := s.alloc()
			if i%3 == 1 {
				continue // never opened: as a slot whose hold closed
			}
			hd.rec.hold = holdOpen
			want[hd.slot] = true
		}
		got := map[uint32]bool{}
		s.eachOpen(func(hd *hold) {
			if got[hd.slot] || hd.rec.hold != holdOpen || s.at(hd.slot) != hd {
				t.Fatalf("%d slots: visited slot %d twice, closed, or not at its place", n, hd.slot)
			}
			got[hd.slot] = true
		})
		if len(got) != len(want) {
			t.Fatalf("%d slots: visited %d open holds, want %d", n, len(got), len(want))
		}
	}
}
