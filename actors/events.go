package actors

// Event is a fact about a wallet. Events are the only way a wallet's state
// changes (Wallet.Apply); replaying a wallet's events on an empty wallet
// gives exactly the same state. The set is closed to this package.
//
// Events carry every figure they imply (allocations, forfeits, debt): Apply
// never recomputes a decision, it only books it, and panics if the booking
// breaks an invariant (that is a bug in Decide, never user input).
type Event interface {
	isEvent()
	head() Head
}

// Head is common to every event. Seq is the event's number in the wallet's
// history (1, 2, 3, …), or 0 for an event that history doesn't show
// (a grant becoming active, an optimistic authorization). At is the time the
// command that caused it was stamped with, in unix nanoseconds.
type Head struct {
	Seq uint64 `msgpack:"s,omitempty"`
	At  int64  `msgpack:"t"`
}

func (h Head) head() Head { return h }

// Allocation names the grant that paid (or earmarked, or lost) an amount.
type Allocation struct {
	Grant  string `msgpack:"g"`
	Amount int64  `msgpack:"a"`
}

// Answer is the compact record of a reply kept for idempotent retries. The
// figures that a retry can recompute from its own (identical) content are
// not stored. N's meaning depends on Op (see replies.go).
type Answer struct {
	ID     string       `msgpack:"i"`
	Op     opCode       `msgpack:"o"`
	Hash   uint64       `msgpack:"h"`
	N      [8]int64     `msgpack:"n"`
	Allocs []Allocation `msgpack:"a,omitempty"`
	// Gov is the governance a configure's reply showed. Apply sets it on
	// the id record from the Configured event (never journaled twice).
	Gov *Governance `msgpack:"gv,omitempty"`
	// Attr is whom a lapsed hold's usage counts for: Apply sets it on the
	// reserve's record when the hold expires and is released, from the
	// hold, if it had a principal or a feature. Its late settle then
	// counts at those levels, as any settle does (SPEC §5). Never
	// journaled: the Settled event carries what it attributes.
	Attr *Attribution `msgpack:"-"`
}

// Attribution is the principal path and feature usage counts for.
type Attribution struct {
	Principal string
	Feature   string
}

// GrantCreated: history "granted". Active at once when EffectiveAt <= At.
type GrantCreated struct {
	Head
	Grant       string `msgpack:"g"`
	Kind        string `msgpack:"k"`
	Priority    int64  `msgpack:"p"`
	Amount      int64  `msgpack:"m"`
	EffectiveAt int64  `msgpack:"e"`
	ExpiresAt   int64  `msgpack:"x,omitempty"`
	Meta        Meta   `msgpack:"md,omitempty"`
	Answer      Answer `msgpack:"r"`
}

// GrantActivated: a pending grant reached its effective_at. Not in history.
type GrantActivated struct {
	Head
	Grant string `msgpack:"g"`
}

// DebtRepaid: free credits paid off debt. History "debt_repaid".
type DebtRepaid struct {
	Head
	Allocations []Allocation `msgpack:"a"`
}

// HoldPlaced: a strict reserve earmarked credits. History "held".
type HoldPlaced struct {
	Head
	Hold      string       `msgpack:"h"`
	Amount    int64        `msgpack:"m"`
	ExpiresAt int64        `msgpack:"x"`
	OnExpiry  OnExpiry     `msgpack:"oe,omitempty"`
	Principal string       `msgpack:"pr,omitempty"`
	Feature   string       `msgpack:"f,omitempty"`
	Meta      Meta         `msgpack:"md,omitempty"`
	Earmarks  []Allocation `msgpack:"a"`
	Answer    Answer       `msgpack:"r"`

	// Decide allocates the event and its earmarks in one piece (the hot
	// path's allocation budget). Apply copies what the hold keeps into the
	// wallet's holdSlab, so an open hold does not keep its event alive.
	buf [2]Allocation
}

// Authorized: an optimistic reserve was allowed (no hold). Not in history.
type Authorized struct {
	Head
	Amount    int64  `msgpack:"m"`
	Principal string `msgpack:"pr,omitempty"`
	Feature   string `msgpack:"f,omitempty"`
	Answer    Answer `msgpack:"r"`
}

// HoldExtended: an extend moved the expiry and perhaps raised the hold by
// the sum of Earmarks. History "held" (amount = the increase).
type HoldExtended struct {
	Head
	Hold      string       `msgpack:"h"`
	ExpiresAt int64        `msgpack:"x"`
	Earmarks  []Allocation `msgpack:"a,omitempty"`
	Answer    Answer       `msgpack:"r"`
}

// Settled: usage recorded against a hold. History "settled".
//
// FromHold is consumed from the hold's earmarks, FromFree from free credits
// (over-settle or late settle), DebtAdded is what no credit paid. Returned
// are earmarks given back (they close with the hold); for active grants they
// become free, for expired or revoked ones a following GrantExpired/Revoked
// event forfeits them. Closes ends the hold. Late: the hold had expired and
// was released before this settle. A capture on expiry is a Settled with an
// empty Answer.
type Settled struct {
	Head
	Hold      string       `msgpack:"h"`
	FromHold  []Allocation `msgpack:"fh,omitempty"`
	FromFree  []Allocation `msgpack:"ff,omitempty"`
	DebtAdded int64        `msgpack:"d,omitempty"`
	Returned  []Allocation `msgpack:"rt,omitempty"`
	Closes    bool         `msgpack:"c,omitempty"`
	Late      bool         `msgpack:"l,omitempty"`
	// Principal and Feature, on a late settle only, are its lapsed hold's
	// (Answer.Attr): the hold is gone, and a late settle journaled before
	// they were (2026-11-27) counts at the root alone, as it did then.
	Principal string `msgpack:"pr,omitempty"`
	Feature   string `msgpack:"f,omitempty"`
	Answer    Answer `msgpack:"r"`

	buf [6]Allocation // backing for the three lists, allocated with the event
}

// Released: a hold voided by request. History "released".
type Released struct {
	Head
	Hold     string       `msgpack:"h"`
	Returned []Allocation `msgpack:"rt,omitempty"`
	Answer   Answer       `msgpack:"r"`

	buf [2]Allocation // backing for Returned, allocated with the event
}

// HoldExpired: the runtime closed a hold at its expiry. History
// "hold_expired". With Capture the hold stays open for the Settled event
// that follows and consumes it; otherwise its earmarks are Returned.
type HoldExpired struct {
	Head
	Hold     string       `msgpack:"h"`
	Capture  bool         `msgpack:"c,omitempty"`
	Returned []Allocation `msgpack:"rt,omitempty"`

	buf [2]Allocation // backing for Returned, allocated with the event
}

// Debited: usage without a hold. History "debited".
type Debited struct {
	Head
	Amount    int64        `msgpack:"m"`
	FromFree  []Allocation `msgpack:"ff,omitempty"`
	DebtAdded int64        `msgpack:"d,omitempty"`
	Principal string       `msgpack:"pr,omitempty"`
	Feature   string       `msgpack:"f,omitempty"`
	Meta      Meta         `msgpack:"md,omitempty"`
	Answer    Answer       `msgpack:"r"`
}

// GrantExpired: history "grant_expired". With Closes the grant itself
// expired and Amount is its free part, forfeited; without, Amount is an
// earmark of the expired grant that its hold returned, forfeited now.
type GrantExpired struct {
	Head
	Grant  string `msgpack:"g"`
	Amount int64  `msgpack:"m"`
	Closes bool   `msgpack:"c,omitempty"`
}

// Revoked: history "revoked"; like GrantExpired, for a revoke. Only the
// event with Closes carries the revoke request's Answer.
type Revoked struct {
	Head
	Grant  string `msgpack:"g"`
	Amount int64  `msgpack:"m"`
	Closes bool   `msgpack:"c,omitempty"`
	Answer Answer `msgpack:"r"`
}

// Configured: settings replaced. History "configured". Settings and
// Governance are the whole configuration after the change (nil Governance:
// no policies and no features).
type Configured struct {
	Head
	Settings   Settings    `msgpack:"st"`
	Governance *Governance `msgpack:"gv,omitempty"`
	Answer     Answer      `msgpack:"r"`
	// RescaleRates: a rate whose window stays keeps its usage, in units,
	// under its new limit (gcra.rescale). Configures journaled before it
	// existed kept the bucket's time backlog instead, and replay keeps
	// deciding them so.
	RescaleRates bool `msgpack:"rs,omitempty"`
}

// Settings are a wallet's policy settings (the reply of configure).
type Settings struct {
	Mode             Mode  `msgpack:"mo"`
	OverdraftLimit   int64 `msgpack:"ol"`
	OverdraftPercent int64 `msgpack:"op"`
	PercentSet       bool  `msgpack:"ps,omitempty"` // the limit is a percent
	DefaultTTLms     int64 `msgpack:"tt"`
	Suspended        bool  `msgpack:"su,omitempty"`
}

func (*GrantCreated) isEvent()   {}
func (*GrantActivated) isEvent() {}
func (*DebtRepaid) isEvent()     {}
func (*HoldPlaced) isEvent()     {}
func (*Authorized) isEvent()     {}
func (*HoldExtended) isEvent()   {}
func (*Settled) isEvent()        {}
func (*Released) isEvent()       {}
func (*HoldExpired) isEvent()    {}
func (*Debited) isEvent()        {}
func (*GrantExpired) isEvent()   {}
func (*Revoked) isEvent()        {}
func (*Configured) isEvent()     {}

func sumAllocations(a []Allocation) int64 {
	var s int64
	for _, x := range a {
		s = mustAdd(s, x.Amount)
	}
	return s
}

// EventSeq is an event's history seq (0: not shown in history).
func EventSeq(e Event) uint64 { return e.head().Seq }
