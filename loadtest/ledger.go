package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/purser-dev/purser/transport/client"
)

// Discrepancy is one thing the audit found wrong, on one wallet.
type Discrepancy struct {
	Wallet   string `json:"wallet"`
	What     string `json:"what"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
}

func (d Discrepancy) String() string {
	return fmt.Sprintf("wallet %s: %s: expected %s, got %s", d.Wallet, d.What, d.Expected, d.Got)
}

// hold is the ledger's view of an open hold. Only the goroutine that
// placed it touches it afterwards, so its fields need the wallet's lock
// only because the audit reads them at the end.
type hold struct {
	amount  int64     // what is left of the hold after partial captures
	expires time.Time // the reply's expires_at (server clock)
	orphan  bool      // never settled: the runtime must reap it
	capture bool      // on_expiry "capture": reaping consumes amount
}

// wallet is the load tester's own book of one wallet: only what replies
// acknowledged goes in. Many workers share a wallet (a 50-wide burst is
// 50 goroutines on one), hence the lock.
type wallet struct {
	name string

	mu       sync.Mutex
	granted  int64             // Σ amount of acknowledged grants
	consumed int64             // Σ consumed of acknowledged settles and debits
	holds    map[string]*hold  // open holds by hold id, orphans included
	acked    map[string]string // request id → the history type it must appear as once
	grants   int               // grant ids issued, for unique ids

	topping atomic.Bool // one top-up grant in flight at a time
}

func newWallet(name string) *wallet {
	return &wallet{name: name, holds: map[string]*hold{}, acked: map[string]string{}}
}

// ack books one acknowledged mutating request under w.mu.
func (w *wallet) ackLocked(id, historyType string) { w.acked[id] = historyType }

// ledger is every wallet's book, the discrepancies found while replies
// came in, and the requests whose outcome is still unknown.
type ledger struct {
	wallets []*wallet
	byName  map[string]*wallet

	mu         sync.Mutex
	found      []Discrepancy
	unresolved []pending
}

// pending is a request that got no answer (timeout, disconnect): it may or
// may not have been applied. retry re-sends it with the same id and body
// and books the reply as if it were the first; it returns a non-nil error
// while the outcome is still unknown.
type pending struct {
	wallet string
	op     string
	id     string
	retry  func(ctx context.Context) error
}

func newLedger(names []string) *ledger {
	l := &ledger{byName: make(map[string]*wallet, len(names))}
	for _, n := range names {
		w := newWallet(n)
		l.wallets = append(l.wallets, w)
		l.byName[n] = w
	}
	return l
}

// wrong records a discrepancy found in a reply or by the final audit.
func (l *ledger) wrong(wallet, what string, expected, got any) {
	l.mu.Lock()
	l.found = append(l.found, Discrepancy{Wallet: wallet, What: what,
		Expected: fmt.Sprint(expected), Got: fmt.Sprint(got)})
	l.mu.Unlock()
}

func (l *ledger) unknown(p pending) {
	l.mu.Lock()
	l.unresolved = append(l.unresolved, p)
	l.mu.Unlock()
}

// The book-keeping below is the independent auditor of each reply
// (TigerBeetle's Auditor): it knows what the reply must say from the
// request and the ledger alone, and records every difference. Grants never
// expire and are never revoked in these workloads, so no credit is ever
// forfeited and the expectations are exact.

// reserved books a reserve reply. In strict mode an allowed reserve must
// leave available >= 0 (zero overdraft) and held <= balance; a denial for
// credits must mean available < amount (debt > 0 implies available < 0,
// since free credits never sit beside debt).
func (l *ledger) reserved(w *wallet, req client.ReserveRequest, rep client.ReserveReply, orphan bool) {
	if !rep.Allowed {
		if rep.Reason == "insufficient_credits" && rep.Available >= req.Amount {
			l.wrong(w.name, "reserve "+req.ID+" denied with available >= amount", fmt.Sprintf("available < %d", req.Amount), rep.Available)
		}
		return
	}
	if rep.Available < 0 {
		l.wrong(w.name, "strict reserve "+req.ID+" overdrew available", ">= 0", rep.Available)
	}
	if rep.Held > rep.Balance {
		l.wrong(w.name, "held after reserve "+req.ID, fmt.Sprintf("<= balance %d", rep.Balance), rep.Held)
	}
	if rep.HoldID != req.ID {
		l.wrong(w.name, "hold_id of reserve "+req.ID, req.ID, rep.HoldID)
	}
	w.mu.Lock()
	w.holds[req.ID] = &hold{amount: req.Amount, expires: rep.ExpiresAt, orphan: orphan, capture: req.OnExpiry == "capture"}
	w.ackLocked(req.ID, "held")
	w.mu.Unlock()
}

// settled books a settle reply: consumed is actual, overage is what went
// past the hold, and a final settle (or one reaching the hold) closes it.
func (l *ledger) settled(w *wallet, req client.SettleRequest, rep client.SettleReply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.holds[req.HoldID]
	w.consumed += rep.Consumed
	w.ackLocked(req.ID, "settled")
	if rep.Consumed != req.Actual {
		l.wrong(w.name, "consumed of settle "+req.ID, req.Actual, rep.Consumed)
	}
	if h == nil {
		l.wrong(w.name, "settle "+req.ID+" of a hold the ledger does not hold open", "an open hold", req.HoldID)
		return
	}
	if !rep.Late {
		if want := max(0, req.Actual-h.amount); rep.Overage != want {
			l.wrong(w.name, "overage of settle "+req.ID, want, rep.Overage)
		}
		if final := !req.Partial || req.Actual >= h.amount; final && rep.Released != max(0, h.amount-req.Actual) {
			l.wrong(w.name, "released of settle "+req.ID, max(0, h.amount-req.Actual), rep.Released)
		}
	}
	if req.Partial && req.Actual < h.amount && !rep.Late {
		h.amount -= req.Actual
		return
	}
	delete(w.holds, req.HoldID)
}

func (l *ledger) released(w *wallet, req client.ReleaseRequest, rep client.ReleaseReply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ackLocked(req.ID, "released")
	h := w.holds[req.HoldID]
	switch {
	case h == nil:
		l.wrong(w.name, "release "+req.ID+" of a hold the ledger does not hold open", "an open hold", req.HoldID)
	case rep.Released != h.amount:
		l.wrong(w.name, "released of release "+req.ID, h.amount, rep.Released)
	}
	delete(w.holds, req.HoldID)
}

// extended books an extend: an allowed one sets the hold's new total; a
// denied one changes nothing and leaves its id unused.
func (l *ledger) extended(w *wallet, req client.ExtendRequest, rep client.ExtendReply) {
	if !rep.Allowed {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ackLocked(req.ID, "held")
	if req.Amount != 0 && rep.Amount != req.Amount {
		l.wrong(w.name, "amount of extend "+req.ID, req.Amount, rep.Amount)
	}
	h := w.holds[req.HoldID]
	if h == nil {
		l.wrong(w.name, "extend "+req.ID+" of a hold the ledger does not hold open", "an open hold", req.HoldID)
		return
	}
	h.amount, h.expires = rep.Amount, rep.ExpiresAt
}

func (l *ledger) debited(w *wallet, req client.DebitRequest, rep client.DebitReply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.consumed += rep.Consumed
	w.ackLocked(req.ID, "debited")
	if rep.Consumed != req.Amount {
		l.wrong(w.name, "consumed of debit "+req.ID, req.Amount, rep.Consumed)
	}
}

func (l *ledger) granted(w *wallet, req client.GrantRequest, rep client.GrantReply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.granted += req.Amount
	w.ackLocked(req.ID, "granted")
	if rep.Grant.Amount != req.Amount {
		l.wrong(w.name, "amount of grant "+req.ID, req.Amount, rep.Grant.Amount)
	}
}

// checked verifies a check reply: it holds nothing, so an allowed check
// must have seen at least amount available.
func (l *ledger) checked(w *wallet, amount int64, rep client.ReserveReply) {
	if rep.Allowed && rep.Available < amount {
		l.wrong(w.name, "check allowed with available < amount", fmt.Sprintf(">= %d", amount), rep.Available)
	}
	if !rep.Allowed && rep.Reason == "insufficient_credits" && rep.Available >= amount {
		l.wrong(w.name, "check denied with available >= amount", fmt.Sprintf("< %d", amount), rep.Available)
	}
}

// nextGrantID names a wallet's next grant: unique within the run.
func (w *wallet) nextGrantID(run string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.grants++
	return fmt.Sprintf("%s-g%d", run, w.grants)
}
