package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/purser-dev/purser/transport/client"
)

// AuditReport is what the audit checked and what it found.
type AuditReport struct {
	Passed        bool          `json:"passed"`
	Wallets       int           `json:"wallets"`
	Acknowledged  int           `json:"acknowledged_requests"`
	HistoryRows   int           `json:"history_entries"`
	Orphans       int           `json:"orphans"`
	Retried       int           `json:"unanswered_retried"`
	Discrepancies int           `json:"discrepancies"`
	First         []Discrepancy `json:"first,omitempty"` // at most maxListed
	Seconds       float64       `json:"seconds"`         // retries, clean-up, reaping and audit
}

const (
	maxListed     = 20
	auditReaders  = 8 // the node's default bound on concurrent history reads
	retryAttempts = 10
)

// finish brings the run to a state the audit can judge — every request
// answered, every hold the load tester still holds released, every orphan
// past its ttl — then audits each wallet.
func (r *run) finish() *AuditReport {
	ctx, began := r.ctx, time.Now()
	rep := &AuditReport{Wallets: len(r.led.wallets)}
	defer func() { rep.Seconds = time.Since(began).Seconds() }()
	rep.Retried = r.resolve(ctx)
	r.cleanUp()
	rep.Orphans = r.awaitReaping(ctx)
	if r.cfg.BeforeAudit != nil {
		names := make([]string, len(r.led.wallets))
		for i, wl := range r.led.wallets {
			names[i] = wl.name
		}
		r.cfg.BeforeAudit(ctx, names)
	}
	c := client.New(r.conns[0], client.WithPrefix(r.cfg.Prefix), client.WithTimeout(r.cfg.Timeout),
		client.WithRetries(20, 20*time.Millisecond)) // history answers overloaded past 8 readers
	var wg sync.WaitGroup
	var mu sync.Mutex
	work := make(chan *wallet)
	for range auditReaders {
		wg.Go(func() {
			for wl := range work {
				rows, acked := r.auditWallet(ctx, c, wl)
				mu.Lock()
				rep.HistoryRows += rows
				rep.Acknowledged += acked
				mu.Unlock()
			}
		})
	}
	for _, wl := range r.led.wallets {
		work <- wl
	}
	close(work)
	wg.Wait()
	r.led.mu.Lock()
	rep.Discrepancies = len(r.led.found)
	rep.First = r.led.found[:min(maxListed, len(r.led.found))]
	r.led.mu.Unlock()
	rep.Passed = rep.Discrepancies == 0
	return rep
}

// resolve re-sends every unanswered request with its id and body until
// the node answers, so each one is known applied or not before the audit.
func (r *run) resolve(ctx context.Context) int {
	r.led.mu.Lock()
	todo := r.led.unresolved
	r.led.unresolved = nil
	r.led.mu.Unlock()
	for _, p := range todo {
		err := errors.New("not tried")
		var ce *client.Error
		for attempt := 0; attempt < retryAttempts && ctx.Err() == nil; attempt++ {
			err = p.retry(ctx)
			if err == nil || errors.As(err, &ce) && !expectedUnderLoad(ce.Code) {
				break // answered: booked, or refused (applied nothing)
			}
		}
		switch {
		case err == nil:
		case errors.As(err, &ce) && !expectedUnderLoad(ce.Code):
			// As in worker.done: a correct node never sends this code.
			r.led.wrong(p.wallet, p.op+" "+p.id+" refused on retry", "a reply", ce.Code+": "+ce.Message)
		default: // no reply, or still overloaded: the outcome is unknown
			r.led.wrong(p.wallet, p.op+" "+p.id+" never answered", "a reply to a retry with the same id", err)
		}
	}
	return len(todo)
}

// cleanUp releases the holds the load tester still holds open (a unit cut
// short by an unanswered request): they are not orphans, and the audit
// expects nothing held but what it knows of.
func (r *run) cleanUp() {
	w := r.worker(1<<63, newRecorder())
	for _, wl := range r.led.wallets {
		wl.mu.Lock()
		var open []string
		for id, h := range wl.holds {
			if !h.orphan {
				open = append(open, id)
			}
		}
		wl.mu.Unlock()
		for _, id := range open {
			w.release(wl, id, time.Now())
		}
	}
	r.resolve(r.ctx)
}

// awaitReaping waits until every orphan's ttl has passed by ReapGrace, or
// until each wallet with orphans reports no open hold, whichever is first;
// it returns how many orphans there are. The audit then checks each one.
func (r *run) awaitReaping(ctx context.Context) int {
	var last time.Time
	orphans := 0
	var watch []*wallet
	for _, wl := range r.led.wallets {
		wl.mu.Lock()
		n := 0
		for _, h := range wl.holds {
			if h.orphan {
				n++
				if h.expires.After(last) {
					last = h.expires
				}
			}
		}
		wl.mu.Unlock()
		if n > 0 {
			orphans += n
			watch = append(watch, wl)
		}
	}
	deadline := last.Add(r.cfg.ReapGrace)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for len(watch) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		var still []*wallet
		for _, wl := range watch {
			b, err := r.clients[0].Balance(ctx, wl.name)
			if err != nil || b.Holds > 0 {
				still = append(still, wl)
			}
		}
		watch = still
		if len(watch) > 0 {
			select {
			case <-poll.C:
			case <-ctx.Done():
			}
		}
	}
	return orphans
}

// history reads a wallet's whole history, page by page.
func history(ctx context.Context, c *client.Client, wallet string) ([]client.HistoryEntry, error) {
	var all []client.HistoryEntry
	var after uint64
	for {
		page, err := c.History(ctx, wallet, client.HistoryRequest{AfterSeq: after, Limit: 1000})
		if err != nil {
			return all, err
		}
		all = append(all, page.Entries...)
		if page.NextSeq == 0 {
			return all, nil
		}
		after = page.NextSeq
	}
}

// auditWallet compares one wallet's balance and history with the ledger
// (the equations are in the package doc). It returns the history rows
// read and the acknowledged requests checked.
func (r *run) auditWallet(ctx context.Context, c *client.Client, wl *wallet) (int, int) {
	wrong := func(what string, expected, got any) { r.led.wrong(wl.name, what, expected, got) }
	bal, err := c.Balance(ctx, wl.name)
	if err != nil {
		wrong("balance", "a reply", err)
		return 0, 0
	}
	entries, err := history(ctx, c, wl.name)
	if err != nil {
		wrong("history", "every page", err)
		return len(entries), 0
	}
	wl.mu.Lock()
	defer wl.mu.Unlock()

	var granted, consumed, forfeited int64
	applied := map[string]int{}    // request id → entries of the type it must appear as
	expired := map[string]int{}    // hold id → hold_expired entries
	captured := map[string]int64{} // hold id → consumed by capture on expiry
	for _, e := range entries {
		switch e.Type {
		case "granted":
			granted += e.Amount
		case "settled", "debited":
			consumed += e.Amount
		case "grant_expired", "revoked":
			forfeited += e.Amount
		case "hold_expired":
			expired[e.HoldID]++
			if h := wl.holds[e.HoldID]; h == nil || !h.orphan {
				wrong("hold_expired of hold "+e.HoldID+", which was not an orphan", "no expiry", "expired")
			}
		}
		if e.Type == "settled" && e.RequestID == "" {
			captured[e.HoldID] += e.Amount
		}
		if e.RequestID == "" {
			continue
		}
		want, ok := wl.acked[e.RequestID]
		switch {
		case !ok:
			wrong(fmt.Sprintf("history seq %d (%s %d) has a request id the load tester never had acknowledged",
				e.Seq, e.Type, e.Amount), "no such entry", e.RequestID)
		case want == e.Type:
			applied[e.RequestID]++
		}
	}
	for id, typ := range wl.acked {
		if n := applied[id]; n != 1 {
			wrong("history entries of acknowledged request "+id, "1 "+typ, n)
		}
	}

	// Orphans: each reaped exactly once; a captured one consumed what was
	// left of its hold, which the ledger counts as consumption.
	var capture, held int64
	var open int
	for id, h := range wl.holds {
		switch {
		case !h.orphan:
			held += h.amount
			open++
		case expired[id] != 1:
			wrong("hold_expired entries of orphan "+id+" (expired "+h.expires.Format(time.RFC3339Nano)+")", 1, expired[id])
		case h.capture:
			capture += h.amount
			if captured[id] != h.amount {
				wrong("capture on expiry of orphan "+id, h.amount, captured[id])
			}
		}
	}

	// F is 0 here (package doc): a forfeiture the workload never caused is
	// money the node took, not a term that balances the equation.
	want := wl.granted - wl.consumed - capture
	wantDebt := max(0, held-want)
	var remaining int64
	for _, g := range bal.Grants {
		remaining += g.Remaining
	}
	check := func(what string, expected, got int64) {
		if expected != got {
			wrong(what, expected, got)
		}
	}
	check("balance (grants − acknowledged consumption − captured orphans)", want, bal.Balance)
	check("Σ grant_expired + revoked in history (no grant expires or is revoked)", 0, forfeited)
	check("held (open holds of the ledger)", held, bal.Held)
	check("debt (max(0, held − balance))", wantDebt, bal.Debt)
	check("available (balance − held)", bal.Balance-bal.Held, bal.Available)
	check("Σ remaining of grants (balance + debt)", bal.Balance+bal.Debt, remaining)
	check("open holds", int64(open), int64(bal.Holds))
	check("Σ granted in history", wl.granted, granted)
	check("Σ settled + debited in history", wl.consumed+capture, consumed)
	return len(entries), len(wl.acked)
}
