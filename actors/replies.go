package actors

import "time"

// Reply is the answer to a command that was not refused with an error.
// Denials (allowed:false) are replies too. The set is closed.
type Reply interface{ isReply() }

// Figures are the wallet's headline numbers after (or, for check, before)
// the request: available = balance − held.
type Figures struct {
	Balance   int64
	Held      int64
	Available int64
}

// DeniedBy names the principal path (a cap or rate) or the feature (a
// feature limit) and the window that refused a request.
type DeniedBy struct {
	Principal string
	Feature   string
	Window    string
}

type ReserveReply struct {
	Allowed      bool
	Reason       Reason
	DeniedBy     *DeniedBy
	HoldID       string    // empty in optimistic mode and when denied
	ExpiresAt    time.Time // zero when no hold
	RetryAfterMs int64
	Figures
}

type SettleReply struct {
	Consumed    int64
	Released    int64
	Forfeited   int64
	Overage     int64
	Debt        int64
	Late        bool
	Allocations []Allocation
	Figures
}

type ReleaseReply struct {
	Released  int64
	Forfeited int64
	Figures
}

type ExtendReply struct {
	Allowed   bool
	Reason    Reason
	DeniedBy  *DeniedBy // a cap or feature limit that refused the increase
	ExpiresAt time.Time
	Amount    int64
	Figures
}

type DebitReply struct {
	Consumed    int64
	Debt        int64
	Allocations []Allocation
	Figures
}

// GrantView is a grant as the API shows it.
type GrantView struct {
	ID          string
	Kind        string
	Priority    int64
	Amount      int64
	Remaining   int64
	Earmarked   int64
	EffectiveAt time.Time
	ExpiresAt   time.Time // zero = never
	Active      bool
	Meta        Meta
}

type BalanceReply struct {
	Debt     int64
	Mode     Mode
	Holds    int
	Grants   []GrantView
	Policies []PolicyUsage  // by principal path; none when no policies
	Features []FeatureUsage // by name; none when no features
	Figures
}

type GrantReply struct {
	Grant      GrantView
	DebtRepaid int64
	Figures
}

type RevokeReply struct {
	Forfeited int64
	Figures
}

// ConfigureReply is the wallet's whole policy after the change.
type ConfigureReply struct {
	Mode             Mode
	OverdraftLimit   *int64 // exactly one of these two is set, or neither
	OverdraftPercent *int64
	DefaultTTLms     int64
	Suspended        bool
	Policies         map[string]Policy  // shared with the wallet: read only
	Features         map[string]Feature // shared with the wallet: read only
}

// TickReply answers the runtime's timer: how many events it produced.
type TickReply struct{ Events int }

func (ReserveReply) isReply()   {}
func (SettleReply) isReply()    {}
func (ReleaseReply) isReply()   {}
func (ExtendReply) isReply()    {}
func (DebitReply) isReply()     {}
func (BalanceReply) isReply()   {}
func (GrantReply) isReply()     {}
func (RevokeReply) isReply()    {}
func (ConfigureReply) isReply() {}
func (TickReply) isReply()      {}

// opCode identifies the op an idempotency record answered.
type opCode uint8

const (
	opNone opCode = iota
	opReserve
	opSettle
	opRelease
	opExtend
	opDebit
	opGrant
	opRevoke
	opConfigure
)

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func figures(n []int64) Figures { return Figures{Balance: n[0], Held: n[1], Available: n[2]} }

func putFigures(n []int64, f Figures) { n[0], n[1], n[2] = f.Balance, f.Held, f.Available }

// replay rebuilds the first reply from its compact Answer and the retry
// (whose content equals the original's, so its fields are the original's).
func (a *Answer) replay(cmd Command) Reply {
	n := a.N[:]
	switch c := cmd.(type) {
	case Reserve:
		r := ReserveReply{Allowed: true, Figures: figures(n[1:])}
		if n[0] != 0 {
			r.HoldID, r.ExpiresAt = a.ID, unixTime(n[0])
		}
		return r
	case Settle:
		return SettleReply{Consumed: c.Actual, Released: n[0], Forfeited: n[1], Overage: n[2], Debt: n[3],
			Late: n[4] != 0, Allocations: a.Allocs, Figures: figures(n[5:])}
	case Release:
		return ReleaseReply{Released: n[0], Forfeited: n[1], Figures: figures(n[2:])}
	case Extend:
		return ExtendReply{Allowed: true, ExpiresAt: unixTime(n[0]), Amount: n[1], Figures: figures(n[2:])}
	case Debit:
		return DebitReply{Consumed: c.Amount, Debt: n[0], Allocations: a.Allocs, Figures: figures(n[1:])}
	case Grant:
		return GrantReply{Grant: GrantView{ID: c.ID, Kind: c.Kind, Priority: n[7], Amount: c.Amount,
			Remaining: n[1], EffectiveAt: unixTime(n[0]), ExpiresAt: timeOrZero(c.ExpiresAt),
			Active: n[2] != 0, Meta: c.Meta}, DebtRepaid: n[3], Figures: figures(n[4:])}
	case Revoke:
		return RevokeReply{Forfeited: n[0], Figures: figures(n[1:])}
	case Configure:
		return settingsFromAnswer(n).reply(a.Gov)
	}
	panic("purser: no answer replay for " + cmd.Op())
}

func timeOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func (s Settings) answer() (n [8]int64) {
	n[0], n[1], n[2], n[3] = int64(s.Mode), s.OverdraftLimit, s.OverdraftPercent, s.DefaultTTLms
	if s.PercentSet {
		n[4] = 1
	}
	if s.Suspended {
		n[5] = 1
	}
	return n
}

func settingsFromAnswer(n []int64) Settings {
	return Settings{Mode: Mode(n[0]), OverdraftLimit: n[1], OverdraftPercent: n[2], DefaultTTLms: n[3],
		PercentSet: n[4] != 0, Suspended: n[5] != 0}
}

func (s Settings) reply(gov *Governance) ConfigureReply {
	r := ConfigureReply{Mode: s.Mode, DefaultTTLms: s.DefaultTTLms, Suspended: s.Suspended}
	if gov != nil {
		r.Policies, r.Features = gov.Policies, gov.Features
	}
	switch {
	case s.PercentSet:
		p := s.OverdraftPercent
		r.OverdraftPercent = &p
	case s.OverdraftLimit != 0:
		l := s.OverdraftLimit
		r.OverdraftLimit = &l
	}
	return r
}
