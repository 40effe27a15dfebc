package actors

import "sync/atomic"

// counters are the runtime's own figures; the metrics layer reads them
// through System.Stats.
type counters struct {
	activations, passivations      atomic.Uint64
	batches, appends, events       atomic.Uint64
	appendFailures, fenced, panics atomic.Uint64
	overloaded, notFoundCached     atomic.Uint64
	ticksRefused                   atomic.Uint64
}

// Stats is a snapshot of the runtime's counters since start.
type Stats struct {
	Live           int
	Activations    uint64
	Passivations   uint64
	Batches        uint64 // decided batches, read-only ones included
	Appends        uint64 // journal appends acknowledged
	Events         uint64 // events journaled
	AppendFailures uint64
	Fenced         uint64
	Panics         uint64
	Overloaded     uint64 // requests refused: mailbox full or too many wallets
	NotFoundCached uint64 // wallet_not_found answered from the negative cache
	TicksRefused   uint64 // the runtime's own activations (Resume, the wake-up list) refused: no room kept for requests, or a full table or mailbox; retried
}

// Stats returns the runtime's counters.
func (s *System) Stats() Stats {
	c := &s.stats
	return Stats{Live: s.Live(), Activations: c.activations.Load(), Passivations: c.passivations.Load(),
		Batches: c.batches.Load(), Appends: c.appends.Load(), Events: c.events.Load(),
		AppendFailures: c.appendFailures.Load(), Fenced: c.fenced.Load(), Panics: c.panics.Load(),
		Overloaded: c.overloaded.Load(), NotFoundCached: c.notFoundCached.Load(), TicksRefused: c.ticksRefused.Load()}
}
