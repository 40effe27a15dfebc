package loadtest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/purser-dev/purser/transport/client"
)

// worker issues requests for one closed-loop client, one burst goroutine
// or one open-loop arrival. Each op measures its latency from start,
// books the reply in the ledger, and hands an unanswered request to the
// ledger's retry list — never guessing whether it was applied.
type worker struct {
	r   *run
	rec *recorder // the run's, or a throwaway one for post-run clean-up
	c   *client.Client
	nc  *nats.Conn
	rng *rand.Rand
	// crew runs the fan-outs of a worker that lives for the whole run (a
	// closed-loop client, crew.go); nil for one per open-loop arrival,
	// whose fan-outs start goroutines: a crew would be made and dropped
	// per arrival.
	crew *crew
}

// fan calls f(0) … f(n-1) at once and waits for all.
func (w *worker) fan(n int, f func(int)) {
	if w.crew != nil {
		w.crew.run(n, f)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

func (r *run) worker(n uint64, rec *recorder) *worker {
	i := int(n % uint64(len(r.clients)))
	return &worker{r: r, rec: rec, c: r.clients[i], nc: r.conns[i], rng: rand.New(rand.NewPCG(r.seed, n))}
}

// id is a request id unique in the run (and across runs: runID is random);
// "-r" keeps it apart from grant ids ("-g").
func (w *worker) id() string { return w.r.runID + "-r" + strconv.FormatUint(w.r.ids.Add(1), 36) }

// expectedUnderLoad are codes a correct node may answer when pushed hard;
// they applied nothing. Any other code is a bug the audit reports.
func expectedUnderLoad(code string) bool {
	return code == "overloaded" || code == "unavailable" || code == "not_owner"
}

// done classifies err for op: nil records the latency; a coded refusal is
// counted (and reported if a correct node should never send it); anything
// else is an unknown outcome, queued for the retry pass.
func (w *worker) done(op string, wl *wallet, id string, start time.Time, err error, retry func(context.Context) error) bool {
	if err == nil {
		w.rec.latency(op, start)
		return true
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		w.rec.failure(op, ce.Code)
		if !expectedUnderLoad(ce.Code) {
			w.r.led.wrong(wl.name, op+" "+id+" refused", "a reply", ce.Code+": "+ce.Message)
		}
		return false
	}
	w.rec.failure(op, "no_reply")
	w.r.led.unknown(pending{wallet: wl.name, op: op, id: id, retry: retry})
	return false
}

// send makes one request of op and books an acknowledged reply; an
// unanswered one goes to the retry pass, which books it if it is answered
// then. ok is false unless rep was acknowledged now.
func send[Rep any](w *worker, op string, wl *wallet, id string, start time.Time,
	call func(context.Context) (Rep, error), book func(Rep)) (rep Rep, ok bool) {
	rep, err := call(w.r.ctx)
	if !w.done(op, wl, id, start, err, func(ctx context.Context) error {
		rep, err := call(ctx)
		if err == nil {
			book(rep)
		}
		return err
	}) {
		return rep, false
	}
	book(rep)
	return rep, true
}

// reserve places a hold; it returns the hold id when allowed. A denial for
// credits tops the wallet up so the workload keeps flowing.
func (w *worker) reserve(wl *wallet, amount int64, ttl time.Duration, onExpiry string, orphan bool, start time.Time) (string, bool) {
	req := client.ReserveRequest{ID: w.id(), Amount: amount, TTLms: ttl.Milliseconds(), OnExpiry: onExpiry}
	rep, ok := send(w, "reserve", wl, req.ID, start,
		func(ctx context.Context) (client.ReserveReply, error) { return w.c.Reserve(ctx, wl.name, req) },
		func(rep client.ReserveReply) { w.r.led.reserved(wl, req, rep, orphan) })
	if !ok {
		return "", false
	}
	w.decided(rep.Allowed, rep.Reason, wl)
	return req.ID, rep.Allowed
}

func (w *worker) decided(allowed bool, reason string, wl *wallet) {
	if allowed {
		w.rec.decision("allowed")
		return
	}
	w.rec.decision(reason)
	if reason == "insufficient_credits" {
		w.topUp(wl)
	}
}

// topUp grants TopUp more credits, once at a time per wallet: the credits
// that pay off any debt first and let strict reserves through again.
func (w *worker) topUp(wl *wallet) {
	if !wl.topping.CompareAndSwap(false, true) {
		return
	}
	defer wl.topping.Store(false)
	w.grant(wl, w.r.cfg.TopUp, time.Now())
}

func (w *worker) grant(wl *wallet, amount int64, start time.Time) {
	req := client.GrantRequest{ID: wl.nextGrantID(w.r.runID), Amount: amount, Kind: "paid"}
	send(w, "grant", wl, req.ID, start,
		func(ctx context.Context) (client.GrantReply, error) { return w.c.Grant(ctx, wl.name, req) },
		func(rep client.GrantReply) { w.r.led.granted(wl, req, rep) })
}

// settle records actual against hold; partial keeps the hold open.
func (w *worker) settle(wl *wallet, hold string, actual int64, partial bool, start time.Time) bool {
	req := client.SettleRequest{ID: w.id(), HoldID: hold, Actual: actual, Partial: partial}
	op := "settle"
	if partial {
		op = "capture"
	}
	rep, ok := send(w, op, wl, req.ID, start,
		func(ctx context.Context) (client.SettleReply, error) { return w.c.Settle(ctx, wl.name, req) },
		func(rep client.SettleReply) { w.r.led.settled(wl, req, rep) })
	if !ok {
		return false
	}
	// Counted beside the decisions, so a run shows it reached the
	// over-settle and debt paths the audit must cover.
	if rep.Overage > 0 {
		w.rec.decision("settle:overage")
	}
	if rep.Debt > 0 {
		w.rec.decision("settle:debt")
	}
	return true
}

func (w *worker) release(wl *wallet, hold string, start time.Time) bool {
	req := client.ReleaseRequest{ID: w.id(), HoldID: hold}
	_, ok := send(w, "release", wl, req.ID, start,
		func(ctx context.Context) (client.ReleaseReply, error) { return w.c.Release(ctx, wl.name, req) },
		func(rep client.ReleaseReply) { w.r.led.released(wl, req, rep) })
	return ok
}

// extend moves the hold's expiry and raises it to total (0: expiry only).
func (w *worker) extend(wl *wallet, hold string, ttl time.Duration, total int64, start time.Time) bool {
	req := client.ExtendRequest{ID: w.id(), HoldID: hold, TTLms: ttl.Milliseconds(), Amount: total}
	rep, ok := send(w, "extend", wl, req.ID, start,
		func(ctx context.Context) (client.ExtendReply, error) { return w.c.Extend(ctx, wl.name, req) },
		func(rep client.ExtendReply) { w.r.led.extended(wl, req, rep) })
	if ok {
		w.decided(rep.Allowed, rep.Reason, wl)
	}
	return ok
}

func (w *worker) debit(wl *wallet, amount int64, start time.Time) {
	req := client.DebitRequest{ID: w.id(), Amount: amount}
	rep, ok := send(w, "debit", wl, req.ID, start,
		func(ctx context.Context) (client.DebitReply, error) { return w.c.Debit(ctx, wl.name, req) },
		func(rep client.DebitReply) { w.r.led.debited(wl, req, rep) })
	if ok && rep.Debt > 0 {
		w.rec.decision("debit:debt")
	}
}

// check asks without holding; it is read-only, so a lost reply needs no
// retry.
func (w *worker) check(wl *wallet, amount int64, start time.Time) {
	rep, err := w.c.Check(w.r.ctx, wl.name, client.CheckRequest{Amount: amount})
	if w.done("check", wl, "check", start, err, func(context.Context) error { return nil }) {
		w.r.led.checked(wl, amount, rep)
	}
}

// floorRequest is one request of the floor scenario op to its responder
// on subject, which answers with the request's body: the plain echo, or
// the node's journal echo once the body is journaled (anything else is its
// error).
func (w *worker) floorRequest(op, subject string, start time.Time) {
	m, err := w.nc.Request(subject, echoBody, w.r.cfg.Timeout)
	switch {
	case err != nil:
		w.rec.failure(op, "no_reply")
	case !bytes.Equal(m.Data, echoBody):
		w.rec.failure(op, "not_echoed")
	default:
		w.rec.latency(op, start)
	}
}
