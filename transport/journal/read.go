package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/wire"
)

// readPage bounds one direct-get batch: messages and bytes per round trip.
const (
	readPage      = 512
	readPageBytes = 4 << 20
)

// singleGets is how many messages Read first fetches one direct get at a
// time. A batched direct get makes the server count the subject's pending
// messages (fileStore.NumPending), a scan that dominated activations in a
// stream of 100,000 wallets; a wallet activated from its snapshot reads one
// batch and learns there is no other, so two single gets serve it, and only
// a longer tail pays for batches.
const singleGets = 2

// Read implements actors.Journal: it replays the wallet's subject only,
// after stream sequence from, with direct gets (served from the subject
// index; no consumer to create and delete): single ones first, then
// batches of a page each.
func (j *Journal) Read(ctx context.Context, wallet string, from uint64, fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	if !wire.ValidWallet(wallet) {
		return from, ErrBadWallet
	}
	// After a failed fsync the stream may hold appends that are not
	// durable: a wallet rebuilt from them would answer from changes a
	// power loss can erase. Only a restart (the server's recovery) tells.
	j.mu.Lock()
	broken := j.broken
	j.mu.Unlock()
	if broken != nil {
		return from, broken
	}
	subject := j.Subject(wallet)
	last := from
	for range singleGets {
		m, err := j.stream.GetMsg(ctx, last+1, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return last, nil
		}
		if err != nil {
			return last, fmt.Errorf("journal: read %s: %w", wallet, err)
		}
		if err := j.deliver(wallet, subject, last, m.Subject, m.Sequence, m.Data, fn); err != nil {
			return last, err
		}
		last = m.Sequence
	}
	for {
		msgs, err := jetstreamext.GetBatch(ctx, j.js, j.cfg.Stream, readPage,
			jetstreamext.GetBatchSeq(last+1),
			jetstreamext.GetBatchSubject(subject),
			jetstreamext.GetBatchMaxBytes(readPageBytes))
		if err != nil {
			return last, fmt.Errorf("journal: read %s: %w", wallet, err)
		}
		more, got := false, 0
		for m, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				return last, nil
			}
			if err != nil {
				return last, fmt.Errorf("journal: read %s: %w", wallet, err)
			}
			if err := j.deliver(wallet, subject, last, m.Subject, m.Sequence, m.Data, fn); err != nil {
				return last, err
			}
			last, got = m.Sequence, got+1
			// Nats-Num-Pending: messages on the subject after this one.
			np, err := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			if err != nil {
				return last, fmt.Errorf("journal: read %s: bad Nats-Num-Pending: %w", wallet, err)
			}
			more = np > 0
		}
		if got == 0 {
			// The page ended with neither a message nor "no messages":
			// the request timed out, and GetBatch ends such a page
			// silently. A short replay must never pass for a full one.
			return last, fmt.Errorf("journal: read %s after %d: no reply from the stream", wallet, last)
		}
		if !more {
			return last, nil
		}
	}
}

// deliver checks one message read for wallet and hands its events to fn.
func (j *Journal) deliver(wallet, subject string, last uint64, subj string, seq uint64, data []byte,
	fn func(uint64, []actors.Event) error) error {
	if subj != subject || seq <= last {
		return fmt.Errorf("journal: read %s: got seq %d on %s after %d", wallet, seq, subj, last)
	}
	evs, err := actors.DecodeEvents(data)
	if err != nil {
		return fmt.Errorf("journal: wallet %s seq %d: %w", wallet, seq, err)
	}
	return fn(seq, evs)
}
