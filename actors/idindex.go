package actors

import "hash/maphash"

// idIndex maps a request id to its newest record. It is a linear-probing
// hash table of (hash, record) slots rather than a Go map because a hot
// wallet's table sits at its bound (100,000 ids by default): every settle
// inserts two records and evicts two, and each of those on a Go map is a
// cache miss on the bucket plus one on the key's bytes to compare it. Here
// a slot carries the id's full 64-bit hash, so a new id is rejected
// without touching any key, and eviction finds its slot by record identity
// — one cold line per operation instead of two or three.
//
// The index is not state: it is rebuilt from the records (replay or
// image), so its per-process hash seed never reaches a journal or a
// snapshot.
type idIndex struct {
	slots []idSlot // len is a power of two, or zero
	n     int
}

type idSlot struct {
	h uint64
	r *record // nil: empty
}

var idSeed = maphash.MakeSeed()

func hashID(id string) uint64 { return maphash.String(idSeed, id) }

const minIndexSlots = 16

// newIDIndex sizes an index for hint records; with none it allocates
// nothing until the first set (most wallets a node activates are small).
func newIDIndex(hint int) idIndex {
	if hint == 0 {
		return idIndex{}
	}
	size := minIndexSlots
	for size < 2*hint {
		size <<= 1
	}
	return idIndex{slots: make([]idSlot, size)}
}

func (x *idIndex) len() int { return x.n }

// get returns the record for id, whose hash is h, or nil.
func (x *idIndex) get(id string, h uint64) *record {
	if x.n == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.r == nil {
			return nil
		}
		if s.h == h && s.r.answer.ID == id {
			return s.r
		}
	}
}

// set makes r the record of its id, whose hash is h, replacing an older
// one. It stamps r with h.
func (x *idIndex) set(r *record, h uint64) {
	r.h = h
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	for i := r.h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.r == nil {
			*s = idSlot{h: r.h, r: r}
			x.n++
			return
		}
		if s.h == r.h && s.r.answer.ID == r.answer.ID {
			s.r = r
			return
		}
	}
}

// repoint makes the slot of old (which must be indexed) hold r, a copy of
// it.
func (x *idIndex) repoint(old, r *record) {
	mask := len(x.slots) - 1
	for i := int(old.h) & mask; ; i = (i + 1) & mask {
		if x.slots[i].r == old {
			x.slots[i].r = r
			return
		}
	}
}

// remove drops r, whose id's hash is h, if it is still its id's record (a
// newer record of a reused id may have replaced it) and reports whether it
// was. The probe matches the record's address, never reads the record.
func (x *idIndex) remove(r *record, h uint64) bool {
	if x.n == 0 {
		return false
	}
	mask := len(x.slots) - 1
	i := int(h) & mask
	for {
		s := &x.slots[i]
		if s.r == nil {
			return false
		}
		if s.r == r {
			break
		}
		i = (i + 1) & mask
	}
	x.deleteAt(i)
	return true
}

// deleteAt empties slot i by backward shift: later slots of the probe run
// move into the hole while their home allows, so lookups never need
// tombstones.
func (x *idIndex) deleteAt(i int) {
	mask := len(x.slots) - 1
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := x.slots[j]
		if s.r == nil {
			break
		}
		home := int(s.h) & mask
		// s may move to the hole at i unless its home lies in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			x.slots[i] = s
			i = j
		}
	}
	x.slots[i] = idSlot{}
	x.n--
}

func (x *idIndex) grow() {
	old := x.slots
	size := max(2*len(old), minIndexSlots)
	x.slots = make([]idSlot, size)
	mask := uint64(size - 1)
	for _, s := range old {
		if s.r == nil {
			continue
		}
		i := s.h & mask
		for x.slots[i].r != nil {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}

// each calls fn for every indexed record, in no particular order.
func (x *idIndex) each(fn func(*record)) {
	for _, s := range x.slots {
		if s.r != nil {
			fn(s.r)
		}
	}
}
