package loadtest

import "time"

// A unit is one piece of a scenario's work: a closed-loop worker runs
// units back to back; open loop starts one per arrival. slot is the
// worker's index (closed loop) or the arrival's number (open loop); start
// is when the unit was meant to begin, so every op's latency counts any
// queueing before it.
type unit func(w *worker, slot uint64, start time.Time)

// holdTTL is the ttl of holds meant to be settled: long enough that no
// settle in a run ever meets an expired hold.
const holdTTL = 60 * time.Second

func (r *run) unit() unit {
	switch r.cfg.Scenario {
	case "burst":
		return r.burst
	case "burst-reserve":
		return r.burstReserve
	case "uniform":
		return r.uniform
	case "stream":
		return r.stream
	case "orphans":
		return r.orphans
	case "mixed":
		return r.mixed
	case "journal-echo":
		return func(w *worker, _ uint64, start time.Time) {
			w.floorRequest("journal-echo", r.keySubjects[w.rng.IntN(len(r.keySubjects))], start)
		}
	default:
		return func(w *worker, _ uint64, start time.Time) { w.floorRequest("echo", r.echoSubject, start) }
	}
}

// estimate is a hold's estimated cost: 100–1,000 units.
func (w *worker) estimate() int64 { return 100 + w.rng.Int64N(901) }

// actual is what the work really cost: estimate × a factor in [0.2, 1.2],
// so about a fifth of settles go over their hold (overage from free
// credits, or debt when none are left).
func (w *worker) actual(estimate int64) int64 { return estimate * (200 + w.rng.Int64N(1001)) / 1000 }

func (r *run) randomWallet(w *worker) *wallet { return r.led.wallets[w.rng.IntN(len(r.led.wallets))] }

// burst is an agent's tick: Width reserves on the agent's wallet at once,
// wait for all, then settle each allowed one at once. Agent i always uses
// wallet i mod Wallets, so agents share wallets.
func (r *run) burst(w *worker, slot uint64, start time.Time) {
	wl := r.led.wallets[slot%uint64(len(r.led.wallets))]
	r.fanOut(w, wl, r.cfg.Width, start)
}

// burstReserve is an agent's tick of reserves only: Width reserves at once,
// wait for all, repeat — the shape of a check-and-decrement elsewhere.
// Nobody settles: the holds are orphans of OrphanTTL, released at expiry by
// the node (and audited as such), so the wallet's credits come back.
func (r *run) burstReserve(w *worker, slot uint64, start time.Time) {
	wl := r.led.wallets[slot%uint64(len(r.led.wallets))]
	ests := make([]int64, r.cfg.Width)
	ws := make([]*worker, r.cfg.Width)
	for i := range ests {
		ests[i] = w.estimate()
		ws[i] = r.worker(w.rng.Uint64(), w.rec)
	}
	w.fan(len(ests), func(i int) { ws[i].reserve(wl, ests[i], r.cfg.OrphanTTL, "release", true, start) })
}

func (r *run) fanOut(w *worker, wl *wallet, width int, start time.Time) {
	type call struct {
		est, act int64
		hold     string
		ok       bool
		w        *worker
	}
	calls := make([]call, width)
	for i := range calls {
		// Draw everything from the agent's generator before fanning out,
		// so the workload is the seed's, whatever the scheduling.
		calls[i].est = w.estimate()
		calls[i].act = w.actual(calls[i].est)
		calls[i].w = r.worker(w.rng.Uint64(), w.rec)
	}
	w.fan(width, func(i int) {
		c := &calls[i]
		c.hold, c.ok = c.w.reserve(wl, c.est, holdTTL, "", false, start)
	})
	settleAt := time.Now()
	var allowed []int
	for i := range calls {
		if calls[i].ok {
			allowed = append(allowed, i)
		}
	}
	w.fan(len(allowed), func(k int) {
		c := &calls[allowed[k]]
		c.w.settle(wl, c.hold, c.act, false, settleAt)
	})
}

// uniform is one reserve→settle pair on a random wallet.
func (r *run) uniform(w *worker, _ uint64, start time.Time) {
	wl := r.randomWallet(w)
	est := w.estimate()
	if hold, ok := w.reserve(wl, est, holdTTL, "", false, start); ok {
		w.settle(wl, hold, w.actual(est), false, time.Now())
	}
}

// stream is a streamed call: reserve, two to four partial captures, an
// extend that raises the hold by half the estimate, then a final settle.
func (r *run) stream(w *worker, _ uint64, start time.Time) {
	wl := r.randomWallet(w)
	est := w.estimate()
	hold, ok := w.reserve(wl, est, holdTTL, "", false, start)
	if !ok {
		return
	}
	left := est
	for range 2 + w.rng.IntN(3) {
		// A capture below what is left keeps the hold open (final:false).
		part := 1 + w.rng.Int64N(max(1, left/4))
		if !w.settle(wl, hold, part, true, time.Now()) {
			return // an unanswered capture: the retry pass and clean-up finish it
		}
		left -= part
	}
	total := left + est/2
	if !w.extend(wl, hold, holdTTL, total, time.Now()) {
		return
	}
	wl.mu.Lock()
	if h := wl.holds[hold]; h != nil {
		left = h.amount // the extend may have been denied: the ledger knows
	}
	wl.mu.Unlock()
	w.settle(wl, hold, w.actual(left), false, time.Now())
}

// orphans reserves and, for OrphanShare of holds, never comes back: those
// holds have a short ttl and the runtime must reap them. Half the orphans
// ask to be captured on expiry, so reaping consumes their estimate.
func (r *run) orphans(w *worker, _ uint64, start time.Time) {
	wl := r.randomWallet(w)
	est := w.estimate()
	if w.rng.Float64() >= r.cfg.OrphanShare {
		if hold, ok := w.reserve(wl, est, holdTTL, "", false, start); ok {
			w.settle(wl, hold, w.actual(est), false, time.Now())
		}
		return
	}
	onExpiry := "release"
	if w.rng.IntN(2) == 0 {
		onExpiry = "capture"
	}
	w.reserve(wl, est, r.cfg.OrphanTTL, onExpiry, true, start)
}

// mixed draws each unit from every other scenario plus the ops they don't
// use: release, debit (usage without a hold, possibly into debt) and check.
func (r *run) mixed(w *worker, slot uint64, start time.Time) {
	switch p := w.rng.IntN(100); {
	case p < 35:
		r.uniform(w, slot, start)
	case p < 50:
		r.stream(w, slot, start)
	case p < 60:
		r.orphans(w, slot, start)
	case p < 65:
		r.fanOut(w, r.randomWallet(w), 10, start)
	case p < 75:
		wl := r.randomWallet(w)
		if hold, ok := w.reserve(wl, w.estimate(), holdTTL, "", false, start); ok {
			w.release(wl, hold, time.Now())
		}
	case p < 88:
		w.debit(r.randomWallet(w), w.estimate(), start)
	default:
		w.check(r.randomWallet(w), w.estimate(), start)
	}
}
