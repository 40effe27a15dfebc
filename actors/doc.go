// Package actors decides, for each wallet, whether credits may be spent —
// as a pure state machine wrapped in one goroutine per wallet.
//
// # The wallet: a pure state machine
//
// A Wallet is changed only by Apply(event). Decide(command, at) computes
// the events a command causes and its reply without changing anything;
// Execute stamps the command's time (never before the last event's),
// applies the time-driven changes due by then (hold and grant expiries,
// grant activations, via the same Decide/Apply pair), decides the command
// and applies its events. Nothing here reads a clock or does I/O, so
// replaying a wallet's journal on an empty wallet rebuilds exactly the same
// state, and a test can drive a wallet through years in microseconds.
//
// Outcomes a user can cause are values: error Codes (codes.go, the wire
// contract's list) and denial Reasons. Operating failures are Go errors
// (the journal's). A panic is a broken invariant — a bug — and the runtime
// contains it to one batch of one wallet.
//
// # The runtime: one actor per wallet
//
// System maps wallet ids to actors. An actor starts on the first request
// for its wallet, rebuilding the wallet from its Journal; it owns the
// wallet alone, so requests are decided one after another without locks:
// that is what makes zero overdraft and a deterministic burn-down hold
// when fifty requests arrive in the same tick.
//
// The loop (actor.go): take up to MaxBatch requests from the bounded
// mailbox; decide each against the state the previous ones left; append
// all their events to the journal as ONE fenced append and wait for it;
// then reply. Events MUST be acknowledged by the journal BEFORE replies are
// sent. If the append fails nothing is acknowledged: every request of the
// batch is answered unavailable and the wallet is rebuilt from the journal.
// If the journal says another writer appended first (ErrFenced), the actor
// answers not_owner and stops. An actor has at most one append in flight;
// while it waits, its mailbox fills and the next batch grows, which is how
// a 50-wide burst becomes one journal write.
//
// Each actor keeps one timer at its wallet's earliest due time (plus
// Config.TickDelay, so that requests can carry what falls due) and feeds
// itself a Tick, so expiries are journaled events like any other. Idle
// actors with no open hold leave memory (passivation); a grant change due
// later is left to the node's wake-up list (wakeup.go). Every queue and
// table is bounded (Config, Limits): a full mailbox or too many live
// wallets is answered overloaded at once, never by growing.
package actors
