package client

import "time"

// Requests and replies of SPEC §8, with the wire's field names. Optional
// request fields are pointers or omitted when zero.

type ReserveRequest struct {
	ID        string            `msgpack:"id"`
	Amount    int64             `msgpack:"amount"`
	TTLms     int64             `msgpack:"ttl_ms,omitempty"`
	OnExpiry  string            `msgpack:"on_expiry,omitempty"` // "release" | "capture"
	Principal string            `msgpack:"principal,omitempty"`
	Feature   string            `msgpack:"feature,omitempty"`
	Meta      map[string]string `msgpack:"meta,omitempty"`
}

type CheckRequest struct {
	Amount    int64  `msgpack:"amount"`
	TTLms     int64  `msgpack:"ttl_ms,omitempty"`
	Principal string `msgpack:"principal,omitempty"`
	Feature   string `msgpack:"feature,omitempty"`
}

type SettleRequest struct {
	ID     string `msgpack:"id"`
	HoldID string `msgpack:"hold_id"`
	Actual int64  `msgpack:"actual"`
	// Partial: a partial capture (final:false) that keeps the hold open.
	Partial bool `msgpack:"-"`
}

type ReleaseRequest struct {
	ID     string `msgpack:"id"`
	HoldID string `msgpack:"hold_id"`
}

type ExtendRequest struct {
	ID     string `msgpack:"id"`
	HoldID string `msgpack:"hold_id"`
	TTLms  int64  `msgpack:"ttl_ms"`
	Amount int64  `msgpack:"amount,omitempty"` // the hold's new total; 0 keeps it
}

type DebitRequest struct {
	ID        string            `msgpack:"id"`
	Amount    int64             `msgpack:"amount"`
	Principal string            `msgpack:"principal,omitempty"`
	Feature   string            `msgpack:"feature,omitempty"`
	Meta      map[string]string `msgpack:"meta,omitempty"`
}

type GrantRequest struct {
	ID          string            `msgpack:"id"`
	Amount      int64             `msgpack:"amount"`
	Kind        string            `msgpack:"kind"`
	Priority    *int64            `msgpack:"priority,omitempty"`
	EffectiveAt *time.Time        `msgpack:"effective_at,omitempty"`
	ExpiresAt   *time.Time        `msgpack:"expires_at,omitempty"`
	Meta        map[string]string `msgpack:"meta,omitempty"`
}

type RevokeRequest struct {
	ID      string `msgpack:"id"`
	GrantID string `msgpack:"grant_id"`
}

type ConfigureRequest struct {
	ID               string `msgpack:"id"`
	Mode             string `msgpack:"mode,omitempty"` // "strict" | "optimistic"
	OverdraftLimit   *int64 `msgpack:"overdraft_limit,omitempty"`
	OverdraftPercent *int64 `msgpack:"overdraft_percent,omitempty"`
	DefaultTTLms     *int64 `msgpack:"default_ttl_ms,omitempty"`
	Suspended        *bool  `msgpack:"suspended,omitempty"`
	// Policies and Features each replace the whole map when non-nil; an
	// empty non-nil map clears it.
	Policies map[string]Policy  `msgpack:"policies,omitempty"`
	Features map[string]Feature `msgpack:"features,omitempty"`
}

// Policy is what applies at a principal path ("*" = the wallet root).
type Policy struct {
	Caps  []Cap  `msgpack:"caps,omitempty" json:"caps,omitempty"`
	Rates []Rate `msgpack:"rates,omitempty" json:"rates,omitempty"`
}

// Cap is a spend cap per UTC calendar window: minute, hour, day or month.
type Cap struct {
	Window string `msgpack:"window" json:"window"`
	Limit  int64  `msgpack:"limit" json:"limit"`
}

// Rate limits requests and/or credits per second, minute, hour or day.
type Rate struct {
	Window   string `msgpack:"window" json:"window"`
	Requests int64  `msgpack:"requests,omitempty" json:"requests,omitempty"`
	Credits  int64  `msgpack:"credits,omitempty" json:"credits,omitempty"`
}

type Feature struct {
	Enabled bool          `msgpack:"enabled" json:"enabled"`
	Limit   *FeatureLimit `msgpack:"limit,omitempty" json:"limit,omitempty"`
}

type FeatureLimit struct {
	Window string `msgpack:"window" json:"window"`
	Amount int64  `msgpack:"amount" json:"amount"`
}

// PolicyUsage is a policy with its usage now (balance).
type PolicyUsage struct {
	Caps  []CapUsage  `msgpack:"caps" json:"caps"`
	Rates []RateUsage `msgpack:"rates" json:"rates"`
}

// CapUsage: Consumed in the current window plus Held (open holds) count
// against Limit (or, for a feature, Amount) until ResetsAt.
type CapUsage struct {
	Window   string    `msgpack:"window" json:"window"`
	Limit    int64     `msgpack:"limit" json:"limit,omitempty"`
	Amount   int64     `msgpack:"amount" json:"amount,omitempty"`
	Consumed int64     `msgpack:"consumed" json:"consumed"`
	Held     int64     `msgpack:"held" json:"held"`
	ResetsAt time.Time `msgpack:"resets_at" json:"resets_at"`
}

// RateUsage: how many requests and credits would pass back to back now.
type RateUsage struct {
	Window            string `msgpack:"window" json:"window"`
	Requests          int64  `msgpack:"requests" json:"requests,omitempty"`
	RequestsAvailable int64  `msgpack:"requests_available" json:"requests_available,omitempty"`
	Credits           int64  `msgpack:"credits" json:"credits,omitempty"`
	CreditsAvailable  int64  `msgpack:"credits_available" json:"credits_available,omitempty"`
}

type FeatureUsage struct {
	Enabled bool      `msgpack:"enabled" json:"enabled"`
	Limit   *CapUsage `msgpack:"limit" json:"limit,omitempty"`
}

type HistoryRequest struct {
	AfterSeq uint64 `msgpack:"after_seq,omitempty"`
	Limit    int    `msgpack:"limit,omitempty"`
}

// Figures are in every reply that changes or reads a wallet.
type Figures struct {
	Balance   int64 `msgpack:"balance" json:"balance"`
	Held      int64 `msgpack:"held" json:"held"`
	Available int64 `msgpack:"available" json:"available"`
}

// DeniedBy names the principal path (a cap or rate) or the feature (a
// feature limit) and the window that refused.
type DeniedBy struct {
	Principal string `msgpack:"principal" json:"principal,omitempty"`
	Feature   string `msgpack:"feature" json:"feature,omitempty"`
	Window    string `msgpack:"window" json:"window"`
}

type Allocation struct {
	Grant  string `msgpack:"grant" json:"grant"`
	Amount int64  `msgpack:"amount" json:"amount"`
}

type ReserveReply struct {
	Allowed      bool      `msgpack:"allowed" json:"allowed"`
	Reason       string    `msgpack:"reason" json:"reason,omitempty"`
	DeniedBy     *DeniedBy `msgpack:"denied_by" json:"denied_by,omitempty"`
	HoldID       string    `msgpack:"hold_id" json:"hold_id,omitempty"`
	ExpiresAt    time.Time `msgpack:"expires_at" json:"expires_at,omitzero"`
	RetryAfterMs int64     `msgpack:"retry_after_ms" json:"retry_after_ms,omitempty"`
	Figures      `msgpack:",inline"`
}

type SettleReply struct {
	Consumed    int64        `msgpack:"consumed" json:"consumed"`
	Released    int64        `msgpack:"released" json:"released"`
	Forfeited   int64        `msgpack:"forfeited" json:"forfeited"`
	Overage     int64        `msgpack:"overage" json:"overage"`
	Debt        int64        `msgpack:"debt" json:"debt"`
	Late        bool         `msgpack:"late" json:"late"`
	Allocations []Allocation `msgpack:"allocations" json:"allocations"`
	Figures     `msgpack:",inline"`
}

type ReleaseReply struct {
	Released  int64 `msgpack:"released" json:"released"`
	Forfeited int64 `msgpack:"forfeited" json:"forfeited"`
	Figures   `msgpack:",inline"`
}

type ExtendReply struct {
	Allowed   bool      `msgpack:"allowed" json:"allowed"`
	Reason    string    `msgpack:"reason" json:"reason,omitempty"`
	DeniedBy  *DeniedBy `msgpack:"denied_by" json:"denied_by,omitempty"`
	ExpiresAt time.Time `msgpack:"expires_at" json:"expires_at,omitzero"`
	Amount    int64     `msgpack:"amount" json:"amount"`
	Figures   `msgpack:",inline"`
}

type DebitReply struct {
	Consumed    int64        `msgpack:"consumed" json:"consumed"`
	Debt        int64        `msgpack:"debt" json:"debt"`
	Allocations []Allocation `msgpack:"allocations" json:"allocations"`
	Figures     `msgpack:",inline"`
}

type Grant struct {
	ID          string            `msgpack:"id" json:"id"`
	Kind        string            `msgpack:"kind" json:"kind"`
	Priority    int64             `msgpack:"priority" json:"priority"`
	Amount      int64             `msgpack:"amount" json:"amount"`
	Remaining   int64             `msgpack:"remaining" json:"remaining"`
	Earmarked   int64             `msgpack:"earmarked" json:"earmarked"`
	EffectiveAt time.Time         `msgpack:"effective_at" json:"effective_at"`
	ExpiresAt   time.Time         `msgpack:"expires_at" json:"expires_at,omitzero"`
	Active      bool              `msgpack:"active" json:"active"`
	Meta        map[string]string `msgpack:"meta" json:"meta,omitempty"`
}

type BalanceReply struct {
	Debt   int64   `msgpack:"debt" json:"debt"`
	Mode   string  `msgpack:"mode" json:"mode"`
	Holds  int     `msgpack:"holds" json:"holds"`
	Grants []Grant `msgpack:"grants" json:"grants"`
	// Policies by principal path and Features by name, with usage now;
	// absent when none are configured.
	Policies map[string]PolicyUsage  `msgpack:"policies" json:"policies,omitempty"`
	Features map[string]FeatureUsage `msgpack:"features" json:"features,omitempty"`
	Figures  `msgpack:",inline"`
}

type GrantReply struct {
	Grant      Grant `msgpack:"grant" json:"grant"`
	DebtRepaid int64 `msgpack:"debt_repaid" json:"debt_repaid"`
	Figures    `msgpack:",inline"`
}

type RevokeReply struct {
	Forfeited int64 `msgpack:"forfeited" json:"forfeited"`
	Figures   `msgpack:",inline"`
}

type ConfigureReply struct {
	Mode             string             `msgpack:"mode" json:"mode"`
	OverdraftLimit   *int64             `msgpack:"overdraft_limit" json:"overdraft_limit,omitempty"`
	OverdraftPercent *int64             `msgpack:"overdraft_percent" json:"overdraft_percent,omitempty"`
	DefaultTTLms     int64              `msgpack:"default_ttl_ms" json:"default_ttl_ms"`
	Suspended        bool               `msgpack:"suspended" json:"suspended"`
	Policies         map[string]Policy  `msgpack:"policies" json:"policies"`
	Features         map[string]Feature `msgpack:"features" json:"features"`
}

type HistoryEntry struct {
	Seq         uint64            `msgpack:"seq" json:"seq"`
	At          time.Time         `msgpack:"at" json:"at"`
	Type        string            `msgpack:"type" json:"type"`
	RequestID   string            `msgpack:"request_id" json:"request_id,omitempty"`
	HoldID      string            `msgpack:"hold_id" json:"hold_id,omitempty"`
	Grant       string            `msgpack:"grant" json:"grant,omitempty"`
	Amount      int64             `msgpack:"amount" json:"amount"`
	Allocations []Allocation      `msgpack:"allocations" json:"allocations,omitempty"`
	Principal   string            `msgpack:"principal" json:"principal,omitempty"`
	Feature     string            `msgpack:"feature" json:"feature,omitempty"`
	Meta        map[string]string `msgpack:"meta" json:"meta,omitempty"`
}

type HistoryReply struct {
	Entries []HistoryEntry `msgpack:"entries" json:"entries"`
	NextSeq uint64         `msgpack:"next_seq" json:"next_seq"`
}
