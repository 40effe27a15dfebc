package actors

// Random command sequences for the property and model tests. Ids come from
// small pools so that retries, conflicts and settles of real holds are
// common; amounts are small so that credits run out, and rarely huge so
// that overflow paths run too. In some runs every amount is scaled up
// (genState.scale), so that the wallet's sums live next to int64's end.
// Time only moves forward and a sequence spans well under a day (the 24 h
// retention has its own scenarios).

import (
	"fmt"
	"math"
	"slices"
	"time"

	"pgregory.net/rapid"
)

// stepsPerRun × rapid's default 100 checks gives 10,000 steps per test.
const stepsPerRun = 100

var genStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type genState struct {
	now time.Time
	// open are the wallet's open holds with their amounts, followed from
	// its events (observe); placed is every hold it placed, closed ones
	// too, for settles, releases and extends to name.
	open   []genHold
	placed []string
	// granted is every grant id the wallet took, for revokes to name.
	granted []string
	// gov adds principals, features and governance configuration to the
	// commands (the model test leaves governance out of its scope).
	gov bool
	// scale multiplies every amount drawn (credits, usage, limits and
	// caps alike, so their proportions stay: credits still run out, debt
	// still happens). It is 1 in most runs; in the others a few grants
	// fill int64, and totals, debt, window counts and an overdraft
	// percent's base reach its end. An odd scale keeps amounts off powers
	// of two, where percent rounding would always be exact.
	scale int64
}

func newGen(t *rapid.T, gov bool) *genState {
	g := &genState{now: genStart, gov: gov, scale: 1}
	if uniform(t, 0, 3, "large amounts") == 0 {
		g.scale = sampled(t, []int64{1 << 55, 1<<55 - 1, 1<<53 + 1}, "scale")
	}
	return g
}

// scaled is x·scale, saturated at MaxInt64 (a cap that big is no cap).
func scaled(x, scale int64) int64 {
	if x > math.MaxInt64/scale {
		return math.MaxInt64
	}
	return x * scale
}

// genPrincipals are nested paths, so that policies on prefixes apply to
// several of them.
var genPrincipals = []string{"", "*", "t:0", "t:1", "t:0/u:0", "t:0/u:1", "t:1/u:0", "t:0/u:0/a:0", "t:0/u:0/a:1", "t:0/u:1/a:0"}

var genFeatures = []string{"", "chat", "img", "video"}

func (g *genState) principal(t *rapid.T) (string, string) {
	if !g.gov {
		return "", ""
	}
	return sampled(t, genPrincipals, "principal"), sampled(t, genFeatures, "feature")
}

// genPolicies draws caps and rates on a few levels (windows short enough
// for a sequence of minutes to roll them over).
func genPolicies(t *rapid.T, scale int64) map[string]Policy {
	ps := map[string]Policy{}
	for range uniform(t, 0, 4, "policies") {
		var p Policy
		for _, w := range []Window{WindowMinute, WindowHour, WindowDay} {
			if uniform(t, 0, 2, "has cap") == 0 {
				p.Caps = append(p.Caps, Cap{Window: w, Limit: scaled(uniform64(t, 1, 300, "cap"), scale)})
			}
		}
		for _, w := range []Window{WindowSecond, WindowMinute} {
			if uniform(t, 0, 3, "has rate") == 0 {
				r := Rate{Window: w, Requests: uniform64(t, 0, 6, "requests"), Credits: scaled(uniform64(t, 0, 200, "credits"), scale)}
				if r.Requests == 0 && r.Credits == 0 {
					r.Requests = 1
				}
				p.Rates = append(p.Rates, r)
			}
		}
		if rare(t, "bad cap") {
			p.Caps = append(p.Caps, Cap{Window: WindowSecond, Limit: 1})
		}
		ps[sampled(t, genPrincipals[1:], "policy path")] = p
	}
	return ps
}

func genFeatureSet(t *rapid.T, scale int64) map[string]Feature {
	fs := map[string]Feature{}
	for _, name := range genFeatures[1:] {
		switch uniform(t, 0, 3, "feature") {
		case 1:
			fs[name] = Feature{Enabled: true}
		case 2:
			fs[name] = Feature{Enabled: true, Limit: &FeatureLimit{Window: WindowMinute, Amount: scaled(uniform64(t, 1, 200, "flimit"), scale)}}
		case 3:
			fs[name] = Feature{}
		}
	}
	return fs
}

func (g *genState) reqID(t *rapid.T) string {
	return fmt.Sprintf("i%d", uniform(t, 0, 199, "id"))
}

// grantID is mostly from the grants' own pool, sometimes from the other
// requests': all ops share one key space (SPEC §6), and a grant's id stays
// taken while the grant lives, after its request is forgotten.
func (g *genState) grantID(t *rapid.T) string {
	if uniform(t, 0, 3, "grant id from requests") == 0 {
		return g.reqID(t)
	}
	return fmt.Sprintf("g%d", uniform(t, 0, 11, "gid"))
}

func (g *genState) revokeID(t *rapid.T) string {
	if len(g.granted) > 0 && uniform(t, 0, 1, "revoke a grant made") == 0 {
		return g.granted[len(g.granted)-1-uniform(t, 0, min(len(g.granted)-1, 7), "revoked")]
	}
	return fmt.Sprintf("g%d", uniform(t, 0, 12, "rgid"))
}

type genHold struct {
	id     string
	amount int64
}

// hold names the hold a settle, release or extend acts on: an open one
// most of the time (zero overdraft's edges are only there), else a recent
// one that may be closed, rarely any id. amount is the hold's if it is
// open, else -1.
func (g *genState) hold(t *rapid.T) (string, int64) {
	if len(g.open) > 0 && uniform(t, 0, 3, "open hold") > 0 {
		h := g.open[uniform(t, 0, len(g.open)-1, "which open hold")]
		return h.id, h.amount
	}
	id := g.reqID(t)
	if len(g.placed) > 0 && !rare(t, "unknown hold") {
		id = g.placed[len(g.placed)-1-uniform(t, 0, min(len(g.placed)-1, 5), "hold")]
	}
	if i := g.openHold(id); i >= 0 {
		return id, g.open[i].amount
	}
	return id, -1
}

func (g *genState) openHold(id string) int {
	return slices.IndexFunc(g.open, func(h genHold) bool { return h.id == id })
}

// observe follows the holds through the wallet's events.
func (g *genState) observe(evs []Event) {
	grow := func(id string, by int64) {
		if i := g.openHold(id); i >= 0 {
			g.open[i].amount += by
		}
	}
	closed := func(id string) {
		if i := g.openHold(id); i >= 0 {
			g.open = slices.Delete(g.open, i, i+1)
		}
	}
	for _, e := range evs {
		switch e := e.(type) {
		case *HoldPlaced:
			g.open = append(g.open, genHold{e.Hold, e.Amount})
			g.placed = append(g.placed, e.Hold)
		case *GrantCreated:
			g.granted = append(g.granted, e.Grant)
		case *HoldExtended:
			grow(e.Hold, sumAllocations(e.Earmarks))
		case *Settled:
			if e.Closes {
				closed(e.Hold)
			} else {
				grow(e.Hold, -sumAllocations(e.FromHold))
			}
		case *Released:
			closed(e.Hold)
		case *HoldExpired:
			closed(e.Hold)
		}
	}
}

// addSat is a + b, saturated at int64's ends.
func addSat(a, b int64) int64 {
	if s, ok := addOK(a, b); ok {
		return s
	}
	if b > 0 {
		return math.MaxInt64
	}
	return math.MinInt64
}

// uniform draws from [lo, hi] without rapid's strong bias toward small
// values (which would make the first op of a list most of a sequence): the
// draw is mixed by a multiplicative hash, and 0, where shrinking goes, still
// maps to lo.
func uniform(t *rapid.T, lo, hi int, label string) int {
	return int(uniform64(t, int64(lo), int64(hi), label))
}

func uniform64(t *rapid.T, lo, hi int64, label string) int64 {
	x := rapid.Uint64().Draw(t, label) * 0x9E3779B97F4A7C15
	x ^= x >> 31
	return lo + int64(x%uint64(hi-lo+1))
}

func sampled[T any](t *rapid.T, xs []T, label string) T { return xs[uniform(t, 0, len(xs)-1, label)] }

// rare is true one time in twenty: for invalid fields and edge values
// (rapid favours small draws, so those are not left to ranges).
func rare(t *rapid.T, label string) bool { return uniform(t, 0, 19, label) == 0 }

// amount draws a request's amount: up to hi (scaled), or rarely an edge
// value, which the scale leaves alone.
func (g *genState) amount(t *rapid.T, hi int64, label string) int64 {
	if rare(t, label+" edge") {
		return sampled(t, []int64{0, -1, math.MaxInt64, math.MaxInt64 - 1}, label+" edge value")
	}
	return scaled(uniform64(t, 1, hi, label), g.scale)
}

func genLimits(t *rapid.T) Limits {
	l := DefaultLimits()
	if uniform(t, 0, 2, "small limits") == 0 {
		l.MaxOpenHolds = uniform(t, 1, 6, "max holds")
		l.MaxGrants = uniform(t, 1, 6, "max grants")
		l.MaxRememberedIDs = uniform(t, 1, 12, "max ids")
	}
	return l
}

// advance moves the clock by a random step (often zero).
func (g *genState) advance(t *rapid.T) {
	secs := sampled(t, []int64{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 5, 10, 20, 30, 60, 61, 300}, "advance")
	g.now = g.now.Add(time.Duration(secs) * time.Second)
}

// command draws the next command; f is the wallet's figures it will be
// decided on (with what is due applied), for amounts at available's edge.
func (g *genState) command(t *rapid.T, f Figures) Command {
	op := uniform(t, 0, 99, "op")
	if op >= 35 && op < 72 && len(g.open) == 0 && uniform(t, 0, 1, "reserve instead") == 0 {
		// A settle, release or extend with no hold open: a reserve half
		// the time instead, or holds are open only a fifth of the time
		// (they expire, close, or are denied), and zero overdraft's
		// edges at an open hold are seldom reached.
		op = 10
	}
	switch {
	case op < 10:
		c := Grant{ID: g.grantID(t),
			Amount: g.amount(t, 200, "gamount"),
			Kind:   sampled(t, []string{"promotional", "paid", "included"}, "kind")}
		if rare(t, "bad kind") {
			c.Kind = "Bad"
		}
		if uniform(t, 0, 3, "has priority") == 0 {
			p := uniform64(t, 0, 100, "priority")
			if uniform(t, 0, 3, "extreme priority") == 0 {
				// The ends of int64, where a comparison by subtraction
				// wraps.
				p = sampled(t, []int64{math.MinInt64, -1, math.MaxInt64}, "extreme priority value")
			}
			c.Priority = &p
		}
		if uniform(t, 0, 3, "pending") == 0 {
			c.EffectiveAt = g.now.Add(time.Duration(uniform(t, -60, 120, "effective")) * time.Second)
		}
		if uniform(t, 0, 1, "expiring") == 1 {
			c.ExpiresAt = g.now.Add(time.Duration(uniform(t, 1, 300, "expires")) * time.Second)
			if rare(t, "expired") {
				c.ExpiresAt = g.now
			}
		}
		return c
	case op < 35:
		c := Reserve{ID: g.reqID(t), Amount: g.amount(t, 60, "ramount")}
		if f.Available > 0 && uniform(t, 0, 3, "ramount at available") == 0 {
			// Zero overdraft's edge: all of available, or one more.
			c.Amount = addSat(f.Available, int64(uniform(t, 0, 1, "past available")))
		}
		switch {
		case rare(t, "bad ttl"):
			c.TTLms = sampled(t, []int64{-1, MaxTTL.Milliseconds() + 1}, "bad ttl value")
		case uniform(t, 0, 1, "own ttl") == 1:
			c.TTLms = uniform64(t, 1, 180, "ttl") * 1000
			if uniform(t, 0, 1, "long ttl") == 1 {
				// The clock moves ~25 s a step: a hold that outlives a few
				// steps is there for settles and extends to find.
				c.TTLms *= 20
			}
		}
		if uniform(t, 0, 3, "capture") == 0 {
			c.OnExpiry = ExpireCapture
		}
		c.Principal, c.Feature = g.principal(t)
		return c
	case op < 55:
		hold, amount := g.hold(t)
		c := Settle{ID: g.reqID(t), HoldID: hold, Actual: scaled(uniform64(t, 0, 80, "actual"), g.scale),
			Final: uniform(t, 0, 3, "final") > 0}
		if amount > 0 && uniform(t, 0, 2, "actual at edge") == 0 {
			// The hold's amount, and where free credits run out and debt
			// begins.
			past := addSat(amount, f.Available)
			c.Actual = max(0, sampled(t, []int64{amount - 1, amount, amount + 1, past, addSat(past, 1)}, "actual edge"))
		}
		if rare(t, "bad actual") {
			c.Actual = -1
		}
		return c
	case op < 62:
		hold, _ := g.hold(t)
		return Release{ID: g.reqID(t), HoldID: hold}
	case op < 72:
		hold, amount := g.hold(t)
		c := Extend{ID: g.reqID(t), HoldID: hold, TTLms: uniform64(t, 1, 120, "ettl") * 1000}
		if rare(t, "bad ettl") {
			c.TTLms = sampled(t, []int64{0, -1, MaxTTL.Milliseconds() + 1}, "bad ettl value")
		}
		if uniform(t, 0, 1, "eamount") == 1 {
			c.Amount = scaled(uniform64(t, 1, 100, "extend amount"), g.scale)
			if amount > 0 && uniform(t, 0, 2, "eamount at available") > 0 {
				// A new total that raises the hold by all of available, one
				// less, or one more.
				c.Amount = max(0, addSat(addSat(amount, f.Available), int64(uniform(t, -1, 1, "past available"))))
			}
			if rare(t, "bad eamount") {
				c.Amount = -1
			}
		}
		return c
	case op < 82:
		c := Debit{ID: g.reqID(t), Amount: g.amount(t, 40, "damount")}
		c.Principal, c.Feature = g.principal(t)
		return c
	case op < 85:
		return Revoke{ID: g.reqID(t), GrantID: g.revokeID(t)}
	case op < 90:
		c := Configure{ID: g.reqID(t)}
		if uniform(t, 0, 1, "set mode") == 1 {
			// Strict mostly: holds live only there.
			m := Mode(b2i(uniform(t, 0, 3, "mode") == 3))
			if rare(t, "bad mode") {
				m = 2
			}
			c.Mode = &m
		}
		switch uniform(t, 0, 3, "overdraft") {
		case 1:
			n := scaled(uniform64(t, 0, 100, "limit"), g.scale)
			c.OverdraftLimit = &n
		case 2:
			n := uniform64(t, 0, 150, "percent")
			c.OverdraftPercent = &n
		}
		if rare(t, "bad overdraft") {
			n := int64(-1)
			c.OverdraftLimit = &n
		}
		if uniform(t, 0, 4, "set ttl") == 0 {
			n := uniform64(t, 0, 120, "default ttl") * 1000
			c.DefaultTTLms = &n
		}
		if uniform(t, 0, 5, "set suspended") == 0 {
			b := uniform(t, 0, 2, "suspended") == 0
			c.Suspended = &b
		}
		if g.gov && uniform(t, 0, 2, "set policies") == 0 {
			c.Policies = genPolicies(t, g.scale)
		}
		if g.gov && uniform(t, 0, 3, "set features") == 0 {
			c.Features = genFeatureSet(t, g.scale)
		}
		return c
	case op < 95:
		c := Check{Amount: g.amount(t, 60, "camount")}
		if f.Available > 0 && uniform(t, 0, 3, "camount at available") == 0 {
			c.Amount = addSat(f.Available, int64(uniform(t, 0, 1, "past available")))
		}
		c.Principal, c.Feature = g.principal(t)
		return c
	}
	return Balance{}
}
