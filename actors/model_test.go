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
// open): time-driven changes due at once run earliest first; at one instant
// grant expiries, then hold expiries, then activations (the spec's "active
// while now < expires_at" decides what a hold frees at its grant's expiry),
// ids in byte order after that; an id is forgotten only by
// count here (sequences span minutes; retention has scenarios); a grant id
// stays taken while the grant is kept (remaining > 0, or active, expiring
// and spent).

import (
	"cmp"
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

// mBurnCmp is SPEC §2's burn-down order. cmp.Compare, not a subtraction:
// priorities span int64, and MinInt64 − 1 wraps to the wrong sign.
func mBurnCmp(a, b *mGrant) int {
	switch {
	case a.priority != b.priority:
		return cmp.Compare(a.priority, b.priority)
	case a.exp != b.exp && a.exp == 0:
		return 1
	case a.exp != b.exp && b.exp == 0:
		return -1
	case a.exp != b.exp:
		return cmp.Compare(a.exp, b.exp)
	case a.eff != b.eff:
		return cmp.Compare(a.eff, b.eff)
	}
	return strings.Compare(a.id, b.id)
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
			// At one instant expiries come before activations.
			if d <= at && (g == nil || d < gd || d == gd && (x.state != g.state && g.state == mPending || x.state == g.state && x.id < g.id)) {
				g, gd = x, d
			}
		}
		switch {
		case h != nil && (g == nil || h.exp < gd || h.exp == gd && g.state == mPending):
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
		g := newGen(rt, false)
		var evs []Event
		var sent []Command
		for i := 0; i < stepsPerRun; i++ {
			g.advance(rt)
			if uniform(rt, 0, 1, "tick first") == 0 {
				// What is due first, so that the figures amounts are drawn
				// from are those the command is decided on.
				evs, _, _ = w.Execute(Tick{}, g.now, evs[:0])
				m.exec(Tick{}, g.now.UnixNano())
				g.observe(evs)
			}
			c := g.command(rt, w.Figures())
			if len(sent) > 0 && uniform(rt, 0, 5, "resend") == 0 {
				c = sent[len(sent)-1-uniform(rt, 0, min(len(sent)-1, 8), "resend of")]
			}
			sent = append(sent, c)
			var reply Reply
			var err *Error
			evs, reply, err = w.Execute(c, g.now, evs[:0])
			want, wantCode := m.exec(c, g.now.UnixNano())
			g.observe(evs)
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
