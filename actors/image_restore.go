package actors

import (
	"errors"
	"fmt"
	"math"
)

// ErrBadImage wraps every reason FromImage refuses an image. The runtime
// then rebuilds the wallet from its whole journal: a snapshot is only ever
// a shortcut, never the truth.
var ErrBadImage = errors.New("purser: unusable wallet image")

func badImage(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadImage}, args...)...)
}

// FromImage rebuilds a wallet from img under limits and returns it with
// the journal position the image covers; the journal after that position
// is the rest of its state.
//
// An image comes from storage, so it is checked rather than trusted: every
// structural invariant Apply keeps (sums, earmarks, id table order) is
// verified, and a violation is an error, never a panic. It also refuses an
// image built under other id limits than limits, since replay under
// limits could have evicted other ids.
func FromImage(img *Image, limits Limits) (w *Wallet, pos uint64, err error) {
	// Defense in depth: an image comes from storage, and nothing in it may
	// take the process down, whatever check is missing.
	defer func() {
		if p := recover(); p != nil {
			w, pos, err = nil, 0, badImage("restoring it panicked: %v", p)
		}
	}()
	if img == nil {
		return nil, 0, badImage("nil image")
	}
	if img.MaxRememberedIDs != limits.MaxRememberedIDs || img.IDRetention != int64(limits.IDRetention) {
		return nil, 0, badImage("built with id limits %d/%dns, runtime has %d/%s",
			img.MaxRememberedIDs, img.IDRetention, limits.MaxRememberedIDs, limits.IDRetention)
	}
	if img.Pos == 0 {
		return nil, 0, badImage("position 0 covers no journal")
	}
	if img.Settings.Mode > Optimistic || img.Debt < 0 {
		return nil, 0, badImage("bad settings or debt")
	}
	ids := img.IDRows().records() // IDs, or the records a lazy image refers to
	w = NewWallet(img.Wallet, limits)
	w.ids.byID = newIDIndex(len(img.Holds) + len(ids))
	if remembered := len(ids) + img.IDCols.Live(); remembered > limits.MaxRememberedIDs {
		return nil, 0, badImage("%d remembered ids, bound %d", remembered, limits.MaxRememberedIDs)
	}
	// Frozen ids first: they are the oldest, and restoreIDs continues
	// their time order.
	last := int64(math.MinInt64)
	if img.IDCols != nil {
		var err error
		if last, err = w.ids.restoreFrozen(img.IDCols, last); err != nil {
			return nil, 0, err
		}
	}
	w.exists, w.seq, w.clock, w.settings = img.Exists, img.Seq, img.Clock, img.Settings
	w.debt, w.spentOriginal = img.Debt, img.SpentOriginal
	w.ids.evictedYoung = img.EvictedYoung
	if err := w.restoreGrants(img.Grants); err != nil {
		return nil, 0, err
	}
	if err := w.restoreHolds(img.Holds); err != nil {
		return nil, 0, err
	}
	if err := w.restoreIDs(ids, last); err != nil {
		return nil, 0, err
	}
	// The cached sums are stored and recomputed: a mismatch means the
	// image is not a state Apply could have left.
	if w.free != img.Free || w.held != img.Held || w.total != img.Total {
		return nil, 0, badImage("sums free/held/total %d/%d/%d, recomputed %d/%d/%d",
			img.Free, img.Held, img.Total, w.free, w.held, w.total)
	}
	for _, g := range w.grants {
		if g.earmarked != 0 {
			return nil, 0, badImage("grant %s earmarks %d more than its holds", g.id, g.earmarked)
		}
	}
	// restoreHolds counted earmarks down to zero; put them back.
	for _, h := range img.Holds {
		for _, a := range h.Earmarks {
			w.grants[a.Grant].earmarked += a.Amount
		}
	}
	if err := w.restoreGov(img.Gov); err != nil {
		return nil, 0, err
	}
	return w, img.Pos, nil
}

func (w *Wallet) restoreGrants(gs []GrantImage) error {
	for _, gi := range gs {
		if gi.ID == "" || w.grants[gi.ID] != nil {
			return badImage("grant id %q empty or repeated", gi.ID)
		}
		st := grantState(gi.State)
		switch {
		case gi.State > ImageRevoked:
			return badImage("grant %s: state %d", gi.ID, gi.State)
		case gi.Amount <= 0 || gi.Remaining < 0 || gi.Remaining > gi.Amount:
			return badImage("grant %s: amount %d, remaining %d", gi.ID, gi.Amount, gi.Remaining)
		case gi.Earmarked < 0 || gi.Earmarked > gi.Remaining || (st == grantPending && gi.Earmarked != 0):
			return badImage("grant %s: earmarked %d", gi.ID, gi.Earmarked)
		case gi.Remaining == 0 && (st != grantActive || gi.ExpiresAt == 0):
			// Apply drops every other spent grant.
			return badImage("grant %s: spent but kept", gi.ID)
		}
		g := &grant{id: gi.ID, kind: gi.Kind, priority: gi.Priority, amount: gi.Amount, remaining: gi.Remaining,
			earmarked: gi.Earmarked, effectiveAt: gi.EffectiveAt, expiresAt: gi.ExpiresAt, state: st,
			meta: gi.Meta, timer: -1}
		w.grants[g.id] = g
		var ok bool
		if w.total, ok = addOK(w.total, g.remaining); !ok {
			return badImage("total overflows")
		}
		if st == grantActive {
			if w.free, ok = addOK(w.free, g.free()); !ok {
				return badImage("free overflows")
			}
			if g.remaining > 0 {
				w.order.insert(g)
			}
		}
		w.timers.reschedule(g)
	}
	return nil
}

// restoreHolds rebuilds open holds and checks their earmarks against the
// grants: it counts each grant's earmarked down, and FromImage requires
// every count to end at zero (then restores them).
func (w *Wallet) restoreHolds(hs []HoldImage) error {
	w.expiries = make(holdExpiries, 0, len(hs))
	for i := range hs {
		hi := &hs[i]
		// A repeated hold is pinned in the live index already. (openHold
		// would also look among frozen ids, decoding one on a match: an
		// answer that does not decode must not panic a restore.)
		if r := w.ids.byID.get(hi.ID, hashID(hi.ID)); hi.ID == "" || (r != nil && r.hold == holdOpen) ||
			hi.Answer.ID != hi.ID || hi.Answer.Op == opNone {
			return badImage("hold id %q empty, repeated or not its reserve's", hi.ID)
		}
		if hi.Amount <= 0 || hi.OnExpiry > ExpireCapture || len(hi.Earmarks) == 0 {
			return badImage("hold %s: amount %d, on expiry %d, %d earmarks", hi.ID, hi.Amount, hi.OnExpiry, len(hi.Earmarks))
		}
		var sum int64
		for _, a := range hi.Earmarks {
			g := w.grants[a.Grant]
			if g == nil || a.Amount <= 0 || a.Amount > g.earmarked {
				return badImage("hold %s: earmark %s:%d past its grant", hi.ID, a.Grant, a.Amount)
			}
			g.earmarked -= a.Amount
			sum += a.Amount // bounded by the grant's earmarked: no overflow
		}
		if sum != hi.Amount {
			return badImage("hold %s: earmarks sum %d, amount %d", hi.ID, sum, hi.Amount)
		}
		hd := w.holdSlab.alloc()
		hd.amount, hd.expiresAt, hd.onExpiry = hi.Amount, hi.ExpiresAt, hi.OnExpiry
		hd.principal, hd.feature = hi.Principal, hi.Feature
		hd.setEarmarks(hi.Earmarks)
		hd.rec.answer = hi.Answer
		w.ids.pin(hd)
		w.holds++
		w.expiries.appendEntry(hd)
		var ok bool
		if w.held, ok = addOK(w.held, hd.amount); !ok {
			return badImage("held overflows")
		}
	}
	w.expiries.init(&w.holdSlab) // O(n), where n pushes would be O(n log n)
	return nil
}

// restoreIDs refills the eviction queue in order. The index points each id
// at its newest record, a pinned one first, exactly as remember and pin
// leave it (a newer record of an id always replaces the older's entry).
func (w *Wallet) restoreIDs(rs []RecordImage, last int64) error {
	w.ids.queue = make([]queued, len(rs))
	w.ids.enqueued = uint64(len(rs))
	for i := range rs {
		ri := &rs[i]
		if err := checkRecord(ri.Answer.ID, ri.Answer.Op, ri.Hold, ri.At, last); err != nil {
			return err
		}
		last = ri.At
		r := w.ids.newRecord()
		r.answer, r.at, r.hold = ri.Answer, ri.At, holdStatus(ri.Hold)
		h := hashID(r.answer.ID)
		r.pos = uint32(i) // the table has queued len(rs) records: this is number i
		w.ids.queue[i] = queued{r, h, r.at, r.hold}
		if p := w.ids.byID.get(r.answer.ID, h); p == nil || p.hold != holdOpen {
			w.ids.byID.set(r, h)
		}
	}
	return nil
}

// checkRecord is what a restore requires of a remembered id queued after
// one queued at last: an id, an op, a status a queued record can have,
// queue order.
func checkRecord(id string, op opCode, hold uint8, at, last int64) error {
	st := holdStatus(hold)
	if id == "" || op == opNone || (st != noHold && st != holdClosed && st != holdLapsed) {
		return badImage("remembered id %q: op %d, hold status %d", id, op, hold)
	}
	if at < last {
		return badImage("remembered ids out of order at %q", id)
	}
	return nil
}
