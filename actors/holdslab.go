package actors

import "math/bits"

// holdSlab stores a wallet's open holds in chunks of slots, reused
// through a free list, instead of each hold living in the HoldPlaced event
// that opened it.
//
// That is for the collector. A wallet with 100,000 open holds used to keep
// 100,000 events alive (~580 bytes each when this was written), each with half a dozen pointers, at
// scattered addresses the collector visited one by one on every cycle —
// work that every allocation on the node paid for in proportion. A chunk
// is one object the collector scans front to back, and a hold's only
// pointers are its strings (id, principal, feature, earmarks' grant ids).
// Expiry entries and records name a hold by slot, so neither points into
// it.
//
// Memory grows to the peak of open holds (at most Limits.MaxOpenHolds, plus
// the closed holds whose expiry entries have not left yet) and is not
// given back while the wallet lives, as the id index keeps its peak size.
// Chunks never move (the id index points at the records inside holds).
// The first 256 slots are in small chunks (head: 8, 8, 16, 32, 64 and 128
// slots), so a wallet with a few holds — most of the up to 200,000 a node
// keeps in memory — does not pay for 256 of them (~80 KB); the rest in
// chunks of 256, indexed as fixed arrays on the hot wallets' path.
type holdSlab struct {
	head   [6][]hold
	chunks []*holdChunk // slots 256 on: chunks[i] has slots 256(i+1) to 256(i+2)-1
	free   []uint32     // slots ready for reuse, the most recently freed last
	used   uint32       // slots handed out at least once
}

const (
	holdChunkLen = 256 // slots of every chunk from the 257th slot on
	maxHoldSlots = 1<<32 - 1
)

type holdChunk [holdChunkLen]hold

func (s *holdSlab) at(slot uint32) *hold {
	if slot >= holdChunkLen {
		return &s.chunks[slot/holdChunkLen-1][slot%holdChunkLen]
	}
	k, off := headOf(slot)
	return &s.head[k][off]
}

// headOf places one of the first 256 slots: head chunks 0 to 5 hold slots
// 0–7, 8–15, 16–31, 32–63, 64–127 and 128–255.
func headOf(slot uint32) (chunk, off uint32) {
	if slot < 8 {
		return 0, slot
	}
	k := uint32(bits.Len32(slot >> 3))
	return k, slot - 8<<(k-1)
}

// grow makes room for slot, the next never used.
func (s *holdSlab) grow(slot uint32) {
	if slot >= holdChunkLen {
		if slot%holdChunkLen == 0 {
			s.chunks = append(s.chunks, new(holdChunk))
		}
		return
	}
	if k, off := headOf(slot); off == 0 {
		s.head[k] = make([]hold, max(8, 8<<k/2))
	}
}

// alloc returns an empty hold in a free slot, the most recently freed
// first: its lines are the likeliest to be in cache.
func (s *holdSlab) alloc() *hold {
	var slot uint32
	if n := len(s.free); n > 0 {
		slot = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		if s.used == maxHoldSlots {
			panic("purser: more hold slots than a uint32 numbers") // ~1 TB of holds: memory runs out first
		}
		slot = s.used
		s.used++
		s.grow(slot)
	}
	hd := s.at(slot)
	if hd.entries != 0 || hd.rec.hold == holdOpen {
		panic("purser: reusing a hold slot still in use")
	}
	*hd = hold{gen: hd.gen, slot: slot} // gen carries on: no old entry may match
	return hd
}

// eachOpen calls fn for every open hold, in slot order. It reads the
// slots front to back, chunk by chunk, which the CPU streams in; a walk of
// the expiry heap (every open hold has an entry there) visits them at
// random, a cache miss each, and that was most of the time a snapshot of
// a wallet with 25,000 open holds held its actor up.
func (s *holdSlab) eachOpen(fn func(*hold)) {
	for slot := uint32(0); slot < s.used; {
		var run []hold
		if slot < holdChunkLen {
			k, _ := headOf(slot)
			run = s.head[k]
		} else {
			run = s.chunks[slot/holdChunkLen-1][:]
		}
		run = run[:min(uint32(len(run)), s.used-slot)]
		for i := range run {
			if run[i].rec.hold == holdOpen {
				fn(&run[i])
			}
		}
		slot += uint32(len(run))
	}
}

// close marks a hold closed and drops what it references, except its id:
// stale expiry entries still break ties by it until they leave.
func (hd *hold) close() {
	hd.rec.hold, hd.rec.pos = noHold, 0
	hd.principal, hd.feature, hd.marks, hd.nmarks, hd.more = "", "", [2]Allocation{}, 0, nil
}

// entryGone is called as an expiry entry naming slot leaves the heap; a
// closed hold's slot is free once its last entry has left.
func (s *holdSlab) entryGone(slot uint32) {
	hd := s.at(slot)
	if hd.entries == 0 {
		panic("purser: expiry entry of a hold slot without entries")
	}
	hd.entries--
	if hd.entries == 0 && hd.rec.hold != holdOpen {
		s.free = append(s.free, slot)
	}
}
