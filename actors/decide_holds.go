package actors

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

// findHold returns the open hold, or the code for a closed or unknown one.
// lapsed is the record of a hold that expired and was released: its first
// settle is a late settle, which counts where the record's Attr says.
// Callers refuse an invalid id first, before the idempotency lookup, like
// every other invalid field.
func (w *Wallet) findHold(id string) (hd *hold, lapsed *record, err *Error) {
	if r := w.ids.find(id); r != nil && r.hold != noHold {
		switch r.hold {
		case holdOpen:
			return w.holdSlab.at(r.pos), nil, nil
		case holdLapsed:
			return nil, r, nil
		}
		return nil, nil, fail(ErrHoldClosed, "hold "+id+" is closed (settled, released, captured or expired)")
	}
	return nil, nil, fail(ErrHoldNotFound, "no hold "+id+" in this wallet")
}

func settleHash(c Settle) uint64 {
	h := newHash(opSettle)
	h.str(c.HoldID)
	h.int(c.Actual)
	if c.Final {
		h.byte(1)
	}
	return h.h
}

func (w *Wallet) decideSettle(c Settle, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return evs, nil, err
	}
	if c.Actual < 0 {
		return evs, nil, fail(ErrInvalidAmount, "actual must be an integer >= 0")
	}
	hash := settleHash(c)
	if a, err := w.lookup(c.ID, opSettle, hash, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	hd, lapsedRec, err := w.findHold(c.HoldID)
	if err != nil {
		return evs, nil, err
	}
	lapsed := lapsedRec != nil
	d := w.draft(at, evs)
	e := &Settled{Head: d.head(), Hold: c.HoldID, Late: lapsed, Answer: Answer{ID: c.ID, Op: opSettle, Hash: hash}}
	var overage, released, forfeited int64
	if lapsed {
		if a := lapsedRec.answer.Attr; a != nil {
			e.Principal, e.Feature = a.Principal, a.Feature
		}
		if err := w.consumeBeyond(&d, e, c.Actual); err != nil {
			return evs, nil, err
		}
		d.add(e)
	} else {
		final := c.Final || c.Actual >= hd.amount
		e.FromHold = takeEarmarks(e.buf[0:0:2], hd.earmarks(), min(c.Actual, hd.amount))
		d.held -= min(c.Actual, hd.amount)
		if c.Actual > hd.amount {
			overage = c.Actual - hd.amount
			if err := w.consumeBeyond(&d, e, overage); err != nil {
				return evs, nil, err
			}
		}
		if final {
			e.Closes = true
			if c.Actual < hd.amount {
				e.Returned = subtractEarmarks(e.buf[2:2:4], hd.earmarks(), e.FromHold)
			}
		}
		d.add(e)
		released, forfeited = w.closeReturns(&d, e.Returned)
	}
	r := SettleReply{Consumed: c.Actual, Released: released, Forfeited: forfeited, Overage: overage,
		Debt: d.debt, Late: lapsed, Allocations: MergeAllocations(e.FromHold, e.FromFree), Figures: d.figures()}
	e.Answer.N = [8]int64{released, forfeited, overage, d.debt, b2i(lapsed)}
	putFigures(e.Answer.N[5:], r.Figures)
	e.Answer.Allocs = r.Allocations
	return d.evs, r, nil
}

// consumeBeyond books usage that no hold covers: from free credits in
// burn-down order, the rest as debt (SPEC §3).
func (w *Wallet) consumeBeyond(d *draft, e *Settled, amount int64) *Error {
	from, taken := w.pickFree(e.buf[4:4:6], amount)
	debt, ok := addOK(d.debt, amount-taken)
	if !ok {
		return fail(ErrAmountOverflow, "the wallet's debt would overflow int64")
	}
	e.FromFree, e.DebtAdded = from, amount-taken
	d.free -= taken
	d.debt = debt
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (w *Wallet) decideRelease(c Release, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return evs, nil, err
	}
	h := newHash(opRelease)
	h.str(c.HoldID)
	if a, err := w.lookup(c.ID, opRelease, h.h, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	hd, lapsed, err := w.findHold(c.HoldID)
	if err != nil {
		return evs, nil, err
	}
	if lapsed != nil {
		return evs, nil, fail(ErrHoldClosed, "hold "+c.HoldID+" expired and was released")
	}
	d := w.draft(at, evs)
	e := &Released{Head: d.head(), Hold: hd.id(), Answer: Answer{ID: c.ID, Op: opRelease, Hash: h.h}}
	e.Returned = append(e.buf[:0], hd.earmarks()...) // a copy: the hold's slot is reused
	d.add(e)
	released, forfeited := w.closeReturns(&d, e.Returned)
	r := ReleaseReply{Released: released, Forfeited: forfeited, Figures: d.figures()}
	e.Answer.N = [8]int64{released, forfeited}
	putFigures(e.Answer.N[2:], r.Figures)
	return d.evs, r, nil
}

func (w *Wallet) decideExtend(c Extend, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return evs, nil, err
	}
	ttl, err := ttlNanos(c.TTLms, 0) // no default: 0 is refused
	if err != nil {
		return evs, nil, err
	}
	expires, err := expiry(at, ttl)
	if err != nil {
		return evs, nil, err
	}
	if c.Amount < 0 {
		return evs, nil, fail(ErrInvalidAmount, "amount must be an integer > 0")
	}
	h := newHash(opExtend)
	h.str(c.HoldID)
	h.int(c.TTLms)
	h.int(c.Amount)
	if a, err := w.lookup(c.ID, opExtend, h.h, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	hd, lapsed, err := w.findHold(c.HoldID)
	if err != nil {
		return evs, nil, err
	}
	if lapsed != nil {
		return evs, nil, fail(ErrHoldClosed, "hold "+c.HoldID+" expired and was released")
	}
	if c.Amount != 0 && c.Amount < hd.amount {
		return evs, nil, fail(ErrInvalidAmount, "amount is the hold's new total and must not be below its current "+
			strconv.FormatInt(hd.amount, 10))
	}
	more := max(c.Amount-hd.amount, 0)
	if more > 0 {
		// An increase is an incremental authorization: the waterfall's status
		// and credit steps apply as for a strict reserve, whatever the mode.
		// Caps and the feature's entitlement and limit apply to the
		// increase at the hold's principal and feature; it is no new
		// request, so it takes no rate.
		reason := Allowed
		var by *DeniedBy
		switch {
		case w.settings.Suspended:
			reason = ReasonWalletSuspended
		case w.gov != nil:
			reason, by, _ = w.gov.check(more, hd.principal, hd.feature, at, true, false)
		}
		if reason == Allowed && (w.debt > 0 || w.free < more) {
			reason = ReasonInsufficientCredits
		}
		if reason != Allowed {
			return evs, ExtendReply{Reason: reason, DeniedBy: by, ExpiresAt: unixTime(hd.expiresAt), Amount: hd.amount,
				Figures: w.Figures()}, nil
		}
	}
	d := w.draft(at, evs)
	e := &HoldExtended{Head: d.head(), Hold: hd.id(), ExpiresAt: expires, Answer: Answer{ID: c.ID, Op: opExtend, Hash: h.h}}
	if more > 0 {
		e.Earmarks, _ = w.pickFree(nil, more)
		d.free -= more
		d.held += more
	}
	d.add(e)
	amount := hd.amount + more
	r := ExtendReply{Allowed: true, ExpiresAt: unixTime(e.ExpiresAt), Amount: amount, Figures: d.figures()}
	e.Answer.N = [8]int64{e.ExpiresAt, amount}
	putFigures(e.Answer.N[2:], r.Figures)
	return d.evs, r, nil
}

func (w *Wallet) decideDebit(c Debit, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return evs, nil, err
	}
	if err := validAmount("amount", c.Amount); err != nil {
		return evs, nil, err
	}
	if err := validPrincipal(c.Principal); err != nil {
		return evs, nil, err
	}
	if err := validFeature(c.Feature); err != nil {
		return evs, nil, err
	}
	if err := w.limits.validMeta(c.Meta); err != nil {
		return evs, nil, err
	}
	h := newHash(opDebit)
	h.int(c.Amount)
	h.str(c.Principal)
	h.str(c.Feature)
	h.meta(c.Meta)
	if a, err := w.lookup(c.ID, opDebit, h.h, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	d := w.draft(at, evs)
	from, taken := w.pickFree(nil, c.Amount)
	debt, ok := addOK(d.debt, c.Amount-taken)
	if !ok {
		return evs, nil, fail(ErrAmountOverflow, "the wallet's debt would overflow int64")
	}
	d.free -= taken
	d.debt = debt
	e := &Debited{Head: d.head(), Amount: c.Amount, FromFree: from, DebtAdded: c.Amount - taken,
		Principal: c.Principal, Feature: c.Feature, Meta: c.Meta, Answer: Answer{ID: c.ID, Op: opDebit, Hash: h.h, Allocs: from}}
	d.add(e)
	r := DebitReply{Consumed: c.Amount, Debt: d.debt, Allocations: from, Figures: d.figures()}
	e.Answer.N[0] = d.debt
	putFigures(e.Answer.N[1:], r.Figures)
	return d.evs, r, nil
}
