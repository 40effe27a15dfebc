package actors

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// MemJournal is an in-memory Journal for tests and benchmarks, with fault
// injection. Positions are one global sequence, like a stream's. It keeps
// the events it is given (events are immutable once emitted).
type MemJournal struct {
	mu      sync.Mutex
	wallets map[string][]memBatch
	seq     uint64
	appends uint64

	// FailEvery makes every k-th append fail without landing (0: never).
	FailEvery uint64
	// Delay holds each append this long before it lands (0: lands at once).
	Delay time.Duration
	// Discard keeps only positions, not events: for benchmarks, whose
	// journals would otherwise grow with b.N.
	Discard bool
	// MaxEvents refuses (ErrBatchTooLarge) a batch of more events, as a
	// real journal refuses one over its message size (0: no bound).
	MaxEvents int
}

type memBatch struct {
	pos    uint64
	events []Event
}

// ErrInjected is the failure MemJournal injects.
var ErrInjected = errors.New("purser: injected journal failure")

func NewMemJournal() *MemJournal { return &MemJournal{wallets: make(map[string][]memBatch)} }

// Append implements Journal. Without Delay, done runs before Append returns.
func (j *MemJournal) Append(wallet string, prev uint64, events []Event, done func(uint64, error)) {
	var evs []Event
	if !j.Discard {
		evs = make([]Event, len(events)) // the caller reuses its slice
		copy(evs, events)
	}
	n := len(events)
	if j.Delay > 0 {
		time.AfterFunc(j.Delay, func() { done(j.land(wallet, prev, evs, n)) })
		return
	}
	done(j.land(wallet, prev, evs, n))
}

func (j *MemJournal) land(wallet string, prev uint64, evs []Event, n int) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.appends++
	if j.FailEvery > 0 && j.appends%j.FailEvery == 0 {
		return 0, ErrInjected
	}
	if j.MaxEvents > 0 && n > j.MaxEvents {
		return 0, ErrBatchTooLarge
	}
	bs := j.wallets[wallet]
	var last uint64
	if len(bs) > 0 {
		last = bs[len(bs)-1].pos
	}
	if last != prev {
		return 0, ErrFenced
	}
	j.seq++
	if j.Discard && len(bs) > 0 {
		bs = bs[:0]
	}
	j.wallets[wallet] = append(bs, memBatch{pos: j.seq, events: evs})
	return j.seq, nil
}

// ReadPage is Read, for a history reader (transport/api.History): in
// memory there are no round trips to size.
func (j *MemJournal) ReadPage(ctx context.Context, wallet string, from uint64, _ int, fn func(uint64, []Event) error) (uint64, error) {
	return j.Read(ctx, wallet, from, fn)
}

// Read implements Journal.
func (j *MemJournal) Read(ctx context.Context, wallet string, from uint64, fn func(uint64, []Event) error) (uint64, error) {
	j.mu.Lock()
	bs := j.wallets[wallet]
	if j.Discard {
		// land reuses the one slot it keeps: read a copy of it.
		bs = slices.Clone(bs)
	}
	j.mu.Unlock()
	last := from
	for _, b := range bs {
		if b.pos <= from {
			continue
		}
		if err := ctx.Err(); err != nil {
			return last, err
		}
		if err := fn(b.pos, b.events); err != nil {
			return last, err
		}
		last = b.pos
	}
	return last, nil
}

// Events returns every event journaled for wallet, in order.
func (j *MemJournal) Events(wallet string) []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	for _, b := range j.wallets[wallet] {
		out = append(out, b.events...)
	}
	return out
}

// Wallets lists the wallets with a journal.
func (j *MemJournal) Wallets() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, 0, len(j.wallets))
	for w := range j.wallets {
		out = append(out, w)
	}
	return out
}
