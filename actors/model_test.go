package actors

// A deliberately simple reference wallet, written from SPEC §2–4 and §6
// rather than from the implementation: every grant ever made stays in a
// slice, earmarks are recomputed by looping over the holds, the burn-down
// order by sorting all grants, figures from the spec's formulas. No caches,
// no heaps, no events. TestWalletMatchesModel runs the real wallet and the
// model side by side on random sequences: every reply (or error code) and
// the figures must match exactly.
//
// The model shares these choices of the implementation (the spec leaves them
// open): time-driven changes due at once run earliest first, a grant before
// a hold on a tie (the spec's "active while now < expires_at" decides what a
// hold frees at its grant's expiry), ids in byte order after that; an id is forgotten only by
// count here (sequences span minutes; retention has scenarios); a grant id
// stays taken while the grant is kept (remaining > 0, or active, expiring
// and spent).

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

type mState int

const (
	mPending mState = iota
	mActive
	mExpired
	mRevoked
)

type mGrant struct {
	id, kind                    string
	priority, amount, remaining int64
	eff, exp                    int64
	state                       mState
	meta                        Meta
}

type mEarmark struct {
	g      *mGrant
	amount int64
}

type mHold struct {
	id       string
	amount   int64
	exp      int64
	capture  bool
	earmarks []mEarmark // burn-down order
}

const (
	mNoHold = iota
	mOpen
	mClosed
	mLapsed
)

type mRec struct {
	id, op, key string
	reply       Reply
	hold        int
}

type model struct {
	limits   Limits
	exists   bool
	settings Settings
	debt     int64
	grants   []*mGrant
	holds    map[string]*mHold
	recs     map[string]*mRec
	fifo     []*mRec
}

func newModel(l Limits) *model {
	return &model{limits: l, settings: Settings{DefaultTTLms: 60000}, holds: map[string]*mHold{}, recs: map[string]*mRec{}}
}

func (m *model) earmarked(g *mGrant) int64 {
	var s int64
	for _, h := range m.holds {
		for _, e := range h.earmarks {
			if e.g == g {
				s += e.amount
			}
		}
	}
	return s
}

func (m *model) free(g *mGrant) int64 {
	if g.state != mActive {
		return 0
	}
	return g.remaining - m.earmarked(g)
}

func mBurnCmp(a, b *mGrant) int {
	switch {
	case a.priority != b.priority:
		return int(sign(a.priority - b.priority))
	case a.exp != b.exp && a.exp == 0:
		return 1
	case a.exp != b.exp && b.exp == 0:
		return -1
	case a.exp != b.exp:
		return int(sign(a.exp - b.exp))
	case a.eff != b.eff:
		return int(sign(a.eff - b.eff))
	}
	return strings.Compare(a.id, b.id)
}

func sign(x int64) int64 {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func (m *model) sorted(keep func(*mGrant) bool) []*mGrant {
	var out []*mGrant
	for _, g := range m.grants {
		if keep(g) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, mBurnCmp)
	return out
}

func (m *model) figures() Figures {
	var balance, held int64
	for _, g := range m.grants {
		switch g.state {
		case mActive:
			balance += g.remaining
		case mExpired, mRevoked:
			balance += m.earmarked(g)
		}
	}
	balance -= m.debt
	for _, h := range m.holds {
		held += h.amount
	}
	return Figures{Balance: balance, Held: held, Available: balance - held}
}

// pick takes up to amount of free credits in burn-down order.
func (m *model) pick(amount int64) (out []mEarmark, taken int64) {
	for _, g := range m.sorted(func(g *mGrant) bool { return m.free(g) > 0 }) {
		if taken == amount {
			break
		}
		t := min(m.free(g), amount-taken)
		out = append(out, mEarmark{g, t})
		taken += t
	}
	return out, taken
}

func (m *model) kept(g *mGrant) bool {
	return g.remaining > 0 || g.state == mActive && g.exp != 0
}

func (m *model) liveGrant(id string) *mGrant {
	for _, g := range m.grants {
		if g.id == id && m.kept(g) {
			return g
		}
	}
	return nil
}

func (m *model) remember(r *mRec) {
	m.recs[r.id] = r
	m.fifo = append(m.fifo, r)
	for len(m.fifo) > m.limits.MaxRememberedIDs {
		old := m.fifo[0]
		m.fifo = m.fifo[1:]
		if m.recs[old.id] == old {
			delete(m.recs, old.id)
		}
	}
}

// lookup: the first reply, a conflict, or nothing.
func (m *model) lookup(id, op, key string) (Reply, Code, bool) {
	r := m.recs[id]
	if r == nil {
		return nil, OK, false
	}
	if r.op != op || r.key != key {
		return nil, ErrIdempotencyConflict, true
	}
	return r.reply, OK, true
}

func toAllocs(es []mEarmark) []Allocation {
	var out []Allocation
	for _, e := range es {
		for i := range out {
			if out[i].Grant == e.g.id {
				out[i].Amount += e.amount
				goto next
			}
		}
		out = append(out, Allocation{Grant: e.g.id, Amount: e.amount})
	next:
	}
	return out
}

// repay pays debt from freed credits of active grants, in burn-down order.
func (m *model) repay(freed []mEarmark) int64 {
	var paid int64
	for _, e := range freed {
		if e.g.state != mActive || m.debt == 0 {
			continue
		}
		t := min(e.amount, m.debt)
		e.g.remaining -= t
		m.debt -= t
		paid += t
	}
	return paid
}

// closeHold returns a hold's earmarks: active grants get them back (and
// repay debt with them), closed grants forfeit them.
func (m *model) closeHold(h *mHold, status int) (released, forfeited int64) {
	delete(m.holds, h.id)
	for _, e := range h.earmarks {
		if e.g.state == mActive {
			released += e.amount
		} else {
			forfeited += e.amount
			e.g.remaining -= e.amount
		}
	}
	m.repay(h.earmarks)
	r := m.recs[h.id]
	r.hold = status
	m.remember(r)
	return released, forfeited
}

func consume(es []mEarmark) {
	for _, e := range es {
		e.g.remaining -= e.amount
	}
}

// due applies the time-driven changes due by at, earliest first.
func (m *model) due(at int64) {
	for {
		var h *mHold
		for _, x := range m.holds {
			if x.exp <= at && (h == nil || x.exp < h.exp || x.exp == h.exp && x.id < h.id) {
				h = x
			}
		}
		var g *mGrant
		var gd int64
		for _, x := range m.grants {
			var d int64
			switch {
			case x.state == mPending:
				d = x.eff
			case x.state == mActive && x.exp != 0:
				d = x.exp
			default:
				continue
			}
			if d <= at && (g == nil || d < gd || d == gd && x.id < g.id) {
				g, gd = x, d
			}
		}
		switch {
		case h != nil && (g == nil || h.exp < gd):
			if h.capture {
				consume(h.earmarks)
				h.earmarks = nil
				m.closeHold(h, mClosed)
			} else {
				m.closeHold(h, mLapsed)
			}
		case g != nil && g.state == mPending:
			g.state = mActive
			m.repay([]mEarmark{{g, g.remaining}})
		case g != nil:
			g.remaining = m.earmarked(g)
			g.state = mExpired
		default:
			return
		}
	}
}

func badID(id string) bool {
	return id == "" || !utf8.ValidString(id) || utf8.RuneCountInString(id) > 128
}

func badTTL(ms int64) bool { return ms <= 0 || ms > 86_400_000 }

func (m *model) exec(c Command, now int64) (Reply, Code) {
	m.due(now)
	if _, ok := c.(Grant); !ok {
		if _, ok := c.(Configure); !ok && !m.exists {
			if _, ok := c.(Tick); !ok {
				return nil, ErrWalletNotFound
			}
		}
	}
	switch c := c.(type) {
	case Tick:
		return nil, OK
	case Reserve:
		return m.reserve(c, now)
	case Check:
		if c.Amount <= 0 {
			return nil, ErrInvalidAmount
		}
		if ttl := cmpOr(c.TTLms, m.settings.DefaultTTLms); badTTL(ttl) {
			return nil, ErrInvalidRequest
		}
		reason := m.evaluate(c.Amount)
		return ReserveReply{Allowed: reason == Allowed, Reason: reason, Figures: m.figures()}, OK
	case Settle:
		return m.settle(c)
	case Release:
		return m.release(c)
	case Extend:
		return m.extend(c, now)
	case Debit:
		return m.debit(c)
	case Grant:
		return m.grant(c, now)
	case Revoke:
		return m.revoke(c)
	case Configure:
		return m.configure(c)
	case Balance:
		return m.balance(), OK
	}
	panic("model: unknown command")
}

func cmpOr(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

func (m *model) overdraftLimit() int64 {
	if !m.settings.PercentSet {
		return m.settings.OverdraftLimit
	}
	base := new(big.Int)
	for _, g := range m.grants {
		if g.state == mActive {
			base.Add(base, big.NewInt(g.amount))
		}
	}
	base.Mul(base, big.NewInt(m.settings.OverdraftPercent))
	base.Div(base, big.NewInt(100))
	if !base.IsInt64() {
		return math.MaxInt64 // no balance can be below −MaxInt64
	}
	return base.Int64()
}

func (m *model) evaluate(amount int64) Reason {
	f := m.figures()
	switch {
	case m.settings.Suspended:
		return ReasonWalletSuspended
	case m.settings.Mode == Optimistic && f.Balance > -m.overdraftLimit():
		return Allowed
	case m.settings.Mode == Strict && m.debt == 0 && f.Available >= amount:
		return Allowed
	}
	return ReasonInsufficientCredits
}

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
		if a.eff != b.eff {
			return int(sign(a.eff - b.eff))
		}
		return strings.Compare(a.id, b.id)
	})
	for _, g := range pending {
		r.Grants = append(r.Grants, m.view(g))
	}
	for _, g := range m.sorted(func(g *mGrant) bool { return (g.state == mExpired || g.state == mRevoked) && g.remaining > 0 }) {
		r.Grants = append(r.Grants, m.view(g))
	}
	return r
}

// modelReply normalizes a reply for comparison with the model's.
func modelReply(r Reply) Reply {
	r = normReply(r)
	if b, ok := r.(BalanceReply); ok {
		for i := range b.Grants {
			if len(b.Grants[i].Meta) == 0 {
				b.Grants[i].Meta = nil
			}
		}
		if b.Grants == nil {
			b.Grants = []GrantView{}
		}
		return b
	}
	if _, ok := r.(TickReply); ok {
		return nil
	}
	return r
}

func TestWalletMatchesModel(t *testing.T) {
	outcomes := map[string]int{}
	defer func() { t.Logf("outcomes: %v", outcomes) }()
	rapid.Check(t, func(rt *rapid.T) {
		limits := genLimits(rt)
		w, m := NewWallet("w1", limits), newModel(limits)
		g := &genState{now: genStart}
		var evs []Event
		var sent []Command
		for i := 0; i < stepsPerRun; i++ {
			g.advance(rt)
			c := g.command(rt)
			if len(sent) > 0 && uniform(rt, 0, 5, "resend") == 0 {
				c = sent[len(sent)-1-uniform(rt, 0, min(len(sent)-1, 8), "resend of")]
			}
			sent = append(sent, c)
			var reply Reply
			var err *Error
			evs, reply, err = w.Execute(c, g.now, evs[:0])
			want, wantCode := m.exec(c, g.now.UnixNano())
			g.placed(reply)
			gotCode := OK
			if err != nil {
				gotCode = err.Code
			}
			rt.Logf("+%v %#v → %v %+v", g.now.Sub(genStart), c, gotCode, reply)
			outcome := gotCode.String()
			if isDenial(reply) {
				outcome = "denied"
			}
			outcomes[c.Op()+":"+outcome]++
			if gotCode != wantCode {
				rt.Fatalf("%#v: error %v, model says %v (model reply %+v, reply %+v)", c, err, wantCode, want, reply)
			}
			if err == nil && !reflect.DeepEqual(modelReply(reply), modelReply(want)) {
				rt.Fatalf("%#v:\n reply %+v\n model %+v", c, modelReply(reply), modelReply(want))
			}
			if w.Exists() {
				if f := w.Figures(); f != m.figures() || w.debt != m.debt {
					rt.Fatalf("after %#v: figures %+v debt %d, model %+v debt %d", c, f, w.debt, m.figures(), m.debt)
				}
				if w.OpenHolds() != len(m.holds) {
					rt.Fatalf("after %#v: %d holds, model %d", c, w.OpenHolds(), len(m.holds))
				}
			}
		}
	})
}
