package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/wire"
)

// Errors Append reports besides actors.ErrFenced. All but
// ErrOutcomeUnknown and ErrNotDurable mean the batch did not land; after
// those the actor rebuilds the wallet from the journal, which tells
// (ErrNotDurable: only a restart does).
var (
	ErrClosed     = errors.New("journal: closed")
	ErrOverloaded = errors.New("journal: too many appends pending")
	ErrTooLarge   = fmt.Errorf("journal: batch larger than the server's max payload: %w", actors.ErrBatchTooLarge)
	ErrBadWallet  = errors.New("journal: wallet id is not a valid subject token")
	// ErrOutcomeUnknown is reported only by Close, for an append that was
	// sent but whose outcome could not be resolved before closing: it may
	// or may not have landed, and the next Read tells.
	ErrOutcomeUnknown = errors.New("journal: closed before the append's outcome was known")
)

// hdrAppendID names each append uniquely (journal instance + counter), so
// reading a wallet's last message tells whether this append landed. It is
// not Nats-Msg-Id: the fence already makes a resend idempotent, and
// JetStream's dedupe table would hold every id of the last window in
// memory at tens of thousands of appends per second.
const hdrAppendID = "Purser-Append-Id"

// Journal is actors.Journal on a JetStream stream. Appends pending across
// wallets share one durable write — an atomic batch (ModeBatch) or one
// fsync of the embedded server's files (ModeGroupSync) — each wallet's
// message on its own subject with its own fence. See doc.go for the
// protocol.
type Journal struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	parts uint32
	log   *zap.Logger
	inbox string // "<inbox>." — replies arrive on inbox+batchID
	sub   *nats.Subscription
	// stream is the stream's handle, from New, for Read's single direct
	// gets (its cached info says direct gets are allowed).
	stream jetstream.Stream
	// replicated: the stream has more than one replica, so a direct get
	// may be answered by one that lags (read.go).
	replicated bool
	idPfx      string // this instance's part of every append id

	mu       sync.Mutex
	queue    []*pending          // accepted, not yet sent, FIFO
	busy     map[string]struct{} // wallets with an append sent and unresolved
	inflight map[string]*batch   // sent, awaiting ack, by batch id
	slots    int                 // batches sent and not yet settled (≤ MaxInflight)
	closing  bool
	nextID   uint64
	// drainWaiters are closed when the journal goes idle during Close.
	drainWaiters []chan struct{}
	// held stops the sender taking work, so tests can make one batch of
	// many appends deterministically (holdSends).
	held bool
	// unsynced are acknowledged by the server, awaiting Sync
	// (ModeGroupSync); broken is Sync's first failure.
	unsynced []acked
	broken   error

	wake     chan struct{} // cap 1: the sender has work
	syncWake chan struct{} // cap 1: the syncer has work
	stop     chan struct{} // closed by Close
	// giveUp is closed when Close's ctx ends: a Sync still running is no
	// longer waited for, and none is started (groupsync.go).
	giveUp    chan struct{}
	wg        sync.WaitGroup // the sender and the syncer
	resolvers sync.WaitGroup // batches taken off the pipeline, not yet finished

	st counters
	// walk bounds reads that walk a chain back (readback.go); tests
	// shrink it.
	walk walkLimits
}

// pending is one Append on its way to the journal.
type pending struct {
	wallet   string
	subject  string
	prev     uint64
	data     []byte
	id       string
	done     func(uint64, error)
	attempts int // definitive refusals no wallet explained
	unknown  int // unknown outcomes found not (yet) landed
}

// New opens the journal on js, creating or checking its stream.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Journal, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	stream, parts, err := ensureStream(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	nc := js.Conn()
	j := &Journal{
		cfg:        cfg,
		nc:         nc,
		js:         js,
		parts:      parts,
		replicated: stream.CachedInfo().Config.Replicas > 1,
		stream:     stream,
		log:        cfg.Logger.With(zap.String("stream", cfg.Stream)),
		inbox:      nc.NewInbox() + ".",
		idPfx:      nuid.Next() + ".",
		busy:       make(map[string]struct{}),
		inflight:   make(map[string]*batch),
		wake:       make(chan struct{}, 1),
		syncWake:   make(chan struct{}, 1),
		stop:       make(chan struct{}),
		giveUp:     make(chan struct{}),
		walk:       defaultWalk,
	}
	if err := AwaitRoute(ctx, nc, j.Subject(probeWallet), "the journal's subjects", j.log); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	// A core subscription on our own reply inbox, never on journal subjects.
	j.sub, err = nc.Subscribe(j.inbox+"*", j.onReply)
	if err != nil {
		return nil, fmt.Errorf("journal: reply subscription: %w", err)
	}
	if err := j.sub.SetPendingLimits(-1, 256<<20); err != nil {
		_ = j.sub.Unsubscribe()
		return nil, fmt.Errorf("journal: reply subscription: %w", err)
	}
	j.wg.Add(1)
	go j.sendLoop()
	if cfg.Mode == ModeGroupSync {
		j.wg.Add(1)
		go j.syncLoop()
	}
	return j, nil
}

// Partitions is P, the stream's fixed partition count.
func (j *Journal) Partitions() uint32 { return j.parts }

// Subject is the wallet's journal subject.
func (j *Journal) Subject(wallet string) string {
	return j.cfg.Prefix + "." + strconv.FormatUint(uint64(Partition(wallet, j.parts)), 10) + "." + wallet
}

// Append implements actors.Journal. It never blocks on I/O: the batch is
// encoded here and queued for the sender.
func (j *Journal) Append(wallet string, prev uint64, events []actors.Event, done func(pos uint64, err error)) {
	j.st.appends.Add(1)
	if !wire.ValidWallet(wallet) {
		done(0, ErrBadWallet)
		return
	}
	data, err := actors.AppendEvents(nil, events)
	if err != nil {
		done(0, fmt.Errorf("journal: encode: %w", err))
		return
	}
	// Headers and subject cost a little beyond the data; 1 KiB covers them.
	if int64(len(data))+1024 > j.nc.MaxPayload() {
		done(0, ErrTooLarge)
		return
	}
	p := &pending{wallet: wallet, subject: j.Subject(wallet), prev: prev, data: data, done: done}
	j.mu.Lock()
	switch {
	case j.closing:
		err = ErrClosed
	case j.broken != nil:
		err = j.broken
	case len(j.queue) >= j.cfg.MaxPending:
		err = ErrOverloaded
	default:
		j.nextID++
		p.id = j.idPfx + strconv.FormatUint(j.nextID, 36)
		j.queue = append(j.queue, p)
	}
	j.mu.Unlock()
	if err != nil {
		done(0, err)
		return
	}
	j.kick()
}

// holdSends pauses (true) or resumes (false) sending; for tests.
func (j *Journal) holdSends(hold bool) {
	j.mu.Lock()
	j.held = hold
	j.mu.Unlock()
	j.kick()
}

func (j *Journal) kick() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// finish reports p's outcome once. Callers hold no lock: done may call
// Append again.
func (j *Journal) finish(p *pending, pos uint64, err error) {
	switch {
	case err == nil:
		j.st.acked.Add(1)
	case errors.Is(err, actors.ErrFenced):
		j.st.fenced.Add(1)
	default:
		j.st.failed.Add(1)
	}
	p.done(pos, err)
}

// release frees p's wallet for its next append.
func (j *Journal) release(ps []*pending) {
	j.mu.Lock()
	for _, p := range ps {
		delete(j.busy, p.wallet)
	}
	if j.closing && len(j.queue) == 0 && len(j.busy) == 0 {
		for _, ch := range j.drainWaiters {
			close(ch)
		}
		j.drainWaiters = nil
	}
	j.mu.Unlock()
	j.kick()
}

// Close stops accepting appends, waits (until ctx ends) for those accepted
// to be acknowledged or resolved, and then fails what remains: ErrClosed
// for appends never sent, ErrOutcomeUnknown for those sent.
func (j *Journal) Close(ctx context.Context) error {
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		return nil
	}
	j.closing = true
	j.mu.Unlock()
	j.kick()

	drained := j.waitDrained(ctx)
	close(j.stop)
	// An fsync on a stalled disk may not return for minutes; from here on
	// ctx bounds the waits for it, and every append is still answered
	// before Close returns.
	stopGivingUp := context.AfterFunc(ctx, func() { close(j.giveUp) })
	defer stopGivingUp()
	j.wg.Wait()
	_ = j.sub.Unsubscribe()

	// Emptying the pipeline under mu means no reply or timer can take a
	// batch after this, so resolvers.Wait cannot race a new Add.
	j.mu.Lock()
	var sent []*pending
	for id, b := range j.inflight {
		b.timer.Stop()
		sent = append(sent, b.items...)
		delete(j.inflight, id)
	}
	j.mu.Unlock()
	// A resolution still running may put appends back in the queue
	// (requeue), so the queue is taken only once every one has finished.
	j.resolvers.Wait()
	j.mu.Lock()
	queued := j.queue
	j.queue = nil
	unsynced := j.unsynced
	j.unsynced = nil
	j.mu.Unlock()
	if len(unsynced) > 0 {
		// Stored by the server, so worth the one fsync that tells.
		j.commit(unsynced)
	}
	for _, p := range queued {
		if p.unknown > 0 {
			// Resent after an unknown outcome: the first send may still
			// land in a slow server, so "never written" would be a guess.
			j.finish(p, 0, ErrOutcomeUnknown)
			continue
		}
		j.finish(p, 0, ErrClosed)
	}
	for _, p := range sent {
		j.finish(p, 0, ErrOutcomeUnknown)
	}
	if !drained {
		return ctx.Err()
	}
	return nil
}

// waitDrained waits until nothing is queued or unresolved; release wakes
// it when the last append finishes.
func (j *Journal) waitDrained(ctx context.Context) bool {
	for {
		j.mu.Lock()
		idle := len(j.queue) == 0 && len(j.busy) == 0
		ch := make(chan struct{})
		if !idle {
			j.drainWaiters = append(j.drainWaiters, ch)
		}
		j.mu.Unlock()
		if idle {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// counters are exposed through Stats, for tests and metrics.
type counters struct {
	appends, acked, fenced, failed           atomic.Uint64
	batches, messages, resolutions, requeues atomic.Uint64
	syncs, syncNanos                         atomic.Uint64
	readBack, readForward, readRequests      atomic.Uint64
}

// Stats is a snapshot of the journal's counters since New.
type Stats struct {
	Appends     uint64        // Append calls
	Acked       uint64        // appends acknowledged durable
	Fenced      uint64        // appends refused with actors.ErrFenced
	Failed      uint64        // appends failed with another error
	Batches     uint64        // durable writes sent: atomic batches or single publishes
	Messages    uint64        // journal messages sent, resends included
	Resolutions uint64        // batches whose outcome was resolved by reading
	Requeues    uint64        // appends sent again after their batch failed
	Syncs       uint64        // Config.Sync calls (ModeGroupSync)
	SyncTime    time.Duration // spent in them
	ReadBack    uint64        // messages handed over after walking a wallet's chain back (readback.go)
	ReadForward uint64        // messages handed over read forwards by subject
	// ReadRequests counts the round trips reads made: direct gets, pages
	// of batched ones, and the stream leader's answers where a replicated
	// stream's subject ends.
	ReadRequests uint64
}

// Stats returns the counters.
func (j *Journal) Stats() Stats {
	return Stats{
		Appends: j.st.appends.Load(), Acked: j.st.acked.Load(),
		Fenced: j.st.fenced.Load(), Failed: j.st.failed.Load(),
		Batches: j.st.batches.Load(), Messages: j.st.messages.Load(),
		Resolutions: j.st.resolutions.Load(), Requeues: j.st.requeues.Load(),
		Syncs: j.st.syncs.Load(), SyncTime: time.Duration(j.st.syncNanos.Load()),
		ReadBack: j.st.readBack.Load(), ReadForward: j.st.readForward.Load(),
		ReadRequests: j.st.readRequests.Load(),
	}
}

var _ actors.Journal = (*Journal)(nil)
