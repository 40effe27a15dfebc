package actors

// Decide computes the events cmd causes at time at (unix ns), appended to
// evs, and its reply. It changes nothing: Apply books the events.
//
// Precondition: nothing time-driven is due at at (Wallet.Execute applies
// what is due first), so no answer reflects a stale clock.
//
// Ids are checked first, for every command (checkIDs). Each decide
// function is then a ladder of early returns; after its last check it only
// builds events that cannot fail to apply.
func (w *Wallet) Decide(cmd Command, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := checkIDs(cmd); err != nil {
		return evs, nil, err
	}
	switch c := cmd.(type) {
	case Reserve:
		return w.decideReserve(c, at, evs)
	case Check:
		r, err := w.decideCheck(c, at)
		return evs, r, err
	case Settle:
		return w.decideSettle(c, at, evs)
	case Release:
		return w.decideRelease(c, at, evs)
	case Extend:
		return w.decideExtend(c, at, evs)
	case Debit:
		return w.decideDebit(c, at, evs)
	case Balance:
		r, err := w.balance(at)
		return evs, r, err
	case Grant:
		return w.decideGrant(c, at, evs)
	case Revoke:
		return w.decideRevoke(c, at, evs)
	case Configure:
		return w.decideConfigure(c, at, evs)
	case Tick:
		return evs, TickReply{}, nil
	}
	return evs, nil, fail(ErrInvalidRequest, "unknown command")
}

// draft accumulates one command's events and the sums they leave behind,
// so the reply can state the figures after them without applying anything.
type draft struct {
	at               int64
	seq              uint64
	evs              []Event
	free, held, debt int64
}

func (w *Wallet) draft(at int64, evs []Event) draft {
	return draft{at: at, seq: w.seq, evs: evs, free: w.free, held: w.held, debt: w.debt}
}

// head stamps the next history entry; hidden stamps an event history skips.
func (d *draft) head() Head   { d.seq++; return Head{Seq: d.seq, At: d.at} }
func (d *draft) hidden() Head { return Head{At: d.at} }
func (d *draft) add(e Event)  { d.evs = append(d.evs, e) }

func (d *draft) figures() Figures {
	return Figures{Balance: d.free + d.held - d.debt, Held: d.held, Available: d.free - d.debt}
}

// lookup finds a retry's first answer: the Answer if op and content match,
// or idempotency_conflict. nil, nil: the id is new.
func (w *Wallet) lookup(id string, op opCode, hash uint64, at int64) (*Answer, *Error) {
	r := w.ids.lookup(id, at, int64(w.limits.IDRetention))
	if r == nil {
		return nil, nil
	}
	if r.answer.Op != op || r.answer.Hash != hash {
		return nil, fail(ErrIdempotencyConflict, "id "+id+" was already used for another "+
			"request; a retry must repeat the same op and content")
	}
	return &r.answer, nil
}

// firstReply rebuilds the first reply for a retry. Generic so that the
// command is boxed only on this (rare) path, not on every decision.
func firstReply[C Command](a *Answer, c C) Reply {
	if a == nil {
		return nil
	}
	return a.replay(c)
}

func (w *Wallet) requireWallet() *Error {
	if !w.exists {
		return fail(ErrWalletNotFound, "wallet "+w.id+" has no grant or configuration yet")
	}
	return nil
}

// pickFree walks active grants in burn-down order and picks up to amount
// of their free credits, appending to allocs.
func (w *Wallet) pickFree(allocs []Allocation, amount int64) ([]Allocation, int64) {
	var taken int64
	for _, g := range w.order {
		if taken == amount {
			break
		}
		f := g.free()
		if f <= 0 {
			continue
		}
		t := min(f, amount-taken)
		allocs = append(allocs, Allocation{Grant: g.id, Amount: t})
		taken += t
	}
	return allocs, taken
}

// takeEarmarks takes amount from a hold's earmarks in their (burn-down)
// order, appending to out.
func takeEarmarks(out, earmarks []Allocation, amount int64) []Allocation {
	for _, e := range earmarks {
		if amount == 0 {
			break
		}
		t := min(e.Amount, amount)
		out = append(out, Allocation{Grant: e.Grant, Amount: t})
		amount -= t
	}
	return out
}

// closeReturns books what a closing hold gives back: forfeit events for
// earmarks of expired or revoked grants, then, if there is debt, a
// repayment from those of active grants. released counts what returned to
// available (repaid debt included), forfeited what was lost.
func (w *Wallet) closeReturns(d *draft, returned []Allocation) (released, forfeited int64) {
	for _, a := range returned {
		switch w.grants[a.Grant].state {
		case grantActive:
			released += a.Amount
		case grantExpired:
			forfeited += a.Amount
			d.add(&GrantExpired{Head: d.head(), Grant: a.Grant, Amount: a.Amount})
		case grantRevoked:
			forfeited += a.Amount
			d.add(&Revoked{Head: d.head(), Grant: a.Grant, Amount: a.Amount})
		default:
			panic("purser: a hold earmarked a pending grant")
		}
	}
	d.held -= released + forfeited
	d.free += released
	if d.debt > 0 && released > 0 {
		var repay []Allocation
		left := d.debt
		for _, a := range returned {
			if left == 0 {
				break
			}
			if w.grants[a.Grant].state == grantActive {
				t := min(left, a.Amount)
				repay = append(repay, Allocation{Grant: a.Grant, Amount: t})
				left -= t
			}
		}
		paid := d.debt - left
		d.add(&DebtRepaid{Head: d.head(), Allocations: repay})
		d.free -= paid
		d.debt -= paid
	}
	return released, forfeited
}

func reserveHash(c Reserve) uint64 {
	h := newHash(opReserve)
	h.int(c.Amount)
	h.int(c.TTLms)
	h.byte(byte(c.OnExpiry))
	h.str(c.Principal)
	h.str(c.Feature)
	h.meta(c.Meta)
	return h.h
}

// validReserve checks the fields reserve and check share.
func (w *Wallet) validReserve(amount, ttlMs int64, onExpiry OnExpiry, principal, feature string, meta Meta) (int64, *Error) {
	if err := validAmount("amount", amount); err != nil {
		return 0, err
	}
	ttl, err := ttlNanos(ttlMs, w.settings.DefaultTTLms)
	if err != nil {
		return 0, err
	}
	if onExpiry > ExpireCapture {
		return 0, fail(ErrInvalidRequest, `on_expiry must be "release" or "capture"`)
	}
	if err := validPrincipal(principal); err != nil {
		return 0, err
	}
	if err := validFeature(feature); err != nil {
		return 0, err
	}
	return ttl, w.limits.validMeta(meta)
}

func (w *Wallet) decideReserve(c Reserve, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return evs, nil, err
	}
	ttl, err := w.validReserve(c.Amount, c.TTLms, c.OnExpiry, c.Principal, c.Feature, c.Meta)
	if err != nil {
		return evs, nil, err
	}
	expires, err := expiry(at, ttl)
	if err != nil {
		return evs, nil, err
	}
	hash := reserveHash(c)
	if a, err := w.lookup(c.ID, opReserve, hash, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	if reason, by, retry := w.evaluate(c.Amount, c.Principal, c.Feature, at); reason != Allowed {
		return evs, ReserveReply{Reason: reason, DeniedBy: by, RetryAfterMs: retry, Figures: w.Figures()}, nil
	}
	d := w.draft(at, evs)
	if w.settings.Mode == Optimistic {
		e := &Authorized{Head: d.hidden(), Amount: c.Amount, Principal: c.Principal, Feature: c.Feature,
			Answer: Answer{ID: c.ID, Op: opReserve, Hash: hash}}
		putFigures(e.Answer.N[1:], d.figures())
		d.add(e)
		return d.evs, ReserveReply{Allowed: true, Figures: d.figures()}, nil
	}
	if w.holds >= w.limits.MaxOpenHolds {
		return evs, nil, fail(ErrLimitExceeded, "open holds: the wallet holds the maximum of "+
			itoa(w.limits.MaxOpenHolds)+"; settle or release some")
	}
	e := &HoldPlaced{Head: d.head(), Hold: c.ID, Amount: c.Amount, ExpiresAt: expires, OnExpiry: c.OnExpiry,
		Principal: c.Principal, Feature: c.Feature, Meta: c.Meta,
		Answer: Answer{ID: c.ID, Op: opReserve, Hash: hash}}
	var taken int64
	if e.Earmarks, taken = w.pickFree(e.buf[:0], c.Amount); taken != c.Amount {
		panic("purser: available credits not found in grants")
	}
	d.free -= c.Amount
	d.held += c.Amount
	e.Answer.N[0] = expires
	f := d.figures()
	putFigures(e.Answer.N[1:], f)
	d.add(e)
	return d.evs, ReserveReply{Allowed: true, HoldID: c.ID, ExpiresAt: unixTime(expires), Figures: f}, nil
}

func (w *Wallet) decideCheck(c Check, at int64) (Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return nil, err
	}
	if _, err := w.validReserve(c.Amount, c.TTLms, c.OnExpiry, c.Principal, c.Feature, c.Meta); err != nil {
		return nil, err
	}
	reason, by, retry := w.evaluate(c.Amount, c.Principal, c.Feature, at)
	return ReserveReply{Allowed: reason == Allowed, Reason: reason, DeniedBy: by, RetryAfterMs: retry,
		Figures: w.Figures()}, nil
}

// evaluate is the decision waterfall of SPEC §5: wallet status →
// entitlement → rate limits → spend caps → credits. Governance (the middle
// three, govcheck.go) runs only on a wallet that has some; each step may
// only deny.
func (w *Wallet) evaluate(amount int64, principal, feature string, at int64) (Reason, *DeniedBy, int64) {
	if w.settings.Suspended {
		return ReasonWalletSuspended, nil, 0
	}
	if w.gov != nil {
		if r, by, retry := w.gov.check(amount, principal, feature, at, w.settings.Mode == Strict, true); r != Allowed {
			return r, by, retry
		}
	}
	if !w.hasCredit(amount) {
		return ReasonInsufficientCredits, nil, 0
	}
	return Allowed, nil, 0
}

// hasCredit is the last step of the waterfall.
func (w *Wallet) hasCredit(amount int64) bool {
	if w.settings.Mode == Optimistic {
		return w.Figures().Balance > -w.overdraftLimit()
	}
	return w.debt == 0 && w.free >= amount
}

// overdraftLimit is the optimistic limit: absolute, or a percent of the
// active grants' original amounts, rounded down (SPEC §4).
func (w *Wallet) overdraftLimit() int64 {
	if !w.settings.PercentSet {
		return w.settings.OverdraftLimit
	}
	base := w.spentOriginal
	for _, g := range w.grants {
		if g.state == grantActive {
			base = base.add(g.amount)
		}
	}
	return base.percent(w.settings.OverdraftPercent)
}
