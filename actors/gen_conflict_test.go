package actors

// Requests that reuse an accepted request's id with other content, for the
// property test's idempotency conflicts (SPEC §6: "the same id with another
// op or different content is idempotency_conflict"). Every field stays
// valid on its own, so that no field's refusal can come first, whatever
// order a wallet checks fields in; what the hold or grant a request names
// allows is looked at only after its id (docs/semantics.md, Idempotency).
// No change is one the wire could not tell apart (nil and empty meta, an
// absent principal and "*").

import (
	"maps"
	"math"
	"slices"
	"time"

	"pgregory.net/rapid"
)

// conflicting is c's id on another op, or c with one field changed.
func (g *genState) conflicting(t *rapid.T, c Command) Command {
	if uniform(t, 0, 3, "other op") == 0 {
		return g.otherOp(t, c.Op(), RequestID(c))
	}
	return g.changed(t, c)
}

// otherOp is a valid request of an op other than op, under id.
func (g *genState) otherOp(t *rapid.T, op, id string) Command {
	ops := []string{"reserve", "settle", "release", "extend", "debit", "grant", "revoke", "configure"}
	ops = slices.DeleteFunc(ops, func(o string) bool { return o == op })
	hold, _ := g.hold(t)
	switch sampled(t, ops, "other op name") {
	case "reserve":
		return Reserve{ID: id, Amount: scaled(uniform64(t, 1, 60, "amount"), g.scale)}
	case "settle":
		return Settle{ID: id, HoldID: hold, Actual: scaled(uniform64(t, 0, 80, "actual"), g.scale), Final: true}
	case "release":
		return Release{ID: id, HoldID: hold}
	case "extend":
		return Extend{ID: id, HoldID: hold, TTLms: uniform64(t, 1, 120, "ttl") * 1000}
	case "debit":
		return Debit{ID: id, Amount: scaled(uniform64(t, 1, 40, "amount"), g.scale)}
	case "grant":
		return Grant{ID: id, Amount: scaled(uniform64(t, 1, 200, "amount"), g.scale), Kind: "paid"}
	case "revoke":
		return Revoke{ID: id, GrantID: g.revokeID(t)}
	}
	b := uniform(t, 0, 1, "suspended") == 0
	return Configure{ID: id, Suspended: &b}
}

// changed is c with one of its fields changed (c was accepted, so valid).
func (g *genState) changed(t *rapid.T, c Command) Command {
	switch c := c.(type) {
	case Reserve:
		switch uniform(t, 0, 5, "field") {
		case 0:
			c.Amount = otherAmount(c.Amount)
		case 1:
			c.TTLms = otherTTL(c.TTLms)
		case 2:
			c.OnExpiry ^= 1
		case 3:
			c.Principal = otherPrincipal(t, c.Principal)
		case 4:
			c.Feature = otherOf(t, genFeatures, c.Feature)
		default:
			c.Meta = otherMeta(c.Meta)
		}
		return c
	case Settle:
		switch uniform(t, 0, 2, "field") {
		case 0:
			c.Actual = otherAmount(c.Actual)
		case 1:
			c.Final = !c.Final
		default:
			c.HoldID = g.otherHold(t, c.HoldID)
		}
		return c
	case Release:
		c.HoldID = g.otherHold(t, c.HoldID)
		return c
	case Extend:
		switch uniform(t, 0, 2, "field") {
		case 0:
			c.HoldID = g.otherHold(t, c.HoldID)
		case 1:
			c.TTLms = otherTTL(c.TTLms)
		default:
			c.Amount = otherAmount(c.Amount) // 0 (keep the amount) becomes 1
		}
		return c
	case Debit:
		switch uniform(t, 0, 3, "field") {
		case 0:
			c.Amount = otherAmount(c.Amount)
		case 1:
			c.Principal = otherPrincipal(t, c.Principal)
		case 2:
			c.Feature = otherOf(t, genFeatures, c.Feature)
		default:
			c.Meta = otherMeta(c.Meta)
		}
		return c
	case Grant:
		return g.changedGrant(t, c)
	case Revoke:
		ids := append(slices.Clone(g.granted), "g0", "g1", "g2")
		c.GrantID = otherOf(t, ids, c.GrantID)
		return c
	case Configure:
		return g.changedConfigure(t, c)
	}
	panic("changed: a command without an id")
}

func (g *genState) changedGrant(t *rapid.T, c Grant) Grant {
	switch uniform(t, 0, 5, "field") {
	case 0:
		c.Amount = otherAmount(c.Amount)
	case 1:
		c.Kind = otherOf(t, []string{"promotional", "paid", "included"}, c.Kind)
	case 2:
		// Not to the kind's default from none: the same priority, given.
		p := DefaultPriority(c.Kind) + 1
		if c.Priority != nil {
			p = otherAmount(*c.Priority)
		}
		c.Priority = &p
	case 3:
		if c.EffectiveAt.IsZero() {
			c.EffectiveAt = g.now.Add(-time.Hour)
		} else {
			c.EffectiveAt = c.EffectiveAt.Add(-time.Second)
		}
	case 4:
		if c.ExpiresAt.IsZero() {
			c.ExpiresAt = g.now.Add(time.Hour)
		} else {
			c.ExpiresAt = time.Time{}
		}
	default:
		c.Meta = otherMeta(c.Meta)
	}
	return g.validGrant(c)
}

// validGrant is c, without its expires_at if that has passed since: such
// a grant is invalid_request, which a wallet may answer before it looks at
// the id.
func (g *genState) validGrant(c Grant) Grant {
	if !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(g.now) {
		c.ExpiresAt = time.Time{}
	}
	return c
}

func (g *genState) changedConfigure(t *rapid.T, c Configure) Configure {
	switch uniform(t, 0, 5, "field") {
	case 0:
		m := Strict
		if c.Mode != nil && *c.Mode == Strict {
			m = Optimistic
		}
		c.Mode = &m
	case 1:
		b := c.Suspended != nil && !*c.Suspended
		c.Suspended = &b
	case 2:
		ttl := int64(60_000)
		if c.DefaultTTLms != nil {
			ttl = otherTTL(*c.DefaultTTLms)
		}
		c.DefaultTTLms = &ttl
	case 3:
		switch {
		case c.OverdraftPercent != nil:
			p := otherAmount(*c.OverdraftPercent)
			c.OverdraftPercent = &p
		case c.OverdraftLimit != nil:
			l := otherAmount(*c.OverdraftLimit)
			c.OverdraftLimit = &l
		default:
			l := scaled(5, g.scale)
			c.OverdraftLimit = &l
		}
	case 4:
		c.Policies = maps.Clone(c.Policies)
		if c.Policies == nil {
			c.Policies = map[string]Policy{}
		}
		c.Policies["t:9"] = Policy{Caps: []Cap{{Window: WindowHour, Limit: scaled(100, g.scale)}}}
	default:
		c.Features = maps.Clone(c.Features)
		if c.Features == nil {
			c.Features = map[string]Feature{}
		}
		c.Features["audio"] = Feature{Enabled: true}
	}
	return c
}

// otherAmount differs from x by one and keeps its sign (0 becomes 1).
func otherAmount(x int64) int64 {
	if x == math.MaxInt64 {
		return x - 1
	}
	return x + 1
}

// otherTTL is another valid ttl_ms (0, the default, becomes 30 s).
func otherTTL(ms int64) int64 {
	switch {
	case ms == 0:
		return 30_000
	case ms+1000 <= MaxTTL.Milliseconds():
		return ms + 1000
	}
	return ms - 1000
}

func otherOf(t *rapid.T, xs []string, cur string) string {
	xs = slices.DeleteFunc(slices.Clone(xs), func(x string) bool { return x == cur })
	return sampled(t, xs, "other value")
}

// otherPrincipal avoids "" for "*" and back: both name the wallet's root.
func otherPrincipal(t *rapid.T, cur string) string {
	xs := slices.DeleteFunc(slices.Clone(genPrincipals), func(p string) bool {
		return p == cur || (p == "" || p == "*") && (cur == "" || cur == "*")
	})
	return sampled(t, xs, "other principal")
}

func otherMeta(m Meta) Meta {
	out := maps.Clone(m)
	if out == nil {
		out = Meta{}
	}
	if out["conflict"] == "1" {
		out["conflict"] = "2"
	} else {
		out["conflict"] = "1"
	}
	return out
}

func (g *genState) otherHold(t *rapid.T, cur string) string {
	if id, _ := g.hold(t); id != cur {
		return id
	}
	return cur + "x"
}
