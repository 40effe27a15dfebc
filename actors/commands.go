package actors

import "time"

// Command is a request to a wallet. The set is closed: only this package
// defines commands, so a type switch over them can be exhaustive.
//
// Field names follow the wire API (SPEC §8); the transport decodes into these
// types and the core validates them: a command built by hand gets the same
// codes as one off the wire.
type Command interface {
	isCommand()
	// Op is the wire name of the operation ("reserve", "tick", ...).
	Op() string
}

// OnExpiry says what happens to a hold nobody settled before its expiry.
type OnExpiry uint8

const (
	ExpireRelease OnExpiry = iota // the default: give the estimate back
	ExpireCapture                 // consume the full estimate
)

func (o OnExpiry) String() string {
	if o == ExpireCapture {
		return "capture"
	}
	return "release"
}

// Mode is a wallet's enforcement mode.
type Mode uint8

const (
	Strict     Mode = iota // holds earmark credits; never authorizes past available
	Optimistic             // no holds; allowed while balance > −overdraft limit
)

func (m Mode) String() string {
	if m == Optimistic {
		return "optimistic"
	}
	return "strict"
}

// Meta is free-form annotation carried into history. Bounded by Limits.
type Meta map[string]string

// Reserve places a hold of Amount (strict) or asks permission (optimistic).
type Reserve struct {
	ID        string
	Amount    int64
	TTLms     int64 // 0 = the wallet's default TTL
	OnExpiry  OnExpiry
	Principal string
	Feature   string
	Meta      Meta
}

// Check evaluates a Reserve without changing anything.
type Check struct {
	Amount    int64
	TTLms     int64
	OnExpiry  OnExpiry
	Principal string
	Feature   string
	Meta      Meta
}

// Settle records actual usage against a hold.
type Settle struct {
	ID     string
	HoldID string
	Actual int64
	Final  bool // the wire default is true
}

// Release voids a hold.
type Release struct {
	ID     string
	HoldID string
}

// Extend moves a hold's expiry to now+TTLms and, with Amount > 0, raises the
// hold to that new total.
type Extend struct {
	ID     string
	HoldID string
	TTLms  int64
	Amount int64 // 0 = keep the amount
}

// Debit records usage without a hold; it is never denied for lack of credits.
type Debit struct {
	ID        string
	Amount    int64
	Principal string
	Feature   string
	Meta      Meta
}

// Balance reads the wallet.
type Balance struct{}

// Grant adds credits.
type Grant struct {
	ID          string
	Amount      int64
	Kind        string
	Priority    *int64    // nil = the kind's default
	EffectiveAt time.Time // zero = now
	ExpiresAt   time.Time // zero = never
	Meta        Meta
}

// Revoke forfeits what is free of a grant now and the rest as its holds close.
type Revoke struct {
	ID      string
	GrantID string
}

// Configure replaces each setting that is given (non-nil). A given
// Policies replaces the whole policies map, a given Features the whole
// features map; an empty non-nil map clears it.
type Configure struct {
	ID               string
	Mode             *Mode
	OverdraftLimit   *int64
	OverdraftPercent *int64
	DefaultTTLms     *int64
	Suspended        *bool
	Policies         map[string]Policy  // by principal path; "*" = the wallet root
	Features         map[string]Feature // by feature name
}

// Tick applies the time-driven changes due by now: hold expiries, grant
// activations and expiries. The runtime's timer sends it; every other command
// is preceded by it implicitly (see Wallet.Execute).
type Tick struct{}

func (Reserve) isCommand()   {}
func (Check) isCommand()     {}
func (Settle) isCommand()    {}
func (Release) isCommand()   {}
func (Extend) isCommand()    {}
func (Debit) isCommand()     {}
func (Balance) isCommand()   {}
func (Grant) isCommand()     {}
func (Revoke) isCommand()    {}
func (Configure) isCommand() {}
func (Tick) isCommand()      {}

func (Reserve) Op() string   { return "reserve" }
func (Check) Op() string     { return "check" }
func (Settle) Op() string    { return "settle" }
func (Release) Op() string   { return "release" }
func (Extend) Op() string    { return "extend" }
func (Debit) Op() string     { return "debit" }
func (Balance) Op() string   { return "balance" }
func (Grant) Op() string     { return "grant" }
func (Revoke) Op() string    { return "revoke" }
func (Configure) Op() string { return "configure" }
func (Tick) Op() string      { return "tick" }

// RequestID is a command's idempotency key ("" for reads and Tick).
func RequestID(c Command) string {
	id, _, _, _ := idsOf(c)
	return id
}

// Wire names of the ids a command may name besides its own.
const (
	fieldHoldID  = "hold_id"
	fieldGrantID = "grant_id"
)

// idsOf returns the ids a command carries: its request id, and the id of
// the hold or grant it names (field: that id's wire name; "" when it names
// none). ok is false for the commands without ids: check, balance, tick.
func idsOf(c Command) (id, ref, field string, ok bool) {
	switch c := c.(type) {
	case Reserve:
		return c.ID, "", "", true
	case Settle:
		return c.ID, c.HoldID, fieldHoldID, true
	case Release:
		return c.ID, c.HoldID, fieldHoldID, true
	case Extend:
		return c.ID, c.HoldID, fieldHoldID, true
	case Debit:
		return c.ID, "", "", true
	case Grant:
		return c.ID, "", "", true
	case Revoke:
		return c.ID, c.GrantID, fieldGrantID, true
	case Configure:
		return c.ID, "", "", true
	}
	return "", "", "", false
}
