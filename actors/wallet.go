package actors

import (
	"container/heap"
	"time"
)

// Wallet is one wallet's state: a pure state machine. Decide computes what a
// command would do without changing anything; Apply books one event and is
// the only way the state changes. Neither reads a clock nor does I/O: time
// arrives as a value stamped on the command.
//
// Cached sums keep every decision O(grants touched), independent of the
// number of open holds: free is Σ free of active grants, held Σ open holds,
// total Σ remaining of live grants (it bounds every other sum, so checking
// it on grant proves the rest cannot overflow). balance = free + held − debt
// and available = free − debt (SPEC §2, with holds always fully earmarked).
type Wallet struct {
	id     string
	limits Limits

	exists   bool
	seq      uint64 // last history seq
	clock    int64  // latest event time applied, unix ns
	settings Settings

	debt  int64
	free  int64
	held  int64
	total int64
	// spentOriginal is Σ original amounts of spent non-expiring grants:
	// they are active forever, so they count toward an overdraft percent
	// forever, without being kept.
	spentOriginal Sum128

	grants   map[string]*grant
	order    burnOrder // active grants with remaining > 0, in burn-down order
	timers   grantTimers
	holds    int // open holds, found through ids (record.pos)
	holdSlab holdSlab
	expiries holdExpiries
	ids      idTable
	gov      *govState // nil: no policies and no features (governance.go)
}

// NewWallet returns an empty wallet; it comes into being with its first
// grant or configure.
func NewWallet(id string, limits Limits) *Wallet {
	return &Wallet{
		id:       id,
		limits:   limits,
		settings: Settings{DefaultTTLms: DefaultTTL.Milliseconds()},
		grants:   make(map[string]*grant),
		ids:      newIDTable(),
	}
}

func (w *Wallet) ID() string     { return w.id }
func (w *Wallet) Exists() bool   { return w.exists }
func (w *Wallet) Seq() uint64    { return w.seq }
func (w *Wallet) OpenHolds() int { return w.holds }

// Figures are the wallet's balance, held and available now.
func (w *Wallet) Figures() Figures {
	d := w.draft(w.clock, nil)
	return d.figures()
}

// EvictedYoung counts ids forgotten before their retention ended.
func (w *Wallet) EvictedYoung() uint64 { return w.ids.evictedYoung }

// Remembered is the number of remembered ids, open holds' ids excluded.
func (w *Wallet) Remembered() int { return w.ids.remembered() }

// nextDue is when the next time-driven change is due (0: none). The
// runtime keeps one timer at this instant and sends itself a Tick.
func (w *Wallet) nextDue() int64 {
	var due int64
	if len(w.expiries) > 0 {
		due = w.expiries[0].at
	}
	if len(w.timers) > 0 {
		if g := w.timers[0].dueAt(); due == 0 || g < due {
			due = g
		}
	}
	return due
}

// Execute is the one entry the runtime uses: it stamps the command's time
// (never before the last event's), applies the time-driven changes due by
// then, decides the command and applies its events. It returns every event
// it applied, appended to evs, for the journal.
func (w *Wallet) Execute(cmd Command, now time.Time, evs []Event) ([]Event, Reply, *Error) {
	at := max(now.UnixNano(), w.clock)
	ticked := len(evs)
	for due := w.nextDue(); due != 0 && due <= at; due = w.nextDue() {
		start := len(evs)
		evs = w.decideDue(at, evs)
		w.applyAll(evs[start:])
	}
	if _, ok := cmd.(Tick); ok {
		return evs, TickReply{Events: len(evs) - ticked}, nil
	}
	w.warm(cmd)
	start := len(evs)
	evs, reply, err := w.Decide(cmd, at, evs)
	w.applyAll(evs[start:])
	return evs, reply, err
}

// warm starts, all at once, the cache misses a request on a big wallet is
// about to take one after another: the id index slots of its own id, of
// its hold and of the two ids it may evict. Those are independent loads,
// so the CPU overlaps them; the probes that follow then hit the cache. On a
// table at its bound this takes a settle from about six sequential misses
// to about two. It changes no state.
func (w *Wallet) warm(cmd Command) {
	if id, hold := requestIDs(cmd); id != "" {
		w.ids.warm(id, hold)
	}
}

// prefetch is warm for the request after this one, without waiting: the
// actor calls it before deciding each request of a batch but the last, so
// the next request's misses overlap this one's work. It changes no state.
func (w *Wallet) prefetch(cmd Command) {
	if id, hold := requestIDs(cmd); id != "" {
		w.ids.prefetch(id, hold)
	}
}

// requestIDs is a command's request id and the hold it names, if any.
func requestIDs(cmd Command) (id, hold string) {
	id, ref, field, _ := idsOf(cmd)
	if field != fieldHoldID {
		ref = ""
	}
	return id, ref
}

func (w *Wallet) applyAll(evs []Event) {
	for _, e := range evs {
		w.Apply(e)
	}
}

// Apply books one event. It cannot fail: a booking that breaks an invariant
// panics, because it means Decide emitted an impossible event.
func (w *Wallet) Apply(ev Event) {
	h := ev.head()
	if h.Seq != 0 {
		if h.Seq != w.seq+1 {
			panic("purser: event out of sequence")
		}
		w.seq = h.Seq
	}
	w.clock = max(w.clock, h.At)
	if w.gov != nil {
		w.bookGovernance(ev, h.At)
	}
	switch e := ev.(type) {
	case *GrantCreated:
		w.applyGrantCreated(e)
	case *GrantActivated:
		g := w.mustGrant(e.Grant)
		if g.state != grantPending {
			panic("purser: activating a grant that is not pending")
		}
		g.state = grantActive
		w.free = mustAdd(w.free, g.remaining)
		w.order.insert(g)
		w.timers.reschedule(g)
	case *DebtRepaid:
		for _, a := range e.Allocations {
			w.consumeFree(a)
		}
		w.debt -= sumAllocations(e.Allocations)
		w.checkDebt()
	case *HoldPlaced:
		w.applyHoldPlaced(e)
	case *Authorized:
		w.remember(&e.Answer, h.At)
	case *HoldExtended:
		w.applyHoldExtended(e)
	case *Settled:
		w.applySettled(e)
	case *Released:
		hd := w.mustHold(e.Hold)
		w.returnEarmarks(hd, e.Returned, true)
		w.closeHold(hd, holdClosed, h.At)
		w.remember(&e.Answer, h.At)
	case *HoldExpired:
		hd := w.mustHold(e.Hold)
		if !e.Capture {
			w.returnEarmarks(hd, e.Returned, true)
			w.closeHold(hd, holdLapsed, h.At)
		}
	case *Debited:
		for _, a := range e.FromFree {
			w.consumeFree(a)
		}
		w.debt = mustAdd(w.debt, e.DebtAdded)
		w.remember(&e.Answer, h.At)
	case *GrantExpired:
		w.forfeit(e.Grant, e.Amount, e.Closes, grantExpired)
	case *Revoked:
		w.forfeit(e.Grant, e.Amount, e.Closes, grantRevoked)
		w.remember(&e.Answer, h.At)
	case *Configured:
		w.exists = true
		w.settings = e.Settings
		w.setGovernance(e.Governance, h.At, e.RescaleRates)
		if e.Answer.Op != opNone {
			r := w.ids.newRecord()
			r.answer = e.Answer
			r.answer.Gov = w.governance()
			w.ids.remember(r, h.At, w.limits.MaxRememberedIDs, int64(w.limits.IDRetention))
		}
	default:
		panic("purser: unknown event type")
	}
	w.ids.expire(h.At, int64(w.limits.IDRetention))
}

func (w *Wallet) applyGrantCreated(e *GrantCreated) {
	w.exists = true
	if _, dup := w.grants[e.Grant]; dup {
		panic("purser: duplicate grant id " + e.Grant)
	}
	g := &grant{id: e.Grant, kind: e.Kind, priority: e.Priority, amount: e.Amount, remaining: e.Amount,
		effectiveAt: e.EffectiveAt, expiresAt: e.ExpiresAt, meta: e.Meta, timer: -1}
	w.grants[g.id] = g
	w.total = mustAdd(w.total, g.amount)
	if g.effectiveAt <= e.At {
		g.state = grantActive
		w.free = mustAdd(w.free, g.amount)
		w.order.insert(g)
	}
	w.timers.reschedule(g)
	w.remember(&e.Answer, e.At)
}

func (w *Wallet) applyHoldPlaced(e *HoldPlaced) {
	for _, a := range e.Earmarks {
		g := w.mustGrant(a.Grant)
		if g.state != grantActive || g.free() < a.Amount || a.Amount <= 0 {
			panic("purser: earmark past a grant's free credits")
		}
		g.earmarked += a.Amount
		w.free -= a.Amount
	}
	if sumAllocations(e.Earmarks) != e.Amount {
		panic("purser: hold earmarks do not sum to its amount")
	}
	hd := w.holdSlab.alloc()
	hd.amount, hd.expiresAt, hd.onExpiry = e.Amount, e.ExpiresAt, e.OnExpiry
	hd.principal, hd.feature = e.Principal, e.Feature
	hd.setEarmarks(e.Earmarks)
	hd.rec.answer = e.Answer
	w.ids.pin(hd)
	w.holds++
	w.expiries.push(hd, &w.holdSlab)
	w.held = mustAdd(w.held, e.Amount)
}

func (w *Wallet) applyHoldExtended(e *HoldExtended) {
	hd := w.mustHold(e.Hold)
	for _, a := range e.Earmarks {
		g := w.mustGrant(a.Grant)
		if g.state != grantActive || g.free() < a.Amount || a.Amount <= 0 {
			panic("purser: extend earmark past a grant's free credits")
		}
		g.earmarked += a.Amount
		w.free -= a.Amount
		hd.amount = mustAdd(hd.amount, a.Amount)
		w.held = mustAdd(w.held, a.Amount)
	}
	if len(e.Earmarks) > 0 {
		hd.setEarmarks(w.mergeEarmarks(hd.earmarks(), e.Earmarks))
	}
	hd.expiresAt = e.ExpiresAt
	w.expiries.update(hd, w.holds, &w.holdSlab)
	w.remember(&e.Answer, e.At)
}

func (w *Wallet) applySettled(e *Settled) {
	if e.Late {
		rec := w.ids.find(e.Hold)
		if rec == nil || rec.hold != holdLapsed {
			panic("purser: late settle of a hold that has not lapsed")
		}
		w.ids.closeLate(rec)
	}
	var hd *hold
	if !e.Late {
		hd = w.mustHold(e.Hold)
		for _, a := range e.FromHold {
			g := w.mustGrant(a.Grant)
			g.remaining -= a.Amount
			g.earmarked -= a.Amount
			w.total -= a.Amount
			w.held -= a.Amount
			hd.amount -= a.Amount
			w.checkGrant(g)
		}
		if len(e.FromHold) > 0 && !e.Closes {
			hd.subtract(e.FromHold)
		}
	}
	for _, a := range e.FromFree {
		w.consumeFree(a)
	}
	w.debt = mustAdd(w.debt, e.DebtAdded)
	if hd != nil {
		w.returnEarmarks(hd, e.Returned, e.Closes)
		if e.Closes {
			w.closeHold(hd, holdClosed, e.At)
		}
	}
	for _, a := range e.FromHold {
		w.dropIfSpent(a.Grant)
	}
	if e.Answer.Op != opNone {
		w.remember(&e.Answer, e.At)
	}
}

// consumeFree consumes a's amount from an active grant's free credits.
func (w *Wallet) consumeFree(a Allocation) {
	g := w.mustGrant(a.Grant)
	if g.state != grantActive || g.free() < a.Amount || a.Amount <= 0 {
		panic("purser: consuming past a grant's free credits")
	}
	g.remaining -= a.Amount
	w.free -= a.Amount
	w.total -= a.Amount
	w.dropIfSpent(g.id)
}

// returnEarmarks gives a hold's earmarks back: to free credits for active
// grants; for expired or revoked ones they await their forfeit event. A
// closing hold's earmark list is dropped, not rebuilt.
func (w *Wallet) returnEarmarks(hd *hold, returned []Allocation, closing bool) {
	for _, a := range returned {
		g := w.mustGrant(a.Grant)
		g.earmarked -= a.Amount
		hd.amount -= a.Amount
		w.held -= a.Amount
		if g.state == grantActive {
			w.free = mustAdd(w.free, a.Amount)
		}
		w.checkGrant(g)
	}
	if len(returned) > 0 && !closing {
		hd.subtract(returned)
	}
}

func (w *Wallet) forfeit(id string, amount int64, closes bool, to grantState) {
	g := w.mustGrant(id)
	if closes {
		switch g.state {
		case grantActive:
			if amount != g.free() {
				panic("purser: closing a grant must forfeit exactly its free part")
			}
			if g.inOrder {
				w.order.remove(g)
			}
			w.free -= amount
		case grantPending:
			if amount != g.remaining || to != grantRevoked {
				panic("purser: a pending grant closes only by revoke, whole")
			}
		default:
			// Revoking an expired or revoked grant: nothing is free, and
			// its earmarks keep the label of how it first closed.
			if amount != 0 {
				panic("purser: closing a closed grant forfeits nothing")
			}
			to = g.state
		}
		g.state = to
		w.timers.reschedule(g)
	} else if g.state == grantActive || g.state == grantPending || g.free() < amount {
		panic("purser: forfeiting a returned earmark of an open grant")
	}
	g.remaining -= amount
	w.total -= amount
	w.checkGrant(g)
	w.dropIfSpent(id)
}

func (w *Wallet) closeHold(hd *hold, status holdStatus, at int64) {
	if hd.amount != 0 {
		panic("purser: closing a hold with earmarks left")
	}
	// The pinned record lives in the hold's slot, which will be reused: a
	// copy joins the queue, and the index points at it instead.
	r := w.ids.newRecord()
	*r = hd.rec
	r.hold = status // remember sets pos
	r.answer.Allocs = w.ids.keepAllocs(r.answer.Allocs)
	if status == holdLapsed && (hd.principal != "" || hd.feature != "") {
		r.answer.Attr = &Attribution{Principal: hd.principal, Feature: hd.feature}
	}
	w.ids.byID.repoint(&hd.rec, r)
	hd.close()
	w.holds--
	w.expiries.drop(hd, w.holds, &w.holdSlab) // after close: frees the slot once no entry names it
	w.ids.remember(r, at, w.limits.MaxRememberedIDs, int64(w.limits.IDRetention))
}

func (w *Wallet) remember(a *Answer, at int64) {
	if a.Op == opNone {
		return
	}
	r := w.ids.newRecord()
	r.answer = *a
	r.answer.Allocs = w.ids.keepAllocs(a.Allocs) // not the event's: see keepAllocs
	w.ids.remember(r, at, w.limits.MaxRememberedIDs, int64(w.limits.IDRetention))
}

// dropIfSpent forgets a grant with nothing left; its history stays. An
// active expiring grant is kept until its expiry (see grant).
func (w *Wallet) dropIfSpent(id string) {
	g := w.grants[id]
	if g == nil || g.remaining != 0 {
		return
	}
	if g.state == grantActive {
		if g.inOrder {
			w.order.remove(g)
		}
		if g.expiresAt != 0 {
			return
		}
		w.spentOriginal = w.spentOriginal.add(g.amount)
	}
	if g.timer >= 0 {
		heap.Remove(&w.timers, g.timer)
	}
	delete(w.grants, id)
}

func (w *Wallet) mustGrant(id string) *grant {
	g := w.grants[id]
	if g == nil {
		panic("purser: event names an unknown grant " + id)
	}
	return g
}

// openHold returns the open hold id, or nil.
func (w *Wallet) openHold(id string) *hold {
	if r := w.ids.find(id); r != nil && r.hold == holdOpen {
		return w.holdSlab.at(r.pos)
	}
	return nil
}

func (w *Wallet) mustHold(id string) *hold {
	hd := w.openHold(id)
	if hd == nil {
		panic("purser: event names an unknown hold " + id)
	}
	return hd
}

func (w *Wallet) checkGrant(g *grant) {
	if g.remaining < 0 || g.earmarked < 0 || g.earmarked > g.remaining {
		panic("purser: grant " + g.id + " out of balance")
	}
}

func (w *Wallet) checkDebt() {
	if w.debt < 0 {
		panic("purser: negative debt")
	}
}
