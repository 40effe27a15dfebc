package actors

import (
	"cmp"
	"math"
	"slices"
	"time"
)

func grantHash(c Grant) uint64 {
	h := newHash(opGrant)
	h.int(c.Amount)
	h.str(c.Kind)
	if c.Priority != nil {
		h.byte(1)
		h.int(*c.Priority)
	}
	h.int(timeNanos(c.EffectiveAt))
	h.int(timeNanos(c.ExpiresAt))
	h.meta(c.Meta)
	return h.h
}

func (w *Wallet) decideGrant(c Grant, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := validAmount("amount", c.Amount); err != nil {
		return evs, nil, err
	}
	if err := validKind(c.Kind); err != nil {
		return evs, nil, err
	}
	if err := w.limits.validMeta(c.Meta); err != nil {
		return evs, nil, err
	}
	hash := grantHash(c)
	if a, err := w.lookup(c.ID, opGrant, hash, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	if !representable(c.EffectiveAt) || !representable(c.ExpiresAt) {
		return evs, nil, fail(ErrInvalidRequest, "effective_at and expires_at must lie between 1970 and 2262")
	}
	effective := timeNanos(c.EffectiveAt)
	if effective == 0 {
		effective = at
	}
	expires := timeNanos(c.ExpiresAt)
	if expires != 0 && (expires <= effective || expires <= at) {
		return evs, nil, fail(ErrInvalidRequest, "expires_at must be after effective_at and in the future")
	}
	priority := DefaultPriority(c.Kind)
	if c.Priority != nil {
		priority = *c.Priority
	}
	if _, live := w.grants[c.ID]; live {
		return evs, nil, fail(ErrIdempotencyConflict, "grant "+c.ID+" exists; a grant's id names it for its life")
	}
	if len(w.grants) >= w.limits.MaxGrants {
		return evs, nil, fail(ErrLimitExceeded, "grants: the wallet has the maximum of "+itoa(w.limits.MaxGrants)+" live grants")
	}
	if _, ok := addOK(w.total, c.Amount); !ok {
		return evs, nil, fail(ErrAmountOverflow, "the wallet's credits would overflow int64")
	}
	d := w.draft(at, evs)
	e := &GrantCreated{Head: d.head(), Grant: c.ID, Kind: c.Kind, Priority: priority, Amount: c.Amount,
		EffectiveAt: effective, ExpiresAt: expires, Meta: c.Meta, Answer: Answer{ID: c.ID, Op: opGrant, Hash: hash}}
	d.add(e)
	active := effective <= at
	var repaid int64
	if active {
		d.free += c.Amount
		repaid = w.repayFrom(&d, c.ID, c.Amount)
	}
	view := GrantView{ID: c.ID, Kind: c.Kind, Priority: priority, Amount: c.Amount, Remaining: c.Amount - repaid,
		EffectiveAt: unixTime(effective), ExpiresAt: unixTime(expires), Active: active, Meta: c.Meta}
	r := GrantReply{Grant: view, DebtRepaid: repaid, Figures: d.figures()}
	e.Answer.N = [8]int64{effective, view.Remaining, b2i(active), repaid, 0, 0, 0, priority}
	putFigures(e.Answer.N[4:7], r.Figures)
	return d.evs, r, nil
}

// repayFrom pays debt from a grant that just became active (its credits
// are all free) and returns what it paid.
func (w *Wallet) repayFrom(d *draft, grant string, amount int64) int64 {
	if d.debt == 0 {
		return 0
	}
	paid := min(d.debt, amount)
	d.add(&DebtRepaid{Head: d.head(), Allocations: []Allocation{{Grant: grant, Amount: paid}}})
	d.free -= paid
	d.debt -= paid
	return paid
}

// representable: zero (absent), or a time whose unix nanoseconds fit int64
// and are positive (0 means "absent" in events).
func representable(t time.Time) bool {
	return t.IsZero() || t.After(time.Unix(0, 0)) && t.Before(time.Unix(0, math.MaxInt64))
}

func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (w *Wallet) decideRevoke(c Revoke, at int64, evs []Event) ([]Event, Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return evs, nil, err
	}
	h := newHash(opRevoke)
	h.str(c.GrantID)
	if a, err := w.lookup(c.ID, opRevoke, h.h, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	g := w.grants[c.GrantID]
	// An expired or revoked grant kept for its earmarks is closed already:
	// revoking it again would relabel its later forfeits.
	if g == nil || g.state == grantExpired || g.state == grantRevoked {
		return evs, nil, fail(ErrGrantNotFound, "no live grant "+c.GrantID+" (spent, closed or never granted)")
	}
	var amount int64
	switch g.state {
	case grantActive:
		amount = g.free()
	case grantPending:
		amount = g.remaining
	}
	d := w.draft(at, evs)
	if g.state == grantActive {
		d.free -= amount
	}
	e := &Revoked{Head: d.head(), Grant: g.id, Amount: amount, Closes: true, Answer: Answer{ID: c.ID, Op: opRevoke, Hash: h.h}}
	d.add(e)
	r := RevokeReply{Forfeited: amount, Figures: d.figures()}
	e.Answer.N[0] = amount
	putFigures(e.Answer.N[1:], r.Figures)
	return d.evs, r, nil
}

func (w *Wallet) decideConfigure(c Configure, at int64, evs []Event) ([]Event, Reply, *Error) {
	s := w.settings
	h := newHash(opConfigure)
	if c.Mode != nil {
		if *c.Mode > Optimistic {
			return evs, nil, fail(ErrInvalidRequest, `mode must be "strict" or "optimistic"`)
		}
		s.Mode = *c.Mode
		h.byte(1)
		h.byte(byte(*c.Mode))
	}
	if c.OverdraftLimit != nil && c.OverdraftPercent != nil {
		return evs, nil, fail(ErrInvalidRequest, "set overdraft_limit or overdraft_percent, not both")
	}
	if c.OverdraftLimit != nil {
		if *c.OverdraftLimit < 0 {
			// An amount, as the wire decodes it: negative is invalid_amount (SPEC §1).
			return evs, nil, fail(ErrInvalidAmount, "overdraft_limit must be a non-negative integer")
		}
		s.OverdraftLimit, s.OverdraftPercent, s.PercentSet = *c.OverdraftLimit, 0, false
		h.byte(2)
		h.int(*c.OverdraftLimit)
	}
	if c.OverdraftPercent != nil {
		if *c.OverdraftPercent < 0 {
			return evs, nil, fail(ErrInvalidRequest, "overdraft_percent must be a non-negative integer")
		}
		s.OverdraftLimit, s.OverdraftPercent, s.PercentSet = 0, *c.OverdraftPercent, true
		h.byte(3)
		h.int(*c.OverdraftPercent)
	}
	if c.DefaultTTLms != nil {
		if _, err := ttlNanos(*c.DefaultTTLms, -1); err != nil {
			return evs, nil, fail(ErrInvalidRequest, "default_ttl_ms must be between 1 and 86400000")
		}
		s.DefaultTTLms = *c.DefaultTTLms
		h.byte(4)
		h.int(*c.DefaultTTLms)
	}
	if c.Suspended != nil {
		s.Suspended = *c.Suspended
		h.byte(5)
		h.byte(byte(b2i(*c.Suspended)))
	}
	gov, err := w.limits.buildGovernance(w.governance(), c.Policies, c.Features)
	if err != nil {
		return evs, nil, err
	}
	hashGovernance(&h, c.Policies, c.Features)
	if a, err := w.lookup(c.ID, opConfigure, h.h, at); a != nil || err != nil {
		return evs, firstReply(a, c), err
	}
	d := w.draft(at, evs)
	d.add(&Configured{Head: d.head(), Settings: s, Governance: gov,
		Answer: Answer{ID: c.ID, Op: opConfigure, Hash: h.h, N: s.answer()}, RescaleRates: true})
	return d.evs, s.reply(gov), nil
}

// balance is the read-only view of SPEC §8: active grants in burn-down
// order, then pending ones by effective_at, then closed ones still
// earmarked.
func (w *Wallet) balance(at int64) (Reply, *Error) {
	if err := w.requireWallet(); err != nil {
		return nil, err
	}
	r := BalanceReply{Debt: w.debt, Mode: w.settings.Mode, Holds: w.holds, Figures: w.Figures()}
	r.Policies, r.Features = w.gov.usageView(at)
	r.Grants = make([]GrantView, 0, len(w.grants))
	for _, g := range w.order {
		r.Grants = append(r.Grants, g.view())
	}
	var pending, closed []*grant
	for _, g := range w.grants {
		switch {
		case g.state == grantPending:
			pending = append(pending, g)
		case g.state != grantActive && g.remaining > 0:
			closed = append(closed, g)
		}
	}
	slices.SortFunc(pending, func(a, b *grant) int {
		return cmp.Or(cmp.Compare(a.effectiveAt, b.effectiveAt), cmp.Compare(a.id, b.id))
	})
	slices.SortFunc(closed, compareBurn)
	for _, g := range append(pending, closed...) {
		r.Grants = append(r.Grants, g.view())
	}
	return r, nil
}

func (g *grant) view() GrantView {
	return GrantView{ID: g.id, Kind: g.kind, Priority: g.priority, Amount: g.amount, Remaining: g.remaining,
		Earmarked: g.earmarked, EffectiveAt: unixTime(g.effectiveAt), ExpiresAt: unixTime(g.expiresAt),
		Active: g.state == grantActive, Meta: g.meta}
}

// decideDue decides the earliest time-driven change due at at. At one
// instant: grant expiries, then hold expiries, then grant activations. A
// grant is active while effective_at <= now < expires_at (SPEC §2), so an
// earmark a hold frees at its grant's expires_at is forfeited, never paid
// to debt; and what holds free at an instant repays debt before a grant
// activating then does, which keeps a promotional earmark ahead of a paid
// grant (burn-down order) in the common case. Execute calls it until
// nothing is due, applying each before deciding the next.
func (w *Wallet) decideDue(at int64, evs []Event) []Event {
	d := w.draft(at, evs)
	var g *grant
	if len(w.timers) > 0 && w.timers[0].dueAt() <= at {
		g = w.timers[0]
	}
	if len(w.expiries) > 0 && w.expiries[0].at <= at &&
		(g == nil || w.expiries[0].at < g.dueAt() || w.expiries[0].at == g.dueAt() && g.state == grantPending) {
		hd := w.expiries.top(&w.holdSlab)
		// The events copy the earmarks: the hold's slot is reused.
		if hd.onExpiry == ExpireCapture {
			d.add(&HoldExpired{Head: d.head(), Hold: hd.id(), Capture: true})
			s := &Settled{Head: d.head(), Hold: hd.id(), Closes: true}
			s.FromHold = append(s.buf[0:0:2], hd.earmarks()...)
			d.add(s)
			return d.evs
		}
		e := &HoldExpired{Head: d.head(), Hold: hd.id()}
		e.Returned = append(e.buf[:0], hd.earmarks()...)
		d.add(e)
		w.closeReturns(&d, e.Returned)
		return d.evs
	}
	if g == nil {
		panic("purser: decideDue with nothing due")
	}
	if g.state == grantPending {
		d.add(&GrantActivated{Head: d.hidden(), Grant: g.id})
		d.free += g.remaining
		w.repayFrom(&d, g.id, g.remaining)
		return d.evs
	}
	d.add(&GrantExpired{Head: d.head(), Grant: g.id, Amount: g.free(), Closes: true})
	return d.evs
}
