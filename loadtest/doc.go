// Package loadtest drives a Purser deployment with agent-shaped traffic,
// measures latency honestly, and then proves — to the credit — that
// nothing was overdrawn, lost, leaked or applied twice. It is what
// `purser loadtest` runs.
//
// # Workload
//
// A scenario is a stream of units of work, each seeded (Config.Seed) so a
// run can be repeated: burst (an agent fans Width reserves out at once on
// a shared wallet, waits for all, then settles each with actual = estimate
// × a factor in [0.2, 1.2]), burst-reserve (the same fan-out of reserves
// only, left to expire: the shape of a check-and-decrement), uniform (a
// reserve→settle pair on a random
// wallet), stream (reserve, partial captures, an extend that raises the
// hold, a final settle), orphans (a share of holds with a short ttl is
// never settled; half ask to be captured on expiry), mixed (all of those
// plus release, debit and check), echo (a plain NATS responder: the
// floor every Purser figure is compared with), and journal-echo (a random
// one of Wallets keys, answered by a node started with
// `--bench-journal-echo` once the request is journaled as a wallet's
// append is, fenced on its key's subject and fsynced: the floor of any
// design that journals each request; transport/node/journalecho.go).
// Closed loop runs Clients
// workers back to back; open loop starts Rate units per second whatever
// the node does, and measures each op from the unit's due time, so
// queueing shows in the latency instead of being hidden (coordinated
// omission). A reserve denied for credits makes the worker grant a top-up,
// so wallets run dry, go into debt through over-settles, and are refilled
// (which repays the debt) — every path of SPEC §3 is exercised.
//
// # The ledger and the per-reply auditor
//
// Every reply is checked as it arrives against what the request and the
// ledger say it must be (TigerBeetle's Auditor): consumed = actual,
// overage = max(0, actual − hold), a final settle releases hold − actual,
// an allowed strict reserve leaves available >= 0 and held <= balance, a
// denial for credits had available < amount. Only acknowledged replies
// enter the ledger. A request with no answer (timeout, disconnect) may or
// may not have been applied: it is re-sent with the same id and body after
// the run until the node answers, and booked then. Holds the ledger still
// holds open afterwards are released, so only orphans remain.
//
// # The audit equation
//
// The workloads grant only non-expiring credits and never revoke, so for
// each wallet, once every orphan's ttl has passed by ReapGrace (2 s):
//
//	G = Σ amount of acknowledged grants
//	C = Σ consumed of acknowledged settles (partial or final, late or not)
//	  + Σ consumed of acknowledged debits
//	  + Σ what was left of each orphan hold with on_expiry "capture"
//	F = Σ amount of grant_expired and revoked history entries: 0 here,
//	    and checked to be, so a forfeiture never balances the equation
//	H = Σ amount of the ledger's open holds (0 after clean-up)
//
//	balance = G − C − F                 to the unit
//	held    = H, holds = their count
//	debt    = max(0, H − balance)       free credits never sit beside debt
//	Σ remaining of the listed grants = balance + debt
//	history: Σ granted = G, Σ settled + debited = C
//
// Debt repayments move credits from remaining to debt one for one, so
// they leave balance unchanged and need no term. History must also show
// each acknowledged request id exactly once as the entry its op makes
// (held, settled, released, debited, granted; an extend is a held entry),
// no entry with a request id the load tester did not have acknowledged
// (an outside change to a wallet fails the audit and names it), exactly
// one hold_expired per orphan and none for any other hold, and for a
// capture orphan a settled entry of what was left of it. A failed check is
// a Discrepancy (wallet, what, expected, got); the run's Result lists the
// first ones and `purser loadtest` then exits non-zero.
package loadtest
