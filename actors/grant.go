package actors

import (
	"slices"
	"strings"
)

type grantState uint8

const (
	grantPending grantState = iota // effective_at in the future
	grantActive
	grantExpired
	grantRevoked
)

// grant is a live grant: remaining > 0, or spent but active and expiring
// (kept until its expiry, because an active grant's original amount counts
// toward an overdraft percent). Other spent grants are dropped from the
// wallet; their history stays in the journal.
//
// remaining includes earmarked: free = remaining − earmarked. Only an active
// grant's free part counts as the wallet's free credits; an expired or
// revoked grant keeps only earmarks, which still pay for their holds.
type grant struct {
	id          string
	kind        string
	priority    int64
	amount      int64 // as granted
	remaining   int64
	earmarked   int64
	effectiveAt int64 // unix ns
	expiresAt   int64 // unix ns; 0 = never
	state       grantState
	meta        Meta
	timer       int  // index in Wallet.grantTimers, -1 when none
	inOrder     bool // in Wallet.order: active with remaining > 0
}

func (g *grant) free() int64 { return g.remaining - g.earmarked }

// dueAt is when the grant's next time-driven change happens, 0 for never.
func (g *grant) dueAt() int64 {
	switch g.state {
	case grantPending:
		return g.effectiveAt
	case grantActive:
		return g.expiresAt
	}
	return 0
}

// DefaultPriority is a kind's priority when a grant sets none (SPEC §2).
func DefaultPriority(kind string) int64 {
	switch kind {
	case "promotional":
		return 10
	case "paid":
		return 90
	}
	return 50
}

// compareBurn is the total burn-down order of SPEC §2: priority, then
// expiring before non-expiring (earliest first), then earliest effective_at,
// then id in byte order.
func compareBurn(a, b *grant) int {
	if a.priority != b.priority {
		if a.priority < b.priority {
			return -1
		}
		return 1
	}
	if a.expiresAt != b.expiresAt {
		switch {
		case a.expiresAt == 0:
			return 1
		case b.expiresAt == 0:
			return -1
		case a.expiresAt < b.expiresAt:
			return -1
		}
		return 1
	}
	if a.effectiveAt != b.effectiveAt {
		if a.effectiveAt < b.effectiveAt {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// burnOrder is the active grants sorted by burn-down order. Grants are few
// (bounded by Limits.MaxGrants, typically under ten), so a sorted slice with
// binary-search insertion beats any tree.
type burnOrder []*grant

func (o *burnOrder) insert(g *grant) {
	i, _ := slices.BinarySearchFunc(*o, g, compareBurn)
	*o = slices.Insert(*o, i, g)
	g.inOrder = true
}

func (o *burnOrder) remove(g *grant) {
	i, found := slices.BinarySearchFunc(*o, g, compareBurn)
	if !found || (*o)[i] != g {
		panic("purser: grant missing from burn-down order: " + g.id)
	}
	*o = slices.Delete(*o, i, i+1)
	g.inOrder = false
}
