package actors

import (
	"maps"
	"slices"
)

// The governance steps of the decision waterfall (SPEC §5), between wallet
// status and credits: entitlement → rate limits → spend caps. Each step may
// only deny, and a denial changes nothing: the buckets are evaluated on
// copies here and taken only when Apply books the allowed reserve.

// check evaluates a request of amount by principal for feature at time at.
// strict selects the cap rule (consumed + held + amount <= limit; else
// consumed < limit). rates is false for an extend's increase, which is no
// new request and takes no rate.
func (g *govState) check(amount int64, principal, feature string, at int64, strict, rates bool) (Reason, *DeniedBy, int64) {
	if r, by := g.entitled(amount, feature, at, strict); r != Allowed {
		return r, by, 0
	}
	if rates {
		if by, retry := g.rated(amount, principal, at); by != nil {
			return ReasonRateLimited, by, retry
		}
	}
	it := levels(principal)
	for key, ok := it.next(); ok; key, ok = it.next() {
		ls := g.levels[key]
		if ls == nil {
			continue
		}
		for _, c := range ls.policy.Caps { // shortest window first
			if !ls.allows(c.Window, c.Limit, amount, at, strict) {
				return ReasonSpendCapExceeded, &DeniedBy{Principal: key, Window: c.Window.String()}, 0
			}
		}
	}
	return Allowed, nil, 0
}

// entitled is the entitlement step: with features configured, a named
// feature must be listed and enabled, and within its limit.
func (g *govState) entitled(amount int64, feature string, at int64, strict bool) (Reason, *DeniedBy) {
	if feature == "" || len(g.cfg.Features) == 0 {
		return Allowed, nil
	}
	f, ok := g.cfg.Features[feature]
	if !ok || !f.Enabled {
		return ReasonFeatureNotEntitled, nil
	}
	if f.Limit != nil && !g.feats[feature].allows(f.Limit.Window, f.Limit.Amount, amount, at, strict) {
		return ReasonFeatureLimitExceeded, &DeniedBy{Feature: feature, Window: f.Limit.Window.String()}
	}
	return Allowed, nil
}

// rated is the rate step, all or nothing: every bucket along the path is
// tried. The refusal names the refusing level nearest the root and its
// shortest window; retry is the longest wait among the refusing buckets
// (when all of them have refilled the request passes, traffic aside). A
// bucket the request can never pass (credits above its whole limit) asks
// for its whole window, the longest wait it ever asks for: SPEC §5 says
// every refusal carries a wait, and a client pacing its retries by it
// should wait long, not 1 ms.
func (g *govState) rated(amount int64, principal string, at int64) (by *DeniedBy, retry int64) {
	var wait int64
	it := levels(principal)
	for key, ok := it.next(); ok; key, ok = it.next() {
		ls := g.levels[key]
		if ls == nil {
			continue
		}
		for i, r := range ls.policy.Rates {
			b, t := &ls.buckets[i], r.Window.length()
			var okReq, okCred = true, true
			var wReq, wCred int64
			if r.Requests > 0 {
				_, okReq, wReq = b.req.take(1, r.Requests, t, at)
			}
			if r.Credits > 0 {
				_, okCred, wCred = b.cred.take(amount, r.Credits, t, at)
			}
			if okReq && okCred {
				continue
			}
			if by == nil {
				by = &DeniedBy{Principal: key, Window: r.Window.String()}
			}
			if wReq < 0 || wCred < 0 {
				wait = max(wait, t)
			}
			wait = max(wait, wReq, wCred)
		}
	}
	if by == nil {
		return by, 0
	}
	return by, retryMs(wait)
}

// PolicyUsage is one principal level's policy with its usage now (the
// balance view).
type PolicyUsage struct {
	Principal string
	Caps      []CapUsage
	Rates     []RateUsage
}

// CapUsage is a cap and what counts against it in the current window:
// Consumed in the window plus Held (open holds), and when the window ends.
type CapUsage struct {
	Window   Window
	Limit    int64
	Consumed int64
	Held     int64
	ResetsAt int64 // unix ns
}

// RateUsage is a rate and how many requests and credits would pass back to
// back now (0 for a limit not configured).
type RateUsage struct {
	Rate
	RequestsAvailable int64
	CreditsAvailable  int64
}

// FeatureUsage is a feature's entitlement and, with a limit, its usage.
type FeatureUsage struct {
	Feature string
	Enabled bool
	Limit   *CapUsage // Window and Limit are the feature limit's
}

// windowEnd is the start of the window after the one containing at.
func windowEnd(w Window, at int64) int64 {
	if w == WindowMonth {
		return windowStart(WindowMonth, windowStart(WindowMonth, at)+32*dayNs)
	}
	return windowStart(w, at) + w.length()
}

func (u *usage) view(w Window, limit, at int64) CapUsage {
	return CapUsage{Window: w, Limit: limit, Consumed: u.consumedIn(w, at), Held: u.held, ResetsAt: windowEnd(w, at)}
}

// usageView lists the policies (by path) and features (by name) with their
// usage at time at.
func (g *govState) usageView(at int64) ([]PolicyUsage, []FeatureUsage) {
	if g == nil {
		return nil, nil
	}
	var ps []PolicyUsage
	for _, path := range slices.Sorted(maps.Keys(g.cfg.Policies)) {
		p := g.cfg.Policies[path]
		v := PolicyUsage{Principal: path}
		ls := g.levels[path]
		for _, c := range p.Caps {
			v.Caps = append(v.Caps, ls.view(c.Window, c.Limit, at))
		}
		for i, r := range p.Rates {
			ru := RateUsage{Rate: r}
			t := r.Window.length()
			if r.Requests > 0 {
				ru.RequestsAvailable = ls.buckets[i].req.available(r.Requests, t, at)
			}
			if r.Credits > 0 {
				ru.CreditsAvailable = ls.buckets[i].cred.available(r.Credits, t, at)
			}
			v.Rates = append(v.Rates, ru)
		}
		ps = append(ps, v)
	}
	var fs []FeatureUsage
	for _, name := range slices.Sorted(maps.Keys(g.cfg.Features)) {
		f := g.cfg.Features[name]
		v := FeatureUsage{Feature: name, Enabled: f.Enabled}
		if f.Limit != nil {
			u := g.feats[name].view(f.Limit.Window, f.Limit.Amount, at)
			v.Limit = &u
		}
		fs = append(fs, v)
	}
	return ps, fs
}
