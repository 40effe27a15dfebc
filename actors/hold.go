package actors

import "container/heap"

// hold is an open hold, in a slot of the wallet's holdSlab. Its earmarks
// are sorted in burn-down order of their grants and always sum to amount.
//
// A slot is reused once its hold has closed and no expiry entry names it,
// so nothing may keep a hold's memory past the decision or booking at hand:
// an event that lists a hold's earmarks gets a copy (earmarks), and the
// pinned record is copied out when the hold closes (Wallet.closeHold).
//
// The collector follows only its strings (the id, principal, feature and
// the earmarks' grant ids) and a long earmark list; a hold keeps no event
// alive (see holdSlab).
type hold struct {
	// rec is the reserve's id record, pinned while the hold is open; its
	// answer's ID is the hold's id. It comes first so that the index
	// probe, which compares that id, and the booking read neighbouring
	// lines.
	rec       record
	amount    int64
	expiresAt int64  // unix ns
	gen       uint64 // bumped when it closes or its expiry moves (holdExpiries); kept across reuse
	entries   uint32 // expiry entries naming this slot, current or stale
	slot      uint32 // where it lives in the holdSlab
	onExpiry  OnExpiry
	nmarks    uint8 // earmarks in marks (when more is nil)
	principal string
	feature   string
	// The earmarks: inline when they fit (a reserve on a wallet whose first
	// grant covers it has one), else more, a list the hold owns and never
	// writes in place.
	marks [2]Allocation
	more  []Allocation
}

func (hd *hold) id() string { return hd.rec.answer.ID }

// earmarks are the hold's earmarks, valid until the hold next changes:
// callers copy what they keep (takeEarmarks, subtractEarmarks and the
// events' buffers do).
func (hd *hold) earmarks() []Allocation {
	if hd.more != nil {
		return hd.more
	}
	return hd.marks[:hd.nmarks]
}

// setEarmarks replaces the earmarks with as. A list too long for marks is
// kept as it is, so as must not be written afterwards: callers pass a list
// they built (or an event's, which is never written either).
func (hd *hold) setEarmarks(as []Allocation) {
	if len(as) <= len(hd.marks) {
		hd.nmarks = uint8(copy(hd.marks[:], as))
		hd.more = nil
		return
	}
	hd.nmarks, hd.more = 0, as
}

// subtract takes take out of the earmarks (zeros dropped). Inline marks
// are filtered in place — a write never passes the read it follows — so
// the settle and release paths allocate nothing for it.
func (hd *hold) subtract(take []Allocation) {
	if hd.more == nil {
		hd.nmarks = uint8(len(subtractEarmarks(hd.marks[:0], hd.marks[:hd.nmarks], take)))
		return
	}
	hd.setEarmarks(subtractEarmarks(nil, hd.more, take))
}

// holdExpiries is a 4-ary min-heap of open holds by (expiresAt, id): Tick
// finds what is due without scanning every hold.
//
// It is built for the hot path of settle, which closes a hold — most often
// the earliest to expire — on a wallet that may have 100,000 open:
//   - each entry carries its sort key (the expiry and the id's first 8
//     bytes), so sifting compares entries in the heap array instead of
//     reading a cache-cold hold per comparison;
//   - an entry names its hold by slot, not pointer, so the array is
//     nothing the collector scans;
//   - four children share a cache line or two, at half a binary heap's depth;
//   - closing or extending a hold does not search the heap: it bumps the
//     hold's generation, which makes its entry stale (an extend pushes a
//     fresh one). Stale entries leave when they reach the top, which the
//     heap keeps current after every change, and all at once when they
//     outnumber the open holds, so memory stays O(open holds) and the work
//     amortized O(log n) per change, with no position to keep in the holds.
//
// A closed hold's slot is reused only when its last entry has left
// (holdSlab.entryGone), so an entry's tie-break id never changes under it.
// Only current entries are state; which stale ones linger is not, and it
// never changes a decision.
type holdExpiries []expiryEntry

type expiryEntry struct {
	at   int64
	pre  uint64 // id's first 8 bytes, big-endian: orders like the id itself
	gen  uint64 // current while it equals its hold's gen
	slot uint32
}

func idPrefix(id string) uint64 {
	var p uint64
	for i := 0; i < 8; i++ {
		p <<= 8
		if i < len(id) {
			p |= uint64(id[i])
		}
	}
	return p
}

func (e *expiryEntry) before(f *expiryEntry, s *holdSlab) bool {
	if e.at != f.at {
		return e.at < f.at
	}
	if e.pre != f.pre {
		return e.pre < f.pre
	}
	return s.at(e.slot).id() < s.at(f.slot).id()
}

func (e *expiryEntry) current(s *holdSlab) bool { return e.gen == s.at(e.slot).gen }

// top is the hold that expires first; the heap must not be empty.
func (q holdExpiries) top(s *holdSlab) *hold { return s.at(q[0].slot) }

// push adds an entry for hd at its current expiry.
func (q *holdExpiries) push(hd *hold, s *holdSlab) {
	q.appendEntry(hd)
	q.up(len(*q)-1, s)
}

// appendEntry adds an entry for hd without ordering the heap (init does).
func (q *holdExpiries) appendEntry(hd *hold) {
	hd.entries++
	*q = append(*q, expiryEntry{at: hd.expiresAt, pre: idPrefix(hd.id()), gen: hd.gen, slot: hd.slot})
}

// drop forgets a closed hold; open is the number of holds still open.
func (q *holdExpiries) drop(hd *hold, open int, s *holdSlab) {
	hd.gen++
	q.clean(open, s)
}

// update re-sorts hd after its expiry changed.
func (q *holdExpiries) update(hd *hold, open int, s *holdSlab) {
	hd.gen++
	q.push(hd, s)
	q.clean(open, s)
}

// clean pops stale entries off the top, so top and nextDue see a current
// one, and rebuilds the heap when stale entries outnumber open holds.
func (q *holdExpiries) clean(open int, s *holdSlab) {
	if len(*q) > 2*open+64 {
		live := (*q)[:0]
		for _, e := range *q {
			if e.current(s) {
				live = append(live, e)
			} else {
				s.entryGone(e.slot)
			}
		}
		*q = live
		q.init(s)
		return
	}
	for len(*q) > 0 && !(*q)[0].current(s) {
		s.entryGone((*q)[0].slot)
		last := len(*q) - 1
		(*q)[0] = (*q)[last]
		*q = (*q)[:last]
		if last > 0 {
			q.down(0, s)
		}
	}
}

// init orders the heap after entries were appended in any order, O(n).
func (q holdExpiries) init(s *holdSlab) {
	if len(q) < 2 {
		return
	}
	for i := (len(q) - 2) / 4; i >= 0; i-- { // from the last parent up
		q.down(i, s)
	}
}

func (q holdExpiries) up(i int, s *holdSlab) {
	e := q[i]
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&q[p], s) {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = e
}

func (q holdExpiries) down(i int, s *holdSlab) {
	e, n := q[i], len(q)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if q[k].before(&q[m], s) {
				m = k
			}
		}
		if !q[m].before(&e, s) {
			break
		}
		q[i] = q[m]
		i = m
	}
	q[i] = e
}

// grantTimers is a min-heap of grants by (dueAt, id): pending grants wait for
// effective_at, active expiring ones for expires_at.
type grantTimers []*grant

func (t grantTimers) Len() int { return len(t) }
func (t grantTimers) Less(i, j int) bool {
	a, b := t[i].dueAt(), t[j].dueAt()
	if a != b {
		return a < b
	}
	// At one instant expiries come before activations (decideDue).
	if pi, pj := t[i].state == grantPending, t[j].state == grantPending; pi != pj {
		return pj
	}
	return t[i].id < t[j].id
}
func (t grantTimers) Swap(i, j int) {
	t[i], t[j] = t[j], t[i]
	t[i].timer = i
	t[j].timer = j
}
func (t *grantTimers) Push(x any) {
	g := x.(*grant)
	g.timer = len(*t)
	*t = append(*t, g)
}
func (t *grantTimers) Pop() any {
	old := *t
	n := len(old)
	g := old[n-1]
	old[n-1] = nil
	g.timer = -1
	*t = old[:n-1]
	return g
}

// reschedule puts g on the timer heap at its current dueAt, or takes it off
// when it has none.
func (t *grantTimers) reschedule(g *grant) {
	due := g.dueAt()
	switch {
	case g.timer >= 0 && due == 0:
		heap.Remove(t, g.timer)
	case g.timer >= 0:
		heap.Fix(t, g.timer)
	case due != 0:
		heap.Push(t, g)
	}
}
