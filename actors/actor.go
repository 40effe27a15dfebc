package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

type request struct {
	cmd   Command
	reply ReplyFunc // nil for the actor's own Tick
}

type appendResult struct {
	pos uint64
	err error
}

// actor owns one wallet. It is the only goroutine that touches the wallet,
// so requests are decided one after another — that is what makes zero
// overdraft and a deterministic burn-down hold without locks.
//
// The loop: drain up to MaxBatch requests, decide each against the state
// the previous ones left (applying their events in memory), append all the
// batch's events to the journal as one fenced append, wait for it, then
// reply. Events MUST be acknowledged by the journal BEFORE replies are
// sent; if the append fails, nothing is acknowledged and the wallet is
// rebuilt from the journal. At most one append is in flight per actor:
// while it waits, the mailbox fills and the next batch grows.
type actor struct {
	sys     *System
	shard   *registryShard
	wallet  string
	mailbox *mailbox
	// wakes holds what woke the actor besides its mailbox (wakeDue,
	// wakeIdle, wakeQuit). The timers and Close set a bit and send the
	// mailbox's signal, so the actor waits on one channel: a select over
	// four cost each wake-up of a wallet a lock on each.
	wakes atomic.Uint32
	done  chan appendResult
	// appended is the journal's done callback, made once: a closure per
	// batch would be an allocation per append.
	appended func(pos uint64, err error)

	w   *Wallet
	pos uint64 // journal position of the wallet's last batch

	// sinceSnap counts events journaled (or replayed) since the wallet's
	// last image; snapBusy is set while this actor's periodic image waits
	// to be saved (the saving worker clears it).
	sinceSnap int
	snapBusy  atomic.Bool
	// noSnapshot makes the next load replay the whole journal: the
	// wallet's snapshot held an answer that does not decode (idfrozen.go),
	// and the batch that found it is decided again after that load.
	noSnapshot bool

	batch   []request
	evs     []Event
	replies []answerOf
	now     time.Time // the current batch's time, stamped once in decide
	due     *time.Timer
	dueAt   int64
	idle    *time.Timer
	// lastActive is when the last batch ended, on the timers' clock: the
	// idle timer checks it when it fires instead of being reset per batch.
	lastActive time.Time
	log        *zap.Logger
}

type answerOf struct {
	r   Reply
	err *Error
}

func (s *System) spawn(wallet string, sh *registryShard) *actor {
	a := &actor{sys: s, shard: sh, wallet: wallet, mailbox: newMailbox(s.cfg.MailboxSize),
		done: make(chan appendResult, 1),
		log:  s.cfg.Log.With(zap.String("wallet", wallet))}
	a.appended = func(pos uint64, err error) { a.done <- appendResult{pos, err} }
	s.live.Add(1)
	s.stats.activations.Add(1)
	s.wg.Add(1)
	go a.run()
	return a
}

// offer enqueues without blocking; false when the mailbox is full.
func (a *actor) offer(r request) bool { return a.mailbox.offer(r) }

func (a *actor) run() {
	defer a.sys.wg.Done()
	defer a.sys.live.Add(-1)
	if err := a.load(); err != nil {
		a.log.Error("wallet load failed", zap.Error(err))
		a.stop(errLoadFailed)
		return
	}
	obs := a.sys.cfg.Observe
	obs.Activated(a.w.OpenHolds())
	defer func() { obs.Passivated(a.w.OpenHolds()) }()
	a.idle = time.AfterFunc(a.sys.cfg.IdleAfter, func() { a.wake(wakeIdle) })
	a.lastActive = time.Now()
	defer a.idle.Stop()
	a.due = time.AfterFunc(time.Hour, func() { a.wake(wakeDue) })
	a.due.Stop()
	defer a.due.Stop()
	for {
		a.armDue()
		<-a.mailbox.signal
		wakes := a.wakes.Swap(0)
		if wakes&wakeQuit != 0 {
			a.finish()
			return
		}
		if wakes&wakeIdle != 0 && a.idled() {
			return
		}
		if wakes&wakeResumed != 0 && a.passivate() {
			return
		}
		a.batch = a.mailbox.drain(a.batch[:0], a.sys.cfg.MaxBatch)
		if wakes&wakeDue != 0 {
			a.dueAt = 0
			a.batch = append(a.batch, request{cmd: Tick{}})
		}
		if len(a.batch) == 0 {
			continue
		}
		if !a.process() {
			return
		}
		if !a.w.Exists() && a.sys.remove(a, false) {
			a.sys.unknown.add(a.wallet, a.now.UnixNano())
			return
		}
	}
}

// What woke an actor besides its mailbox.
const (
	wakeDue uint32 = 1 << iota
	wakeIdle
	wakeQuit
	// wakeResumed: System.Resume activated the wallet only to apply and
	// arm its time-driven changes; it leaves memory at once unless it has
	// open holds (or requests came meanwhile).
	wakeResumed
)

// wake records why and makes sure the actor looks (a pending signal will do).
func (a *actor) wake(why uint32) {
	a.wakes.Or(why)
	select {
	case a.mailbox.signal <- struct{}{}:
	default:
	}
}

// idled handles the idle timer: it passivates the actor and reports true
// if the wallet was idle long enough with no open hold and nothing queued;
// otherwise it re-arms the timer.
func (a *actor) idled() bool {
	if rest := a.sys.cfg.IdleAfter - time.Since(a.lastActive); rest > 0 {
		a.idle.Reset(rest)
		return false
	}
	if a.passivate() {
		return true
	}
	a.idle.Reset(a.sys.cfg.IdleAfter)
	return false
}

// passivate takes the actor out of memory and reports true, unless it has
// open holds or queued requests.
func (a *actor) passivate() bool {
	// Open holds keep the actor (and its timer) in memory; a grant change
	// due later is left to the node's wake-up list.
	if a.w.OpenHolds() != 0 || !a.sys.remove(a, false) {
		return false
	}
	if due := a.w.nextDue(); due != 0 {
		a.sys.wake.add(a.wallet, due)
	}
	a.snapshotFinal(false)
	a.sys.stats.passivations.Add(1)
	return true
}

// finish serves what is queued at shutdown, then stops.
func (a *actor) finish() {
	a.sys.remove(a, true)
	for {
		a.batch = a.mailbox.drain(a.batch[:0], a.sys.cfg.MaxBatch)
		if len(a.batch) == 0 {
			a.snapshotFinal(true)
			return
		}
		if !a.process() {
			return
		}
	}
}

// armDue keeps one timer at the wallet's earliest due time, plus
// TickDelay.
func (a *actor) armDue() {
	due := a.w.nextDue()
	// A later due time, or none, keeps the armed timer: firing early costs
	// one Tick that finds nothing due, where re-arming after every batch of
	// a hot wallet (whose earliest hold changes with each batch) cost a
	// timer reset each time.
	if due == 0 || (a.dueAt > 0 && due >= a.dueAt) {
		return
	}
	a.dueAt = due
	// From the clock now, not the batch's time: armDue runs after the
	// append (and after a reload), and a timer measured from the decision
	// fired late by the append's time.
	a.due.Reset(time.Duration(max(due-a.sys.cfg.Now().UnixNano(), 0)) + a.sys.cfg.TickDelay)
}

// process decides the batch, journals its events and replies. It returns
// false when the actor must stop (fenced, or the wallet cannot be rebuilt).
func (a *actor) process() bool {
	s := a.sys
	obs := s.cfg.Observe
	obs.Batch(len(a.batch), a.mailbox.left)
	young := a.w.EvictedYoung()
	defer func() {
		if n := a.w.EvictedYoung(); n > young {
			obs.ForgotYoungIDs(n - young)
			a.log.Warn("forgot request ids younger than their retention: raise the remembered-ids bound",
				zap.Uint64("ids", n-young))
		}
	}()
	ok := a.decide()
	if !ok && a.noSnapshot {
		// The wallet came from a snapshot with an answer that does not
		// decode: nothing was journaled, so the batch is decided again on
		// the wallet rebuilt from its whole journal (which has no frozen
		// ids: this happens once).
		if !a.reload() {
			a.replyAll(errLoadFailed)
			return false
		}
		ok = a.decide()
	}
	if !ok {
		a.lastActive = time.Now()
		obs.Panicked()
		s.stats.panics.Add(1)
		a.replyAll(errPanic)
		return a.reload()
	}
	s.stats.batches.Add(1)
	if len(a.evs) == 0 {
		a.lastActive = time.Now()
		a.replyEach()
		return true
	}
	start := time.Now()
	s.journal.Append(a.wallet, a.pos, a.evs, a.appended)
	res := <-a.done
	a.lastActive = time.Now()
	obs.Appended(a.lastActive.Sub(start), a.evs, res.err)
	switch {
	case res.err == nil:
		a.pos = res.pos
		s.stats.appends.Add(1)
		s.stats.events.Add(uint64(len(a.evs)))
		a.replyEach()
		a.sinceSnap += len(a.evs)
		a.snapshotDue()
		return true
	case errors.Is(res.err, ErrBatchTooLarge) && len(a.batch) > 1:
		return a.split()
	case errors.Is(res.err, ErrFenced):
		s.stats.fenced.Add(1)
		a.log.Warn("journal append fenced: wallet owned elsewhere; stopping", zap.Error(res.err),
			zap.Strings("request_ids", a.requestIDs()))
		// Out of the registry before anyone hears not_owner: a client
		// that retries at once must reach a fresh actor, which reads what
		// the other writer appended, not this one on its way out.
		a.stop(errNotOwner)
		a.replyAll(errNotOwner)
		return false
	default:
		s.stats.appendFailures.Add(1)
		a.log.Warn("journal append failed; rebuilding wallet", zap.Error(res.err), zap.Int("requests", len(a.batch)),
			zap.Strings("request_ids", a.requestIDs()))
		a.replyAll(errJournal)
		return a.reload()
	}
}

// split handles a batch the journal refused for its size: nothing landed,
// so the wallet is rebuilt and the two halves are decided and journaled as
// batches of their own (a single request's events always fit, so halving
// ends). No request of the batch has been answered yet.
func (a *actor) split() bool {
	half := len(a.batch) / 2
	if !a.reload() {
		a.replyAll(errLoadFailed)
		return false
	}
	first, second := slices.Clone(a.batch[:half]), slices.Clone(a.batch[half:])
	a.batch = append(a.batch[:0], first...)
	if !a.process() {
		for _, r := range second {
			if r.reply != nil {
				r.reply(nil, errJournal)
			}
		}
		return false
	}
	a.batch = append(a.batch[:0], second...)
	return a.process()
}

// decide runs the batch through the state machine. A panic is a bug in the
// core; it fails this batch only (the caller rebuilds the wallet).
func (a *actor) decide() (ok bool) {
	a.evs = a.evs[:0]
	a.replies = a.replies[:0]
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		ok = false
		if _, a.noSnapshot = p.(errFrozenAnswer); a.noSnapshot {
			a.log.Warn("snapshot answer does not decode; rebuilding the wallet from its whole journal",
				zap.Strings("request_ids", a.requestIDs()), zap.Any("error", p))
			return
		}
		a.log.Error("panic deciding a batch; failing it and rebuilding the wallet",
			zap.Strings("request_ids", a.requestIDs()),
			zap.Any("panic", p), zap.Stack("stack"))
	}()
	a.now = a.sys.cfg.Now()
	for i, r := range a.batch {
		if i+1 < len(a.batch) {
			a.w.prefetch(a.batch[i+1].cmd)
		}
		var rep Reply
		var err *Error
		a.evs, rep, err = a.w.Execute(r.cmd, a.now, a.evs)
		a.replies = append(a.replies, answerOf{rep, err})
	}
	return true
}

func (a *actor) replyEach() {
	for i, r := range a.batch {
		if r.reply != nil {
			r.reply(a.replies[i].r, a.replies[i].err)
		}
		a.batch[i] = request{}
	}
	clear(a.replies)
}

func (a *actor) replyAll(err *Error) {
	for i, r := range a.batch {
		if r.reply != nil {
			r.reply(nil, err)
		}
		a.batch[i] = request{}
	}
	clear(a.replies)
}

// load rebuilds the wallet from its latest snapshot and the journal after
// it, or, without a usable snapshot, from its whole journal.
func (a *actor) load() (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.sys.cfg.LoadTimeout)
	defer cancel()
	start := time.Now()
	skip := a.noSnapshot
	a.noSnapshot = false
	if w, pos, tail, ok := a.loadFromSnapshot(ctx, skip); ok {
		a.loaded(w, pos, tail)
		a.sys.cfg.Observe.Loaded(tail, time.Since(start), true)
		return nil
	}
	w := NewWallet(a.wallet, a.sys.cfg.Limits)
	replayed := 0
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("journal does not replay: %v", p)
		}
	}()
	pos, err := a.sys.journal.Read(ctx, a.wallet, 0, func(_ uint64, evs []Event) error {
		for _, e := range evs {
			w.Apply(e)
		}
		replayed += len(evs)
		return nil
	})
	if err != nil {
		return err
	}
	a.loaded(w, pos, replayed)
	a.sys.cfg.Observe.Loaded(replayed, time.Since(start), false)
	return nil
}

// loaded installs a rebuilt wallet; replayed events count toward the next
// snapshot, so a wallet with a long replay gets one at once.
func (a *actor) loaded(w *Wallet, pos uint64, replayed int) {
	a.w, a.pos, a.dueAt = w, pos, -1
	if a.now.IsZero() {
		a.now = a.sys.cfg.Now()
	}
	a.sinceSnap = replayed
	a.snapshotDue()
}

// reload rebuilds after a failed batch; if that fails too, the actor stops
// and the next request starts a fresh one.
func (a *actor) reload() bool {
	if err := a.load(); err != nil {
		a.log.Error("wallet rebuild failed; stopping", zap.Error(err))
		a.stop(errLoadFailed)
		return false
	}
	return true
}

// stop leaves the registry and answers what is still queued with err.
func (a *actor) stop(err *Error) {
	a.sys.remove(a, true)
	for _, r := range a.mailbox.drain(nil, a.sys.cfg.MailboxSize) {
		if r.reply != nil {
			r.reply(nil, err)
		}
	}
}

// requestIDs names the batch's requests in a log line about the batch (at
// most 16, so a line stays a line).
func (a *actor) requestIDs() []string {
	ids := make([]string, 0, min(len(a.batch), 16))
	for _, r := range a.batch {
		if len(ids) == cap(ids) {
			break
		}
		if id := RequestID(r.cmd); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
