package actors

import "container/heap"

// hold is an open hold. Its earmarks are sorted in burn-down order of their
// grants and always sum to amount.
//
// earmarks is never mutated in place: it may be shared with the event that
// created it (an in-memory journal keeps events), so a change builds a new
// slice.
type hold struct {
	id        string
	amount    int64
	expiresAt int64 // unix ns
	onExpiry  OnExpiry
	principal string
	feature   string
	earmarks  []Allocation
	gen       uint64 // bumped when it closes or its expiry moves (holdExpiries)
	rec       record // the reserve's id record, pinned while the hold is open
}

// holdExpiries is a 4-ary min-heap of open holds by (expiresAt, id): Tick
// finds what is due without scanning every hold.
//
// It is built for the hot path of settle, which closes a hold — most often
// the earliest to expire — on a wallet that may have 100,000 open:
//   - each entry carries its sort key (the expiry and the id's first 8
//     bytes), so sifting compares entries in the heap array instead of
//     chasing a pointer to a cache-cold hold per comparison;
//   - four children share a cache line or two, at half a binary heap's depth;
//   - closing or extending a hold does not search the heap: it bumps the
//     hold's generation, which makes its entry stale (an extend pushes a
//     fresh one). Stale entries leave when they reach the top, which the
//     heap keeps current after every change, and all at once when they
//     outnumber the open holds, so memory stays O(open holds) and the work
//     amortized O(log n) per change, with no position to keep in the holds.
//
// Only current entries are state; which stale ones linger is not, and it
// never changes a decision.
type holdExpiries []expiryEntry

type expiryEntry struct {
	at  int64
	pre uint64 // id's first 8 bytes, big-endian: orders like the id itself
	h   *hold
	gen uint64 // current while it equals h.gen
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

func (e *expiryEntry) before(f *expiryEntry) bool {
	if e.at != f.at {
		return e.at < f.at
	}
	if e.pre != f.pre {
		return e.pre < f.pre
	}
	return e.h.id < f.h.id
}

func (e *expiryEntry) current() bool { return e.gen == e.h.gen }

func entryOf(hd *hold) expiryEntry {
	return expiryEntry{at: hd.expiresAt, pre: idPrefix(hd.id), h: hd, gen: hd.gen}
}

// top is the hold that expires first; the heap must not be empty.
func (q holdExpiries) top() *hold { return q[0].h }

// push adds an opened hold.
func (q *holdExpiries) push(hd *hold) {
	*q = append(*q, entryOf(hd))
	q.up(len(*q) - 1)
}

// drop forgets a closed hold; open is the number of holds still open.
func (q *holdExpiries) drop(hd *hold, open int) {
	hd.gen++
	q.clean(open)
}

// update re-sorts hd after its expiry changed.
func (q *holdExpiries) update(hd *hold, open int) {
	hd.gen++
	q.push(hd)
	q.clean(open)
}

// clean pops stale entries off the top, so top and nextDue see a current
// one, and rebuilds the heap when stale entries outnumber open holds.
func (q *holdExpiries) clean(open int) {
	if len(*q) > 2*open+64 {
		live := (*q)[:0]
		for _, e := range *q {
			if e.current() {
				live = append(live, e)
			}
		}
		clear((*q)[len(live):])
		*q = live
		q.init()
		return
	}
	for len(*q) > 0 && !(*q)[0].current() {
		last := len(*q) - 1
		(*q)[0] = (*q)[last]
		(*q)[last] = expiryEntry{}
		*q = (*q)[:last]
		if last > 0 {
			q.down(0)
		}
	}
}

// init orders the heap after entries were appended in any order, O(n).
func (q holdExpiries) init() {
	if len(q) < 2 {
		return
	}
	for i := (len(q) - 2) / 4; i >= 0; i-- { // from the last parent up
		q.down(i)
	}
}

func (q holdExpiries) up(i int) {
	e := q[i]
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&q[p]) {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = e
}

func (q holdExpiries) down(i int) {
	e, n := q[i], len(q)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if q[k].before(&q[m]) {
				m = k
			}
		}
		if !q[m].before(&e) {
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
