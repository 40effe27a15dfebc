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
	index     int    // position in Wallet.expiries
	rec       record // the reserve's id record, pinned while the hold is open
}

// holdExpiries is a min-heap of open holds by (expiresAt, id): Tick finds
// what is due in O(log n) without scanning every hold.
type holdExpiries []*hold

func (h holdExpiries) Len() int { return len(h) }
func (h holdExpiries) Less(i, j int) bool {
	if h[i].expiresAt != h[j].expiresAt {
		return h[i].expiresAt < h[j].expiresAt
	}
	return h[i].id < h[j].id
}
func (h holdExpiries) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *holdExpiries) Push(x any) {
	e := x.(*hold)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *holdExpiries) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
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
