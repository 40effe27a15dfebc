package actors

import (
	"fmt"
	"time"
)

// Limits bounds everything a wallet holds in memory. Every field has a
// documented default (docs/semantics.md); hitting one is limit_exceeded and
// changes nothing. The eviction bound of remembered ids is part of the
// replayed state: replay with the same Limits to get the same wallet.
type Limits struct {
	MaxOpenHolds     int           // open holds per wallet; default 1,000,000
	MaxGrants        int           // live grants (remaining > 0, or spent but active and expiring); default 10,000
	MaxRememberedIDs int           // idempotency ids kept, oldest forgotten first; default 100,000
	IDRetention      time.Duration // how long an id is remembered; default 24h
	MaxMetaEntries   int           // keys in a meta map; default 16
	MaxMetaKey       int           // bytes in a meta key; default 64
	MaxMetaValue     int           // bytes in a meta value; default 512
	MaxPolicies      int           // principal paths with a policy; default 1,000
	MaxFeatures      int           // configured features; default 1,000
}

// Fixed by the wire contract (SPEC §3, §6, §8), not settings.
const (
	MaxIDLength  = 128
	MaxTTL       = 24 * time.Hour
	DefaultTTL   = 60 * time.Second
	MaxKindBytes = 32
)

// DefaultLimits are generous enough for real traffic (SPEC §8).
func DefaultLimits() Limits {
	return Limits{
		MaxOpenHolds:     1_000_000,
		MaxGrants:        10_000,
		MaxRememberedIDs: 100_000,
		IDRetention:      24 * time.Hour,
		MaxMetaEntries:   16,
		MaxMetaKey:       64,
		MaxMetaValue:     512,
		MaxPolicies:      1_000,
		MaxFeatures:      1_000,
	}
}

// Validate reports the first setting out of range.
func (l Limits) Validate() error {
	switch {
	case l.MaxOpenHolds < 1:
		return fmt.Errorf("MaxOpenHolds must be >= 1, got %d", l.MaxOpenHolds)
	case l.MaxGrants < 1:
		return fmt.Errorf("MaxGrants must be >= 1, got %d", l.MaxGrants)
	case l.MaxRememberedIDs < 1:
		return fmt.Errorf("MaxRememberedIDs must be >= 1, got %d", l.MaxRememberedIDs)
	case l.IDRetention < time.Minute:
		return fmt.Errorf("IDRetention must be >= 1m, got %s", l.IDRetention)
	case l.MaxMetaEntries < 0 || l.MaxMetaKey < 1 || l.MaxMetaValue < 0:
		return fmt.Errorf("meta bounds must be non-negative")
	case l.MaxPolicies < 0 || l.MaxFeatures < 0:
		return fmt.Errorf("MaxPolicies and MaxFeatures must be non-negative")
	}
	return nil
}
