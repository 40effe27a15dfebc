package actors

import "strings"

// Governance state: usage counters and rate buckets, kept only for the
// principal levels that have caps or rates and the features that have a
// limit. A principal nobody configured costs nothing, so a wallet's memory
// is bounded by its configuration (Limits.MaxPolicies, MaxFeatures), not by
// how many distinct principals ever spent from it.
//
// Attribution (docs/semantics.md, Governance): a hold's amount is held at
// every level of its principal's path and at its feature while it is open,
// and counts against every current window of their caps; consumption
// (settle, capture, debit, over-settle and its debt) counts in the windows
// containing the time it happened. A late settle (its hold already closed)
// counts at the lapsed hold's principal and feature, which its event carries
// (Settled.Principal, from the reserve's record: Answer.Attr); one journaled
// before events carried them counts at the root only.
//
// Only Apply changes this state, as a function of the events and their
// times, so replay and snapshots rebuild it exactly.

// winCount is usage in one calendar window; a count whose start is not the
// current window's is stale and reads as 0, and the next consumption resets
// it: expired windows cost no memory and are dropped without a timer.
type winCount struct {
	start int64
	n     int64
}

// usage is what caps and feature limits count.
type usage struct {
	held     int64       // Σ open holds attributed here
	consumed [4]winCount // by capIndex, whatever windows are configured now
}

func (u *usage) consumedIn(w Window, at int64) int64 {
	c := u.consumed[capIndex(w)]
	if c.start == windowStart(w, at) {
		return c.n
	}
	return 0
}

// allows applies a cap of limit in window w to a request of amount: strict
// while consumed + held + amount <= limit, optimistic while consumed <
// limit (SPEC §5).
func (u *usage) allows(w Window, limit, amount, at int64, strict bool) bool {
	used := u.consumedIn(w, at)
	if !strict {
		return used < limit
	}
	s, ok := addOK(used, u.held)
	if ok {
		s, ok = addOK(s, amount)
	}
	return ok && s <= limit
}

func (u *usage) consume(starts *[4]int64, amount int64) {
	for i := range u.consumed {
		c := &u.consumed[i]
		if c.start != starts[i] {
			*c = winCount{start: starts[i]}
		}
		c.n = saturatingAdd(c.n, amount)
	}
}

func (u *usage) hold(amount int64) {
	u.held += amount
	if u.held < 0 {
		panic("purser: governance held below zero")
	}
}

// levelState is one principal level with caps or rates.
type levelState struct {
	policy Policy
	usage
	buckets []ratePair // parallel to policy.Rates
}

type ratePair struct{ req, cred gcra }

// govState is a wallet's governance: its configuration and the state it
// drives. nil on a wallet with none, so an ungoverned reserve pays one
// pointer test.
type govState struct {
	cfg    *Governance
	levels map[string]*levelState
	feats  map[string]*usage // features with a limit (the limit is cfg's)
}

// levelIter yields the levels of a principal path, root first: "*", then
// each prefix of whole segments, then the path itself.
type levelIter struct {
	p string
	i int // -1 before the root; past len(p) when done
}

func levels(principal string) levelIter {
	if principal == RootPrincipal {
		principal = ""
	}
	return levelIter{p: principal, i: -1}
}

func (it *levelIter) next() (string, bool) {
	if it.i < 0 {
		it.i = 0
		return RootPrincipal, true
	}
	if it.i >= len(it.p) {
		return "", false
	}
	j := strings.IndexByte(it.p[it.i:], '/')
	if j < 0 {
		it.i = len(it.p)
		return it.p, true
	}
	it.i += j + 1
	return it.p[:it.i-1], true
}

// setGovernance installs a new configuration (Apply of Configured, at at).
// Levels and features that stay governed keep their counters and buckets (a
// rate keeps its bucket when its window stays, rescaled to its new limits
// when rescale is set); new ones start with the open holds attributed to
// them and no consumption.
func (w *Wallet) setGovernance(cfg *Governance, at int64, rescale bool) {
	if cfg.empty() {
		w.gov = nil
		return
	}
	old := w.gov
	if old != nil && old.cfg == cfg {
		return
	}
	g := &govState{cfg: cfg, levels: make(map[string]*levelState), feats: make(map[string]*usage)}
	var fresh map[string]*levelState
	for path, p := range cfg.Policies {
		if len(p.Caps) == 0 && len(p.Rates) == 0 {
			continue
		}
		ls := &levelState{policy: p, buckets: make([]ratePair, len(p.Rates))}
		if o := old.level(path); o != nil {
			ls.usage = o.usage
			for i, r := range p.Rates {
				for j, or := range o.policy.Rates {
					if or.Window == r.Window {
						ls.buckets[i] = o.buckets[j]
						if rescale {
							t := r.Window.length()
							ls.buckets[i].req = ls.buckets[i].req.rescale(or.Requests, r.Requests, t, at)
							ls.buckets[i].cred = ls.buckets[i].cred.rescale(or.Credits, r.Credits, t, at)
						}
					}
				}
			}
		} else {
			if fresh == nil {
				fresh = make(map[string]*levelState)
			}
			fresh[path] = ls
		}
		g.levels[path] = ls
	}
	var freshFeat map[string]*usage
	for name, f := range cfg.Features {
		if f.Limit == nil {
			continue
		}
		fs := new(usage)
		if old != nil && old.feats[name] != nil {
			*fs = *old.feats[name]
		} else {
			if freshFeat == nil {
				freshFeat = make(map[string]*usage)
			}
			freshFeat[name] = fs
		}
		g.feats[name] = fs
	}
	// Attribute open holds to the newly governed levels and features: a
	// scan of the open holds, paid only by a configure that adds some.
	if fresh != nil || freshFeat != nil {
		w.holdSlab.eachOpen(func(hd *hold) {
			it := levels(hd.principal)
			for key, ok := it.next(); ok; key, ok = it.next() {
				if ls := fresh[key]; ls != nil {
					ls.hold(hd.amount)
				}
			}
			if fs := freshFeat[hd.feature]; fs != nil && hd.feature != "" {
				fs.hold(hd.amount)
			}
		})
	}
	w.gov = g
}

func (g *govState) level(path string) *levelState {
	if g == nil {
		return nil
	}
	return g.levels[path]
}

// bookGovernance books an event into the governance state: held amounts,
// consumption and rate buckets. Apply calls it before booking the event
// itself, while the hold the event names is still open.
func (w *Wallet) bookGovernance(ev Event, at int64) {
	g := w.gov
	switch e := ev.(type) {
	case *HoldPlaced:
		g.take(e.Principal, e.Amount, at)
		g.hold(e.Principal, e.Feature, e.Amount)
	case *Authorized:
		g.take(e.Principal, e.Amount, at)
	case *HoldExtended:
		if more := sumAllocations(e.Earmarks); more > 0 {
			hd := w.mustHold(e.Hold)
			g.hold(hd.principal, hd.feature, more)
		}
	case *Settled:
		used := mustAdd(mustAdd(sumAllocations(e.FromHold), sumAllocations(e.FromFree)), e.DebtAdded)
		if e.Late {
			g.consume(e.Principal, e.Feature, used, at)
			return
		}
		hd := w.mustHold(e.Hold)
		g.hold(hd.principal, hd.feature, -(sumAllocations(e.FromHold) + sumAllocations(e.Returned)))
		g.consume(hd.principal, hd.feature, used, at)
	case *Released:
		hd := w.mustHold(e.Hold)
		g.hold(hd.principal, hd.feature, -sumAllocations(e.Returned))
	case *HoldExpired:
		if !e.Capture {
			hd := w.mustHold(e.Hold)
			g.hold(hd.principal, hd.feature, -sumAllocations(e.Returned))
		}
	case *Debited:
		g.consume(e.Principal, e.Feature, e.Amount, at)
	}
}

func (g *govState) hold(principal, feature string, amount int64) {
	if amount == 0 {
		return
	}
	it := levels(principal)
	for key, ok := it.next(); ok; key, ok = it.next() {
		if ls := g.levels[key]; ls != nil {
			ls.hold(amount)
		}
	}
	if fs := g.feats[feature]; fs != nil && feature != "" {
		fs.hold(amount)
	}
}

func (g *govState) consume(principal, feature string, amount, at int64) {
	if amount == 0 {
		return
	}
	var starts [4]int64
	have := false
	it := levels(principal)
	for key, ok := it.next(); ok; key, ok = it.next() {
		if ls := g.levels[key]; ls != nil {
			if !have {
				starts, have = capStarts(at), true
			}
			ls.consume(&starts, amount)
		}
	}
	if fs := g.feats[feature]; fs != nil && feature != "" {
		if !have {
			starts = capStarts(at)
		}
		fs.consume(&starts, amount)
	}
}

// take books an allowed reserve into every rate bucket along its path:
// one request, and amount credits.
func (g *govState) take(principal string, amount, at int64) {
	it := levels(principal)
	for key, ok := it.next(); ok; key, ok = it.next() {
		ls := g.levels[key]
		if ls == nil {
			continue
		}
		for i, r := range ls.policy.Rates {
			b := &ls.buckets[i]
			if r.Requests > 0 {
				b.req = b.req.advance(1, r.Requests, r.Window.length(), at)
			}
			if r.Credits > 0 {
				b.cred = b.cred.advance(amount, r.Credits, r.Window.length(), at)
			}
		}
	}
}

// governance is the wallet's configuration (nil: none).
func (w *Wallet) governance() *Governance {
	if w.gov == nil {
		return nil
	}
	return w.gov.cfg
}
