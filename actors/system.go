package actors

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// ReplyFunc receives the answer to one request, exactly once, on the
// wallet's actor goroutine (or the caller's, for an immediate refusal). It
// must not block: hand the reply to the network and return.
type ReplyFunc func(Reply, *Error)

// System is the registry of one node's wallet actors: wallet id → actor.
// An actor starts on the first request for its wallet, loading the wallet
// from the Journal, and stops when idle (passivation), when its wallet turns
// out not to exist, or when the journal says another node owns it.
//
// Send never blocks: a full mailbox, too many live actors or a closing
// system are answered at once.
type System struct {
	cfg     Config
	journal Journal
	seed    maphash.Seed
	shards  [registryShards]registryShard
	live    atomic.Int64
	closing atomic.Bool
	wg      sync.WaitGroup
	unknown *unknownWallets
	wake    *wakeups
	snaps   *snapshotter
	stats   counters
}

const registryShards = 64

// registryShard guards a part of the registry. Senders offer to a mailbox
// while holding the read lock and an actor removes itself under the write
// lock only when its mailbox is empty, so no request is ever left in the
// mailbox of a stopped actor.
type registryShard struct {
	mu     sync.RWMutex
	actors map[string]*actor
}

// NewSystem validates cfg and returns a System over journal.
func NewSystem(cfg Config, journal Journal) (*System, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Observe == nil {
		cfg.Observe = noObserver{}
	}
	s := &System{cfg: cfg, journal: journal, seed: maphash.MakeSeed(),
		unknown: newUnknownWallets(cfg.NegativeCacheSize, int64(cfg.NegativeCacheTTL))}
	for i := range s.shards {
		s.shards[i].actors = make(map[string]*actor)
	}
	s.snaps = newSnapshotter(cfg, s.seed)
	s.startWakeups()
	return s, nil
}

var (
	errClosing    = &Error{Code: ErrUnavailable, Message: "the node is shutting down; retry on another node"}
	errMailbox    = &Error{Code: ErrOverloaded, Message: "the wallet's mailbox is full; retry later"}
	errTooMany    = &Error{Code: ErrOverloaded, Message: "the node holds its maximum of live wallets; retry later"}
	errNotFound   = &Error{Code: ErrWalletNotFound, Message: "wallet has no grant or configuration yet"}
	errJournal    = &Error{Code: ErrUnavailable, Message: "the journal did not accept the change; nothing was applied"}
	errPanic      = &Error{Code: ErrUnavailable, Message: "internal error deciding this wallet; nothing was applied"}
	errNotOwner   = &Error{Code: ErrNotOwner, Message: "the wallet is owned by another node; retry"}
	errLoadFailed = &Error{Code: ErrUnavailable, Message: "the wallet could not be loaded from the journal; nothing was applied"}
	errNoRoom     = &Error{Code: ErrOverloaded, Message: "the wallet table's last free slots are kept for requests; activate later"}
)

// creates reports whether cmd may bring a wallet into being (SPEC §8).
func creates(cmd Command) bool {
	switch cmd.(type) {
	case Grant, Configure:
		return true
	}
	return false
}

// Send hands cmd to wallet's actor; reply is called once with the answer
// (nil reply: nobody waits, as for the wake-up Tick).
func (s *System) Send(wallet string, cmd Command, reply ReplyFunc) {
	if reply == nil {
		reply = func(Reply, *Error) {}
	}
	if s.closing.Load() {
		reply(nil, errClosing)
		return
	}
	if err := checkIDs(cmd); err != nil {
		reply(nil, err)
		return
	}
	req := request{cmd: cmd, reply: reply}
	sh := s.shardOf(wallet)
	sh.mu.RLock()
	if a := sh.actors[wallet]; a != nil {
		ok := a.offer(req)
		sh.mu.RUnlock()
		if !ok {
			s.refused(cmd)
			reply(nil, errMailbox)
		}
		return
	}
	sh.mu.RUnlock()
	// Only a wallet with no live actor can be a known unknown: the cache
	// (one lock for the node) stays off the path of live wallets.
	mk := creates(cmd)
	if !mk && s.unknown.has(wallet, s.cfg.Now) {
		s.stats.notFoundCached.Add(1)
		reply(nil, errNotFound)
		return
	}

	sh.mu.Lock()
	a := sh.actors[wallet]
	if a == nil {
		if s.closing.Load() {
			sh.mu.Unlock()
			reply(nil, errClosing)
			return
		}
		if s.live.Load() >= int64(s.cfg.MaxActors) {
			sh.mu.Unlock()
			s.refused(cmd)
			reply(nil, errTooMany)
			return
		}
		if mk {
			s.unknown.forget(wallet)
		}
		a = s.spawn(wallet, sh)
		sh.actors[wallet] = a
	}
	ok := a.offer(req)
	sh.mu.Unlock()
	if !ok {
		s.refused(cmd)
		reply(nil, errMailbox)
	}
}

// refused counts an overloaded refusal: a request's, or one of the
// runtime's own Ticks, which no client sent and which are retried.
func (s *System) refused(cmd Command) {
	if _, ok := cmd.(Tick); ok {
		s.stats.ticksRefused.Add(1)
		return
	}
	s.stats.overloaded.Add(1)
}

// Resume applies what is due on wallet and arms what will be (activate),
// and waits for it. A node's timers live in memory only: after a restart a
// wallet nobody sends a request would keep its expired holds open and its
// grants unexpired (SPEC §3: the runtime applies them itself, within a
// second), so the node resumes every wallet its journal knows.
func (s *System) Resume(ctx context.Context, wallet string) error {
	done := make(chan *Error, 1)
	s.activate(wallet, func(err *Error) { done <- err })
	select {
	case err := <-done:
		if err != nil { // not a nil *Error in an error
			return err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// activate is Resume's and the wake-up list's way in: a Tick applies what
// is due and arms what will be, then the wallet leaves memory at once
// unless open holds (or requests meanwhile) keep it. A live wallet is left
// alone: its own timers run. done hears nil, or why the wallet could not
// be activated. These are the runtime's own activations, not requests: a
// wallet they bring in holds its slot until its actor has run, so an
// eighth of the table is kept for requests (a table of under eight keeps
// none), and their refusals count as TicksRefused.
func (s *System) activate(wallet string, done func(*Error)) {
	if s.actorOf(wallet) != nil {
		done(nil)
		return
	}
	if s.live.Load() >= int64(s.cfg.MaxActors-s.cfg.MaxActors/8) {
		s.stats.ticksRefused.Add(1)
		done(errNoRoom)
		return
	}
	s.Send(wallet, Tick{}, func(_ Reply, err *Error) {
		if err == nil {
			if a := s.actorOf(wallet); a != nil {
				a.wake(wakeResumed)
			}
		}
		done(err)
	})
}

// shardOf is the registry shard wallet's actor is in.
func (s *System) shardOf(wallet string) *registryShard {
	return &s.shards[maphash.String(s.seed, wallet)%registryShards]
}

// actorOf is wallet's actor, or nil when it is not in memory.
func (s *System) actorOf(wallet string) *actor {
	sh := s.shardOf(wallet)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.actors[wallet]
}

// Ask sends cmd and waits for its answer: for tests, tools and the
// in-process API, not for the network path (which must not block).
func (s *System) Ask(ctx context.Context, wallet string, cmd Command) (Reply, error) {
	ch := make(chan answerOf, 1)
	s.Send(wallet, cmd, func(r Reply, err *Error) { ch <- answerOf{r, err} })
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, a.err
		}
		return a.r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops taking requests, lets every actor finish what its mailbox
// holds and take its last snapshot, and waits for them and for the
// snapshots to be saved (or ctx).
func (s *System) Close(ctx context.Context) error {
	if s.closing.Swap(true) {
		return errors.New("purser: system already closed")
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, a := range sh.actors {
			a.wake(wakeQuit)
		}
		sh.mu.Unlock()
	}
	s.wake.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); s.snaps.close(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Live is the number of wallets in memory.
func (s *System) Live() int { return int(s.live.Load()) }

// remove takes a from the registry if its mailbox is empty. Under the write
// lock no sender can be offering to it, so an empty mailbox stays empty.
func (s *System) remove(a *actor, force bool) bool {
	sh := a.shard
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !force && a.mailbox.len() > 0 {
		return false
	}
	if sh.actors[a.wallet] == a {
		delete(sh.actors, a.wallet)
	}
	return true
}
