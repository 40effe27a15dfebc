package actors

import "errors"

// frozenIDs is the oldest part of an id table restored from columns
// (IDColumns): records that were in the eviction queue when the snapshot
// was taken, kept as the snapshot's columns rather than as records. They
// are always older than every record of the live queue, so they leave
// first, in order: head is the next to go, and a record before it is
// evicted. The live index shadows them: a newer record of the same id (a
// reused id, a pinned open hold, a promoted copy) is found there first.
//
// A frozen record a request finds is promoted: decoded into a real record
// that joins the live index, so a late settle can change its hold status
// and later lookups take one probe. It keeps its place in the queue; the
// promoted map says which record stands for it when it leaves.
type frozenIDs struct {
	cols *IDColumns
	head int
	// slots index records from cols.First on: the high 32 bits of the id's
	// hash, the low 32 the record's row plus one (0: empty). A probe
	// rejects a foreign id without reading its bytes; a later row of the
	// same id replaces an earlier one, as in the live index.
	slots    []uint64
	promoted map[int]*record
}

// newFrozenIDs indexes the columns' live records (check has passed).
func newFrozenIDs(c *IDColumns) *frozenIDs {
	f := &frozenIDs{cols: c, head: c.First}
	size := minIndexSlots
	for size < 2*c.Live() {
		size <<= 1
	}
	f.slots = make([]uint64, size)
	// slot's probe, written out: this loop is most of an activation of a
	// wallet at its id bound, and a call per row measured slower here (2.57–
	// 2.73 against 2.33–2.78 ms, 3 alternated runs of DecodeAndRestoreHot).
	mask := uint64(size - 1)
	for i := c.First; i < c.Len(); i++ {
		id := c.id(i)
		h := hashID(id)
		tag, j := h>>32, h&mask
		for ; f.slots[j] != 0; j = (j + 1) & mask {
			if s := f.slots[j]; s>>32 == tag && c.id(int(uint32(s))-1) == id {
				break // an older row of the same id: replaced
			}
		}
		f.slots[j] = tag<<32 | uint64(i+1)
	}
	return f
}

// slot returns the index of id's slot (hash h), or of the empty slot
// where it would go.
func (f *frozenIDs) slot(id string, h uint64) uint64 {
	mask := uint64(len(f.slots) - 1)
	tag := h >> 32
	for j := h & mask; ; j = (j + 1) & mask {
		s := f.slots[j]
		if s == 0 || s>>32 == tag && f.cols.id(int(uint32(s))-1) == id {
			return j
		}
	}
}

func (f *frozenIDs) live() int { return f.cols.Len() - f.head }

// row returns the newest row of id (hash h), or -1. An evicted row
// (before head) is not returned: every older row of the id is gone too.
func (f *frozenIDs) row(id string, h uint64) int {
	if i := f.newest(id, h); i >= f.head {
		return i
	}
	return -1
}

// newest returns the row the index holds for id (hash h), evicted or not,
// or -1.
func (f *frozenIDs) newest(id string, h uint64) int {
	return int(uint32(f.slots[f.slot(id, h)])) - 1
}

// touch loads id's first slot (see idTable.warm).
func (f *frozenIDs) touch(h uint64) uint64 { return f.slots[h&uint64(len(f.slots)-1)] }

// errFrozenAnswer is the panic of a frozen answer that does not decode:
// its snapshot passed its checksum yet holds what the encoder never
// writes. The actor fails the batch and rebuilds the wallet from its
// whole journal (see actor.decide).
type errFrozenAnswer struct{ err error }

func (e errFrozenAnswer) Error() string { return "snapshot answer does not decode: " + e.err.Error() }

// record decodes row i into r (a new record of the table).
func (f *frozenIDs) record(i int, r *record) {
	ri, err := f.cols.record(i)
	if err != nil {
		panic(errFrozenAnswer{err})
	}
	r.answer, r.at, r.hold = ri.Answer, ri.At, holdStatus(ri.Hold)
}

// promote returns row i as a record in the live index, under hash h.
func (t *idTable) promote(i int, h uint64) *record {
	f := t.frozen
	r := t.newRecord()
	f.record(i, r)
	r.answer.Allocs = t.keepAllocs(r.answer.Allocs)
	t.byID.set(r, h)
	if f.promoted == nil {
		f.promoted = make(map[int]*record)
	}
	f.promoted[i] = r
	return r
}

// evictFrozen evicts the oldest frozen record and reports whether it was
// still its id's record (as idIndex.remove does) and when it was queued.
func (t *idTable) evictFrozen() (current bool, at int64) {
	f := t.frozen
	i := f.head
	if r := f.promoted[i]; r != nil {
		delete(f.promoted, i)
		current = t.byID.remove(r, r.h)
	} else {
		id := f.cols.id(i)
		h := hashID(id)
		current = t.byID.get(id, h) == nil && f.newest(id, h) == i
	}
	f.head++
	if f.live() == 0 {
		t.frozen = nil // the columns' memory goes with the last of them
	}
	return current, f.cols.At[i]
}

// image returns the columns for an image of the table: shared, with the
// promoted records' current hold statuses patched into a copy of the
// status column when any differs (a late settle closed a lapsed hold).
func (f *frozenIDs) image() *IDColumns {
	c := *f.cols
	c.First = f.head
	copied := false
	for i, r := range f.promoted {
		if uint8(r.hold) != c.Hold[i] {
			if !copied {
				c.Hold = append([]uint8(nil), c.Hold...)
				copied = true
			}
			c.Hold[i] = uint8(r.hold)
		}
	}
	return &c
}

// restoreFrozen installs c as the table's oldest records. It is called on
// an empty table, before pinned holds and the live queue are restored.
func (t *idTable) restoreFrozen(c *IDColumns, min int64) (last int64, err error) {
	if last, err = c.check(min); err != nil {
		if !errors.Is(err, ErrBadImage) {
			err = badImage("%v", err)
		}
		return 0, err
	}
	if c.Live() > 0 {
		t.frozen = newFrozenIDs(c)
	}
	return last, nil
}
