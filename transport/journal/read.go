package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/wire"
)

// readPage bounds one direct-get batch: messages and bytes per round trip.
const (
	readPage      = 512
	readPageBytes = 4 << 20
)

// Read implements actors.Journal: it replays the wallet's subject only,
// after stream sequence from, with direct gets (served from the subject
// index; no consumer to create and delete), up to where the stream's
// leader says the subject ends when the stream is replicated.
func (j *Journal) Read(ctx context.Context, wallet string, from uint64, fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	return j.read(ctx, wallet, from, 0, fn)
}

// ReadPage is Read for a reader that stops early, a history page: it
// reads forwards only, batch messages a round trip (at most readPage).
// The walk back (readback.go) starts at the subject's end and fetches the
// whole tail after from before it hands over its first message: the
// oldest entries a page wants would come last, after up to 1,024 round
// trips, and a history paged through that way would be fetched again for
// every page.
func (j *Journal) ReadPage(ctx context.Context, wallet string, from uint64, batch int, fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	return j.read(ctx, wallet, from, min(max(batch, 1), readPage), fn)
}

// read walks back first (batch 0: Read) or reads forwards only, batch
// messages a round trip (ReadPage).
func (j *Journal) read(ctx context.Context, wallet string, from uint64, batch int, fn func(pos uint64, events []actors.Event) error) (uint64, error) {
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
	if !j.replicated {
		return j.readDirect(ctx, wallet, subject, from, nil, batch, fn)
	}
	// Any replica of a replicated stream may answer a direct get, one that
	// lags behind its leader included. What it lacks would make the
	// wallet's next append fenced, and the actor stop with not_owner,
	// though this node owns the wallet. So the leader says first where
	// the subject ends, and the reads go on until they get there. Its
	// answer is the subject's last message itself: the walk back starts
	// from it, so a walking read makes no more round trips than on one
	// server (ReadPage makes one more).
	end, err := j.leaderGet(ctx, map[string]any{"last_by_subj": subject})
	if err != nil {
		return from, fmt.Errorf("journal: read %s: its end: %w", wallet, err)
	}
	if end == nil || end.Sequence <= from {
		return from, nil
	}
	last := from
	for attempt := 1; ; attempt++ {
		if last, err = j.readDirect(ctx, wallet, subject, last, end, batch, fn); err != nil || last >= end.Sequence {
			return last, err
		}
		if attempt == lagAttempts {
			return last, fmt.Errorf("journal: read %s: the replicas answering end at %d, the stream at %d", wallet, last, end.Sequence)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
}

// lagAttempts bounds the direct reads of a replicated stream that end
// short of where its leader says the subject ends (a replica catching
// up): about 1.2 s in all, then the read fails and the actor answers
// unavailable.
const lagAttempts = 16

// readDirect reads the wallet's subject after last with direct gets: it
// walks the chain back from the subject's end (end, the subject's last
// message as the leader of a replicated stream gave it; nil: ask), then
// reads forwards whatever the walk left, and hands everything over in
// order. With a batch it only reads forwards, batch messages a round trip.
func (j *Journal) readDirect(ctx context.Context, wallet, subject string, last uint64, end *jetstream.RawStreamMsg, batch int,
	fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	if batch > 0 {
		return j.readForward(ctx, wallet, subject, last, 0, batch, fn)
	}
	w, err := j.walkBack(ctx, subject, last, end)
	if err != nil {
		return last, fmt.Errorf("journal: read %s: %w", wallet, err)
	}
	return j.finishRead(ctx, wallet, subject, last, end != nil, w, fn)
}

// finishRead reads forwards what walk w left after last, if anything,
// then hands w's tail over. replicated: a short forward read is a replica
// that lags, which the caller retries.
func (j *Journal) finishRead(ctx context.Context, wallet, subject string, last uint64, replicated bool, w walk,
	fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	var err error
	if w.stopped {
		if last, err = j.readForward(ctx, wallet, subject, last, w.until(), readPage, fn); err != nil {
			return last, err
		}
		if w.link > 0 && last != w.link {
			// The forward read ended short of the message the tail
			// follows: a replica that lags (Read retries from last), or,
			// on one server, a stream that lost what it acknowledged.
			if replicated {
				return last, nil
			}
			return last, fmt.Errorf("journal: read %s: read up to %d, but the chain goes on from %d", wallet, last, w.link)
		}
	}
	for i := len(w.tail) - 1; i >= 0; i-- {
		m := w.tail[i]
		if err := j.deliver(wallet, subject, last, m.Subject, m.Sequence, m.Data, fn); err != nil {
			return last, err
		}
		last = m.Sequence
		j.st.readBack.Add(1)
	}
	return last, nil
}

// readForward reads the wallet's subject after last and before until (0:
// to its end) with batched direct gets by subject, batch messages each. (Reads
// used to start with two single gets, because a batch makes the server
// count the subject's pending messages, which dominated a restart of
// 100,000 wallets; an activation now walks back instead, and reads
// forwards only a dense or long tail, which the batch serves.)
func (j *Journal) readForward(ctx context.Context, wallet, subject string, last, until uint64, batch int,
	fn func(pos uint64, events []actors.Event) error) (uint64, error) {
	before := func(seq uint64) bool { return until == 0 || seq < until }
	for {
		j.st.readRequests.Add(1)
		more, got := false, 0
		var stop, ferr error // stop: read up to until; ferr: deliver's or fn's
		err := j.getBatch(ctx, batchRequest{Seq: last + 1, NextBySubject: subject, Batch: batch, MaxBytes: readPageBytes},
			func(m *jetstream.RawStreamMsg) error {
				if !before(m.Sequence) {
					stop = errors.New("until")
					return stop
				}
				if ferr = j.deliver(wallet, subject, last, m.Subject, m.Sequence, m.Data, fn); ferr != nil {
					return ferr
				}
				last, got = m.Sequence, got+1
				j.st.readForward.Add(1)
				// Nats-Num-Pending: messages on the subject after this one.
				np, err := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				if err != nil {
					ferr = fmt.Errorf("journal: read %s: bad Nats-Num-Pending: %w", wallet, err)
					return ferr
				}
				more = np > 0
				return nil
			})
		switch {
		case ferr != nil:
			return last, ferr
		case stop != nil, errors.Is(err, errNoMessages):
			return last, nil
		case err != nil:
			return last, fmt.Errorf("journal: read %s: %w", wallet, err)
		case got == 0:
			// The page ended with neither a message nor "no messages":
			// the request timed out. A short replay must never pass for
			// a full one.
			return last, fmt.Errorf("journal: read %s after %d: no reply from the stream", wallet, last)
		case !more:
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

// Wallets lists the wallets of partition p (those the journal has a
// subject for), from the stream's subject counts. A partition at a time:
// the server builds and sorts the whole list for every page it sends, so
// one listing of a million wallets took longer than a request may.
func (j *Journal) Wallets(ctx context.Context, p uint32) ([]string, error) {
	prefix := j.cfg.Prefix + "." + strconv.FormatUint(uint64(p), 10) + "."
	info, err := j.stream.Info(ctx, jetstream.WithSubjectFilter(prefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("journal: list the wallets of partition %d: %w", p, err)
	}
	wallets := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		if w, ok := strings.CutPrefix(subj, prefix); ok && w != probeWallet {
			wallets = append(wallets, w)
		}
	}
	return wallets, nil
}
