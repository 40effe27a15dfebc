package actors

// The reference model's operations (model_test.go has its state, the
// time-driven changes and TestWalletMatchesModel), one per command,
// written from SPEC §3–4 and §6.

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

func (m *model) reserve(c Reserve, now int64) (Reply, Code) {
	ttl := cmpOr(c.TTLms, m.settings.DefaultTTLms)
	switch {
	case badID(c.ID):
		return nil, ErrInvalidRequest
	case c.Amount <= 0:
		return nil, ErrInvalidAmount
	case badTTL(ttl) || c.OnExpiry > ExpireCapture:
		return nil, ErrInvalidRequest
	}
	key := fmt.Sprint(c.Amount, c.TTLms, c.OnExpiry)
	if r, code, ok := m.lookup(c.ID, "reserve", key); ok {
		return r, code
	}
	if reason := m.evaluate(c.Amount); reason != Allowed {
		return ReserveReply{Reason: reason, Figures: m.figures()}, OK
	}
	if m.settings.Mode == Optimistic {
		r := ReserveReply{Allowed: true, Figures: m.figures()}
		m.remember(&mRec{id: c.ID, op: "reserve", key: key, reply: r})
		return r, OK
	}
	if len(m.holds) >= m.limits.MaxOpenHolds {
		return nil, ErrLimitExceeded
	}
	earmarks, _ := m.pick(c.Amount)
	exp := now + ttl*1e6
	m.holds[c.ID] = &mHold{id: c.ID, amount: c.Amount, exp: exp, capture: c.OnExpiry == ExpireCapture, earmarks: earmarks}
	r := ReserveReply{Allowed: true, HoldID: c.ID, ExpiresAt: unixTime(exp), Figures: m.figures()}
	m.recs[c.ID] = &mRec{id: c.ID, op: "reserve", key: key, reply: r, hold: mOpen}
	return r, OK
}

// findHold: the open hold, or whether a closed one lapsed, or a code.
func (m *model) findHold(id string) (*mHold, bool, Code) {
	if id == "" {
		return nil, false, ErrInvalidRequest
	}
	if h := m.holds[id]; h != nil {
		return h, false, OK
	}
	if r := m.recs[id]; r != nil && r.hold != mNoHold {
		if r.hold == mLapsed {
			return nil, true, OK
		}
		return nil, false, ErrHoldClosed
	}
	return nil, false, ErrHoldNotFound
}

func (m *model) settle(c Settle) (Reply, Code) {
	switch {
	case badID(c.ID):
		return nil, ErrInvalidRequest
	case c.Actual < 0:
		return nil, ErrInvalidAmount
	case c.HoldID == "":
		return nil, ErrInvalidRequest
	}
	key := fmt.Sprint(c.HoldID, c.Actual, c.Final)
	if r, code, ok := m.lookup(c.ID, "settle", key); ok {
		return r, code
	}
	h, lapsed, code := m.findHold(c.HoldID)
	if code != OK {
		return nil, code
	}
	r := SettleReply{Consumed: c.Actual, Late: lapsed}
	var used []mEarmark
	beyond := c.Actual
	if !lapsed {
		take := min(c.Actual, h.amount)
		left := take
		var rest []mEarmark
		for _, e := range h.earmarks {
			t := min(left, e.amount)
			if t > 0 {
				used = append(used, mEarmark{e.g, t})
			}
			left -= t
			if e.amount-t > 0 {
				rest = append(rest, mEarmark{e.g, e.amount - t})
			}
		}
		beyond = c.Actual - take
		r.Overage = beyond
		// Check the overflow before changing anything.
		from, taken := m.pick(beyond)
		if !new(big.Int).Add(big.NewInt(m.debt), big.NewInt(beyond-taken)).IsInt64() {
			return nil, ErrAmountOverflow
		}
		consume(used)
		h.earmarks, h.amount = rest, h.amount-take
		consume(from)
		m.debt += beyond - taken
		used = append(used, from...)
		if c.Final || h.amount == 0 { // a partial settle of at least the hold is final
			r.Released, r.Forfeited = m.closeHold(h, mClosed)
		}
	} else {
		from, taken := m.pick(beyond)
		if !new(big.Int).Add(big.NewInt(m.debt), big.NewInt(beyond-taken)).IsInt64() {
			return nil, ErrAmountOverflow
		}
		consume(from)
		m.debt += beyond - taken
		used = from
		m.recs[c.HoldID].hold = mClosed
	}
	r.Allocations, r.Debt, r.Figures = toAllocs(used), m.debt, m.figures()
	m.remember(&mRec{id: c.ID, op: "settle", key: key, reply: r})
	return r, OK
}

func (m *model) release(c Release) (Reply, Code) {
	if badID(c.ID) {
		return nil, ErrInvalidRequest
	}
	if r, code, ok := m.lookup(c.ID, "release", c.HoldID); ok {
		return r, code
	}
	h, lapsed, code := m.findHold(c.HoldID)
	if code != OK {
		return nil, code
	}
	if lapsed {
		return nil, ErrHoldClosed
	}
	var r ReleaseReply
	r.Released, r.Forfeited = m.closeHold(h, mClosed)
	r.Figures = m.figures()
	m.remember(&mRec{id: c.ID, op: "release", key: c.HoldID, reply: r})
	return r, OK
}

func (m *model) extend(c Extend, now int64) (Reply, Code) {
	switch {
	case badID(c.ID):
		return nil, ErrInvalidRequest
	case badTTL(c.TTLms):
		return nil, ErrInvalidRequest
	case c.Amount < 0:
		return nil, ErrInvalidAmount
	}
	key := fmt.Sprint(c.HoldID, c.TTLms, c.Amount)
	if r, code, ok := m.lookup(c.ID, "extend", key); ok {
		return r, code
	}
	h, lapsed, code := m.findHold(c.HoldID)
	if code != OK {
		return nil, code
	}
	if lapsed {
		return nil, ErrHoldClosed
	}
	if c.Amount != 0 && c.Amount < h.amount {
		return nil, ErrInvalidAmount
	}
	if more := c.Amount - h.amount; more > 0 {
		reason := Allowed
		if m.settings.Suspended {
			reason = ReasonWalletSuspended
		} else if m.debt > 0 || m.figures().Available < more {
			reason = ReasonInsufficientCredits
		}
		if reason != Allowed {
			return ExtendReply{Reason: reason, ExpiresAt: unixTime(h.exp), Amount: h.amount, Figures: m.figures()}, OK
		}
		add, _ := m.pick(more)
		for _, a := range add {
			i := slices.IndexFunc(h.earmarks, func(e mEarmark) bool { return e.g == a.g })
			if i >= 0 {
				h.earmarks[i].amount += a.amount
			} else {
				h.earmarks = append(h.earmarks, a)
			}
		}
		slices.SortFunc(h.earmarks, func(a, b mEarmark) int { return mBurnCmp(a.g, b.g) })
		h.amount = c.Amount
	}
	h.exp = now + c.TTLms*1e6
	r := ExtendReply{Allowed: true, ExpiresAt: unixTime(h.exp), Amount: h.amount, Figures: m.figures()}
	m.remember(&mRec{id: c.ID, op: "extend", key: key, reply: r})
	return r, OK
}

func (m *model) debit(c Debit) (Reply, Code) {
	switch {
	case badID(c.ID):
		return nil, ErrInvalidRequest
	case c.Amount <= 0:
		return nil, ErrInvalidAmount
	}
	key := fmt.Sprint(c.Amount)
	if r, code, ok := m.lookup(c.ID, "debit", key); ok {
		return r, code
	}
	from, taken := m.pick(c.Amount)
	if !new(big.Int).Add(big.NewInt(m.debt), big.NewInt(c.Amount-taken)).IsInt64() {
		return nil, ErrAmountOverflow
	}
	consume(from)
	m.debt += c.Amount - taken
	r := DebitReply{Consumed: c.Amount, Debt: m.debt, Allocations: toAllocs(from), Figures: m.figures()}
	m.remember(&mRec{id: c.ID, op: "debit", key: key, reply: r})
	return r, OK
}

func validKindModel(k string) bool {
	if k == "" || len(k) > 32 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func (m *model) grant(c Grant, now int64) (Reply, Code) {
	switch {
	case badID(c.ID):
		return nil, ErrInvalidRequest
	case c.Amount <= 0:
		return nil, ErrInvalidAmount
	case !validKindModel(c.Kind):
		return nil, ErrInvalidRequest
	}
	prio := "default"
	if c.Priority != nil {
		prio = fmt.Sprint(*c.Priority)
	}
	key := fmt.Sprint(c.Amount, c.Kind, prio, timeNanos(c.EffectiveAt), timeNanos(c.ExpiresAt))
	if r, code, ok := m.lookup(c.ID, "grant", key); ok {
		return r, code
	}
	eff, exp := cmpOr(timeNanos(c.EffectiveAt), now), timeNanos(c.ExpiresAt)
	if exp != 0 && (exp <= eff || exp <= now) {
		return nil, ErrInvalidRequest
	}
	if m.liveGrant(c.ID) != nil {
		return nil, ErrIdempotencyConflict
	}
	live, total := 0, new(big.Int).SetInt64(c.Amount)
	for _, g := range m.grants {
		if m.kept(g) {
			live++
			total.Add(total, big.NewInt(g.remaining))
		}
	}
	if live >= m.limits.MaxGrants {
		return nil, ErrLimitExceeded
	}
	if !total.IsInt64() {
		return nil, ErrAmountOverflow
	}
	g := &mGrant{id: c.ID, kind: c.Kind, priority: DefaultPriority(c.Kind), amount: c.Amount, remaining: c.Amount,
		eff: eff, exp: exp, meta: c.Meta}
	if c.Priority != nil {
		g.priority = *c.Priority
	}
	m.grants = append(m.grants, g)
	m.exists = true
	var repaid int64
	if eff <= now {
		g.state = mActive
		repaid = m.repay([]mEarmark{{g, g.remaining}})
	}
	r := GrantReply{Grant: m.view(g), DebtRepaid: repaid, Figures: m.figures()}
	m.remember(&mRec{id: c.ID, op: "grant", key: key, reply: r})
	return r, OK
}

func (m *model) view(g *mGrant) GrantView {
	return GrantView{ID: g.id, Kind: g.kind, Priority: g.priority, Amount: g.amount, Remaining: g.remaining,
		Earmarked: m.earmarked(g), EffectiveAt: unixTime(g.eff), ExpiresAt: unixTime(g.exp),
		Active: g.state == mActive, Meta: g.meta}
}

func (m *model) revoke(c Revoke) (Reply, Code) {
	switch {
	case badID(c.ID):
		return nil, ErrInvalidRequest
	case c.GrantID == "":
		return nil, ErrInvalidRequest
	}
	if r, code, ok := m.lookup(c.ID, "revoke", c.GrantID); ok {
		return r, code
	}
	g := m.liveGrant(c.GrantID)
	if g == nil || g.state == mExpired || g.state == mRevoked {
		return nil, ErrGrantNotFound
	}
	forfeit := g.remaining
	if g.state == mActive {
		forfeit = m.free(g)
	}
	g.remaining -= forfeit
	g.state = mRevoked
	r := RevokeReply{Forfeited: forfeit, Figures: m.figures()}
	m.remember(&mRec{id: c.ID, op: "revoke", key: c.GrantID, reply: r})
	return r, OK
}

func (m *model) configure(c Configure) (Reply, Code) {
	if badID(c.ID) {
		return nil, ErrInvalidRequest
	}
	s, key := m.settings, ""
	if c.Mode != nil {
		if *c.Mode > Optimistic {
			return nil, ErrInvalidRequest
		}
		s.Mode, key = *c.Mode, key+fmt.Sprint("mode", *c.Mode)
	}
	switch {
	case c.OverdraftLimit != nil && c.OverdraftPercent != nil:
		return nil, ErrInvalidRequest
	case c.OverdraftLimit != nil:
		if *c.OverdraftLimit < 0 {
			return nil, ErrInvalidAmount
		}
		s.OverdraftLimit, s.OverdraftPercent, s.PercentSet = *c.OverdraftLimit, 0, false
		key += fmt.Sprint("limit", *c.OverdraftLimit)
	case c.OverdraftPercent != nil:
		if *c.OverdraftPercent < 0 {
			return nil, ErrInvalidRequest
		}
		s.OverdraftLimit, s.OverdraftPercent, s.PercentSet = 0, *c.OverdraftPercent, true
		key += fmt.Sprint("percent", *c.OverdraftPercent)
	}
	if c.DefaultTTLms != nil {
		if badTTL(*c.DefaultTTLms) {
			return nil, ErrInvalidRequest
		}
		s.DefaultTTLms, key = *c.DefaultTTLms, key+fmt.Sprint("ttl", *c.DefaultTTLms)
	}
	if c.Suspended != nil {
		s.Suspended, key = *c.Suspended, key+fmt.Sprint("suspended", *c.Suspended)
	}
	if r, code, ok := m.lookup(c.ID, "configure", key); ok {
		return r, code
	}
	m.settings, m.exists = s, true
	r := ConfigureReply{Mode: s.Mode, DefaultTTLms: s.DefaultTTLms, Suspended: s.Suspended}
	if s.PercentSet {
		p := s.OverdraftPercent
		r.OverdraftPercent = &p
	} else if s.OverdraftLimit != 0 {
		l := s.OverdraftLimit
		r.OverdraftLimit = &l
	}
	m.remember(&mRec{id: c.ID, op: "configure", key: key, reply: r})
	return r, OK
}

func (m *model) balance() Reply {
	r := BalanceReply{Debt: m.debt, Mode: m.settings.Mode, Holds: len(m.holds), Figures: m.figures(), Grants: []GrantView{}}
	for _, g := range m.sorted(func(g *mGrant) bool { return g.state == mActive && g.remaining > 0 }) {
		r.Grants = append(r.Grants, m.view(g))
	}
	var pending []*mGrant
	for _, g := range m.grants {
		if g.state == mPending && g.remaining > 0 {
			pending = append(pending, g)
		}
	}
	slices.SortFunc(pending, func(a, b *mGrant) int {
		return cmp.Or(cmp.Compare(a.eff, b.eff), strings.Compare(a.id, b.id))
	})
	for _, g := range pending {
		r.Grants = append(r.Grants, m.view(g))
	}
	for _, g := range m.sorted(func(g *mGrant) bool { return (g.state == mExpired || g.state == mRevoked) && g.remaining > 0 }) {
		r.Grants = append(r.Grants, m.view(g))
	}
	return r
}
