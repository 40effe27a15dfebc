package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// A subject's messages are a chain: each carries, in its fence header,
// the sequence of the one before it on the same subject (the stream
// stored it only because that was the subject's last sequence). Reading
// the chain backwards costs one direct get by sequence per message, which
// the server answers from its block index. Reading forwards by subject
// (next_by_subj) makes the server walk the block from the previous
// message, looking at every other wallet's message in between: in a
// stream of 10,000 wallets, one wallet's 15 messages cost a 300,000
// message scan. So a read first walks back from the subject's end, and
// reads forwards only the part of a long or dense tail the walk leaves.
type walkLimits struct {
	// max and maxBytes bound what one walk holds in memory.
	max, maxBytes int
	// dense: a tail with fewer than this many stream messages per
	// message of the subject is cheaper to read forwards, 512 to a round
	// trip, than one round trip per message backwards.
	dense uint64
	// probe is how many messages the walk takes before it judges the
	// tail's density.
	probe int
}

var defaultWalk = walkLimits{max: 1024, maxBytes: 4 << 20, dense: 64, probe: 8}

// walk is what a walk back found: tail holds the subject's messages after
// the read's start, newest first, unless stopped is set; then tail holds
// the newest of them and the rest (after the start, before tail's last)
// must be read forwards. That read must end at link when link > 0: the
// sequence tail's oldest message names as the one before it, or the
// message the walk could not follow on from.
type walk struct {
	tail    []*jetstream.RawStreamMsg
	stopped bool
	link    uint64
}

// until is where the forward read stops (exclusive; 0: at the subject's
// end): the oldest message the walk holds, else just past link, so that
// an append made since the walk began is not read.
func (w *walk) until() uint64 {
	switch {
	case len(w.tail) > 0:
		return w.tail[len(w.tail)-1].Sequence
	case w.link > 0:
		return w.link + 1
	}
	return 0
}

// walkBack reads subject's messages after from, newest first, starting
// at the subject's last message: end, when a replicated stream's leader
// gave it, else as a direct get finds it. A chain it cannot follow (a
// message without the fence header, one on another subject, a sequence a
// lagging replica does not have yet) stops the walk where it is; the
// forward read then does the rest, as it would alone.
func (j *Journal) walkBack(ctx context.Context, subject string, from uint64, end *jetstream.RawStreamMsg) (walk, error) {
	var w walk
	lim := j.walk
	m, err := end, error(nil)
	if m == nil {
		j.st.readRequests.Add(1)
		m, err = j.stream.GetLastMsgForSubject(ctx, subject)
	}
	bytes := 0
	for {
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			// Nothing on the subject (end, when given, is a message).
			return w, nil
		case err != nil:
			return w, fmt.Errorf("journal: read %s back: %w", subject, err)
		case m.Subject != subject:
			w.stopped = true
			return w, nil
		case m.Sequence <= from:
			return w, nil
		}
		prev, linked := chainLink(m)
		if !linked {
			// Not a link this journal wrote: the forward read takes m
			// too, and must end on it.
			w.stopped, w.link = true, m.Sequence
			return w, nil
		}
		w.tail = append(w.tail, m)
		bytes += len(m.Data)
		top := w.tail[0].Sequence
		switch {
		case prev <= from:
			return w, nil
		case len(w.tail) >= lim.max || bytes >= lim.maxBytes,
			// Dense: the forward read is cheaper for the rest.
			len(w.tail) >= lim.probe && top-prev < lim.dense*uint64(len(w.tail)):
			w.stopped, w.link = true, prev
			return w, nil
		}
		j.st.readRequests.Add(1)
		if m, err = j.stream.GetMsg(ctx, prev); errors.Is(err, jetstream.ErrMsgNotFound) {
			w.stopped, w.link = true, prev
			return w, nil
		}
	}
}

// chainLink is the sequence of the message before m on its subject, as
// m's fence header says; linked is false when m has no such header, or
// one checked against another subject (not a write of this journal).
func chainLink(m *jetstream.RawStreamMsg) (prev uint64, linked bool) {
	if m.Header.Get(jetstream.ExpectedLastSubjSeqSubjHeader) != "" {
		return 0, false
	}
	prev, err := strconv.ParseUint(m.Header.Get(jetstream.ExpectedLastSubjSeqHeader), 10, 64)
	return prev, err == nil && prev < m.Sequence
}
