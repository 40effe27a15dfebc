package actors

// Helpers shared by the wallet's tests: a deep, normalized snapshot of a
// wallet's state (replay determinism compares two of them), the structural
// invariants that must hold after every event, and an accountant that
// follows the emitted events and proves conservation of credits and debt.

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// walletSnap is everything a wallet knows, with slices and maps normalized
// (nil and empty are the same; heaps as sorted sets) so that a wallet and
// its replay compare equal exactly when they hold the same state.
type walletSnap struct {
	Exists                  bool
	Seq                     uint64
	Clock                   int64
	Settings                Settings
	Debt, Free, Held, Total int64
	Spent                   Sum128
	Grants                  map[string]grantSnap
	Order                   []string
	Timers                  []string
	Holds                   map[string]holdSnap
	Expiries                []string
	IDs                     map[string]recSnap
	Queue                   []string
	EvictedYoung            uint64
	Gov                     string
}

type grantSnap struct {
	Kind                                 string
	Priority, Amount, Remaining, Earmark int64
	EffectiveAt, ExpiresAt               int64
	State                                grantState
	Meta                                 string
	InOrder, OnTimer                     bool
}

type holdSnap struct {
	Amount, ExpiresAt  int64
	OnExpiry           OnExpiry
	Principal, Feature string
	Earmarks           string
	Rec                recSnap
}

type recSnap struct {
	ID     string
	Op     opCode
	Hash   uint64
	N      [8]int64
	Allocs string
	At     int64
	Hold   holdStatus
}

func allocString(a []Allocation) string {
	var b strings.Builder
	for i, x := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", x.Grant, x.Amount)
	}
	return b.String()
}

func metaString(m Meta) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q;", k, m[k])
	}
	return b.String()
}

func snapRec(r *record) recSnap {
	return recSnap{ID: r.answer.ID, Op: r.answer.Op, Hash: r.answer.Hash, N: r.answer.N,
		Allocs: allocString(r.answer.Allocs), At: r.at, Hold: r.hold}
}

func snapshot(w *Wallet) walletSnap {
	s := walletSnap{Exists: w.exists, Seq: w.seq, Clock: w.clock, Settings: w.settings, Debt: w.debt,
		Free: w.free, Held: w.held, Total: w.total, Spent: w.spentOriginal,
		Grants: map[string]grantSnap{}, Holds: map[string]holdSnap{}, IDs: map[string]recSnap{},
		EvictedYoung: w.ids.evictedYoung}
	for id, g := range w.grants {
		s.Grants[id] = grantSnap{Kind: g.kind, Priority: g.priority, Amount: g.amount, Remaining: g.remaining,
			Earmark: g.earmarked, EffectiveAt: g.effectiveAt, ExpiresAt: g.expiresAt, State: g.state,
			Meta: metaString(g.meta), InOrder: g.inOrder, OnTimer: g.timer >= 0}
	}
	for _, g := range w.order {
		s.Order = append(s.Order, g.id)
	}
	for _, g := range w.timers {
		s.Timers = append(s.Timers, g.id)
	}
	slices.Sort(s.Timers)
	for id, h := range openHolds(w) {
		s.Holds[id] = holdSnap{Amount: h.amount, ExpiresAt: h.expiresAt, OnExpiry: h.onExpiry,
			Principal: h.principal, Feature: h.feature, Earmarks: allocString(h.earmarks()), Rec: snapRec(&h.rec)}
	}
	for _, e := range w.expiries {
		if !e.current(&w.holdSlab) {
			continue
		}
		s.Expiries = append(s.Expiries, w.holdSlab.at(e.slot).id())
	}
	slices.Sort(s.Expiries)
	w.ids.byID.each(func(r *record) { s.IDs[r.answer.ID] = snapRec(r) })
	w.ids.eachFrozen(func(r *record) { s.IDs[r.answer.ID] = snapRec(r) })
	if f := w.ids.frozen; f != nil {
		for i := f.head; i < f.cols.Len(); i++ {
			s.Queue = append(s.Queue, f.cols.id(i))
		}
	}
	for _, q := range w.ids.queue[w.ids.head:] {
		s.Queue = append(s.Queue, q.r.answer.ID)
	}
	s.Gov = govString(w)
	return s
}

// govString renders the governance configuration and state in key order.
func govString(w *Wallet) string {
	g := w.gov
	if g == nil {
		return ""
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(g.cfg.Policies)) {
		fmt.Fprintf(&b, "policy %q %+v\n", k, g.cfg.Policies[k])
	}
	for _, k := range slices.Sorted(maps.Keys(g.cfg.Features)) {
		f := g.cfg.Features[k]
		fmt.Fprintf(&b, "feature %q %v", k, f.Enabled)
		if f.Limit != nil {
			fmt.Fprintf(&b, " %+v", *f.Limit)
		}
		b.WriteByte('\n')
	}
	for _, k := range slices.Sorted(maps.Keys(g.levels)) {
		ls := g.levels[k]
		fmt.Fprintf(&b, "level %q %+v %+v\n", k, ls.usage, ls.buckets)
	}
	for _, k := range slices.Sorted(maps.Keys(g.feats)) {
		fmt.Fprintf(&b, "feat %q %+v\n", k, *g.feats[k])
	}
	return b.String()
}

// checkGovernance: every governed level and feature holds exactly the open
// holds attributed to it.
func checkGovernance(w *Wallet) error {
	if w.gov == nil {
		return nil
	}
	held := map[string]int64{}
	feat := map[string]int64{}
	for _, h := range openHolds(w) {
		it := levels(h.principal)
		for k, ok := it.next(); ok; k, ok = it.next() {
			held[k] += h.amount
		}
		feat[h.feature] += h.amount
	}
	for k, ls := range w.gov.levels {
		if ls.held != held[k] {
			return fmt.Errorf("level %q held %d, open holds say %d", k, ls.held, held[k])
		}
	}
	for k, fs := range w.gov.feats {
		if fs.held != feat[k] {
			return fmt.Errorf("feature %q held %d, open holds say %d", k, fs.held, feat[k])
		}
	}
	return nil
}

// diffSnaps names the first differing top-level field, for failure messages.
func diffSnaps(a, b walletSnap) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := 0; i < va.NumField(); i++ {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return fmt.Sprintf("%s:\n  got  %+v\n  want %+v", va.Type().Field(i).Name, va.Field(i).Interface(), vb.Field(i).Interface())
		}
	}
	return ""
}

// checkInvariants verifies the structure Apply maintains: cached sums equal
// recomputed ones, holds are fully earmarked in burn-down order, the order
// and timer heaps index exactly what they should, no free credit sits
// beside debt, open holds' ids are pinned, and each queue entry repeats its
// record's status and time, and the record its number in the queue.
func checkInvariants(w *Wallet) error {
	base := w.ids.enqueued - uint64(len(w.ids.queue)) // the number of queue[0]
	for i, q := range w.ids.queue[w.ids.head:] {
		i += w.ids.head
		if q.hold != q.r.hold || q.at != q.r.at || q.r.pos != uint32(base+uint64(i)) {
			return fmt.Errorf("queue entry %d (%s): status %d, time %d, number %d; its record's %d, %d, %d",
				i, q.r.answer.ID, q.hold, q.at, uint32(base+uint64(i)), q.r.hold, q.r.at, q.r.pos)
		}
	}
	var free, total int64
	earmarked := map[string]int64{}
	var active []*grant
	for id, g := range w.grants {
		if g.id != id {
			return fmt.Errorf("grant keyed %s has id %s", id, g.id)
		}
		if g.remaining < 0 || g.earmarked < 0 || g.earmarked > g.remaining || g.remaining > g.amount {
			return fmt.Errorf("grant %s out of balance: %+v", id, *g)
		}
		total += g.remaining
		if g.state == grantActive {
			free += g.free()
			if g.remaining > 0 {
				active = append(active, g)
			}
		}
		if g.state == grantPending && g.earmarked != 0 {
			return fmt.Errorf("pending grant %s earmarked", id)
		}
		if g.remaining == 0 && !(g.state == grantActive && g.expiresAt != 0) {
			return fmt.Errorf("spent grant %s kept (state %d)", id, g.state)
		}
		if (g.timer >= 0) != (g.dueAt() != 0) || g.timer >= 0 && w.timers[g.timer] != g {
			return fmt.Errorf("grant %s timer index %d, due %d", id, g.timer, g.dueAt())
		}
		if g.inOrder != (g.state == grantActive && g.remaining > 0) {
			return fmt.Errorf("grant %s inOrder=%v", id, g.inOrder)
		}
	}
	if len(w.timers) != countDue(w) {
		return fmt.Errorf("timer heap has %d entries", len(w.timers))
	}
	slices.SortFunc(active, compareBurn)
	if len(active) != len(w.order) {
		return fmt.Errorf("order has %d grants, want %d", len(w.order), len(active))
	}
	for i := range active {
		if active[i] != w.order[i] {
			return fmt.Errorf("order[%d] = %s, want %s", i, w.order[i].id, active[i].id)
		}
	}
	var held int64
	for id, h := range openHolds(w) {
		held += h.amount
		marks := h.earmarks()
		if h.amount <= 0 || sumAllocations(marks) != h.amount {
			return fmt.Errorf("hold %s amount %d, earmarks %v", id, h.amount, marks)
		}
		if h.more != nil && len(h.more) <= len(h.marks) {
			return fmt.Errorf("hold %s keeps %d earmarks out of line", id, len(h.more))
		}
		for i, e := range marks {
			g := w.grants[e.Grant]
			if g == nil || e.Amount <= 0 {
				return fmt.Errorf("hold %s earmarks %v", id, marks)
			}
			earmarked[e.Grant] += e.Amount
			if i > 0 && compareBurn(w.grants[marks[i-1].Grant], g) >= 0 {
				return fmt.Errorf("hold %s earmarks not in burn-down order: %v", id, marks)
			}
		}
		if r := w.ids.find(id); r != &h.rec || r.hold != holdOpen {
			return fmt.Errorf("open hold %s not pinned", id)
		}
	}
	if err := checkExpiries(w); err != nil {
		return err
	}
	for id, g := range w.grants {
		if earmarked[id] != g.earmarked {
			return fmt.Errorf("grant %s earmarked %d, holds say %d", id, g.earmarked, earmarked[id])
		}
	}
	switch {
	case free != w.free:
		return fmt.Errorf("free %d, recomputed %d", w.free, free)
	case total != w.total:
		return fmt.Errorf("total %d, recomputed %d", w.total, total)
	case held != w.held:
		return fmt.Errorf("held %d, recomputed %d", w.held, held)
	case w.debt < 0:
		return fmt.Errorf("negative debt %d", w.debt)
	case w.debt > 0 && w.free > 0:
		return fmt.Errorf("free credits %d beside debt %d", w.free, w.debt)
	case w.ids.remembered() > w.limits.MaxRememberedIDs:
		return fmt.Errorf("%d ids remembered, bound %d", w.ids.remembered(), w.limits.MaxRememberedIDs)
	}
	// The spec's balance: Σ remaining of active grants + Σ earmarked of
	// expired or revoked ones − debt; available = balance − held.
	var balance int64
	for _, g := range w.grants {
		switch g.state {
		case grantActive:
			balance += g.remaining
		case grantExpired, grantRevoked:
			balance += g.earmarked
		}
	}
	balance -= w.debt
	if f := w.Figures(); f.Balance != balance || f.Available != balance-held || f.Held != held {
		return fmt.Errorf("figures %+v, spec formula gives balance %d held %d", f, balance, held)
	}
	return checkGovernance(w)
}

func countDue(w *Wallet) int {
	n := 0
	for _, g := range w.grants {
		if g.dueAt() != 0 {
			n++
		}
	}
	return n
}

// replayed folds events into a fresh wallet, also through the journal
// codec, and returns both.
func replayed(t fatalf, id string, l Limits, evs []Event) (direct, decoded *Wallet) {
	t.Helper()
	direct, decoded = NewWallet(id, l), NewWallet(id, l)
	for _, e := range evs {
		direct.Apply(e)
	}
	buf, err := AppendEvents(nil, evs)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	dec, err := DecodeEvents(buf)
	if err != nil {
		t.Fatalf("DecodeEvents: %v", err)
	}
	for _, e := range dec {
		decoded.Apply(e)
	}
	return direct, decoded
}

// normReply makes replies comparable across a journal round trip: nil and
// empty allocation lists and meta maps are the same on the wire.
func normReply(r Reply) Reply {
	switch x := r.(type) {
	case SettleReply:
		if len(x.Allocations) == 0 {
			x.Allocations = nil
		}
		return x
	case DebitReply:
		if len(x.Allocations) == 0 {
			x.Allocations = nil
		}
		return x
	case GrantReply:
		if len(x.Grant.Meta) == 0 {
			x.Grant.Meta = nil
		}
		return x
	}
	return r
}

// checkExpiries: every open hold has exactly one current entry, with its
// key; the heap is ordered; the top is current; stale entries are bounded.
// And the hold slab agrees: each slot counts the entries naming it, and a
// slot is free exactly when its hold is closed and no entry names it.
func checkExpiries(w *Wallet) error {
	current := 0
	seen := make(map[*hold]bool)
	entries := make(map[uint32]uint32)
	s := &w.holdSlab
	for i := range w.expiries {
		e := &w.expiries[i]
		h := s.at(e.slot)
		entries[e.slot]++
		if i > 0 && e.before(&w.expiries[(i-1)/4], s) {
			return fmt.Errorf("expiry heap out of order at %d (%s)", i, h.id())
		}
		if !e.current(s) {
			continue
		}
		current++
		if w.openHold(h.id()) != h || seen[h] || e.at != h.expiresAt || e.pre != idPrefix(h.id()) {
			return fmt.Errorf("expiry entry of %s: not its open hold's, repeated or stale key", h.id())
		}
		seen[h] = true
	}
	switch {
	case current != w.holds:
		return fmt.Errorf("%d current expiries for %d holds", current, w.holds)
	case len(w.expiries) > 0 && !w.expiries[0].current(s):
		return fmt.Errorf("stale expiry entry on top")
	case len(w.expiries) > 2*w.holds+64+1:
		return fmt.Errorf("%d expiry entries for %d holds", len(w.expiries), w.holds)
	}
	free := make(map[uint32]bool, len(s.free))
	for _, slot := range s.free {
		if free[slot] || slot >= s.used {
			return fmt.Errorf("hold slot %d free twice or never used", slot)
		}
		free[slot] = true
	}
	for slot := range s.used {
		h := s.at(slot)
		open := h.rec.hold == holdOpen
		switch {
		case h.slot != slot || h.entries != entries[slot]:
			return fmt.Errorf("hold slot %d: says slot %d, %d entries, heap has %d", slot, h.slot, h.entries, entries[slot])
		case free[slot] != (!open && h.entries == 0):
			return fmt.Errorf("hold slot %d: free %v, open %v, %d entries", slot, free[slot], open, h.entries)
		case open != seen[h]:
			return fmt.Errorf("hold slot %d: open %v, but a current entry %v", slot, open, seen[h])
		}
	}
	return nil
}

// openHolds maps the open holds by id, from the expiry heap's current
// entries (checkExpiries checks them against the id index and the count).
func openHolds(w *Wallet) map[string]*hold {
	m := make(map[string]*hold, w.holds)
	w.holdSlab.eachOpen(func(h *hold) { m[h.id()] = h })
	return m
}

// eachFrozen calls fn for every frozen record that is its id's current one,
// decoded into a scratch record (tests compare tables through it).
func (t *idTable) eachFrozen(fn func(*record)) {
	f := t.frozen
	if f == nil {
		return
	}
	for i := f.head; i < f.cols.Len(); i++ {
		id := f.cols.id(i)
		h := hashID(id)
		if t.byID.get(id, h) != nil || f.row(id, h) != i {
			continue
		}
		var r record
		f.record(i, &r)
		fn(&r)
	}
}
