package actors

// holdSlab stores a wallet's open holds in fixed chunks of slots, reused
// through a free list, instead of each hold living in the HoldPlaced event
// that opened it.
//
// That is for the collector. A wallet with 100,000 open holds used to keep
// 100,000 events of ~580 bytes alive, each with half a dozen pointers, at
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
type holdSlab struct {
	chunks []*holdChunk
	free   []uint32 // slots ready for reuse, the most recently freed last
	used   uint32   // slots handed out at least once
}

const (
	holdChunkLen = 256
	maxHoldSlots = 1<<32 - 1
)

type holdChunk [holdChunkLen]hold

func (s *holdSlab) at(slot uint32) *hold { return &s.chunks[slot/holdChunkLen][slot%holdChunkLen] }

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
		if int(slot/holdChunkLen) == len(s.chunks) {
			s.chunks = append(s.chunks, new(holdChunk))
		}
	}
	hd := s.at(slot)
	if hd.entries != 0 || hd.rec.hold == holdOpen {
		panic("purser: reusing a hold slot still in use")
	}
	*hd = hold{gen: hd.gen, slot: slot} // gen carries on: no old entry may match
	return hd
}

// close marks a hold closed and drops what it references, except its id:
// stale expiry entries still break ties by it until they leave.
func (hd *hold) close() {
	hd.rec.hold, hd.rec.open = noHold, 0
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
