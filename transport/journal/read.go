package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/purser-dev/purser/actors"
)

// readPage bounds one direct-get batch: messages and bytes per round trip.
const (
	readPage      = 512
	readPageBytes = 4 << 20
)

// Read implements actors.Journal: it replays the wallet's subject only,
// after stream sequence from, with batched direct gets (one request per
// page, served from the subject index; no consumer to create and delete).
func (j *Journal) Read(ctx context.Context, wallet string, from uint64, fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	if !validWallet(wallet) {
		return from, ErrBadWallet
	}
	subject := j.Subject(wallet)
	last := from
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
			if m.Subject != subject || m.Sequence <= last {
				return last, fmt.Errorf("journal: read %s: got seq %d on %s after %d", wallet, m.Sequence, m.Subject, last)
			}
			evs, err := actors.DecodeEvents(m.Data)
			if err != nil {
				return last, fmt.Errorf("journal: wallet %s seq %d: %w", wallet, m.Sequence, err)
			}
			if err := fn(m.Sequence, evs); err != nil {
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
