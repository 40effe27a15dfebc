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
