package snapshot

import (
	"github.com/purser-dev/purser/actors"
)

// A hot wallet's periodic snapshots repeat most of its remembered ids:
// 100,000 of them, of which the ~8,000 events between two images change a
// tenth. The encoder reads each id's record to write it, and a snapshot of
// such a wallet spent most of its encoding there. So the store keeps, for
// a few such wallets, where its last snapshot put the rows the actor
// referenced (idCache); the next snapshot of the same actor copies the
// rows it still has from there (their bytes, which never change:
// IDRows.Origin) and encodes only the rows queued since. Statuses are
// always the image's. The output is byte for byte what Encode writes
// (TestCachedEncodingIsEncode); BenchmarkEncodeHotImage measures the gain.

// idCache is the id columns of a wallet's last snapshot, as views of its
// bytes, and which of their rows are which of its actor's queued records.
type idCache struct {
	epoch, first uint64            // IDRows.Origin of the row at start
	start        int               // the first row that came from the actor's queue
	cols         *actors.IDColumns // the snapshot's columns, in place
	saved        uint64            // Store's count of saves when it was made: the oldest goes first
}

// reusable returns where in c the rows' first row is and how many of the
// rows c holds, in order (0: none; always 0 for a nil c).
func (c *idCache) reusable(rows actors.IDRows) (from, n int) {
	if c == nil {
		return 0, 0
	}
	epoch, first, ok := rows.Origin()
	if !ok || epoch != c.epoch || first < c.first || first-c.first >= uint64(c.cols.Len()-c.start) {
		return 0, 0
	}
	from = c.start + int(first-c.first)
	n = min(c.cols.Len()-from, rows.Len())
	// Two id compares guard the arithmetic: the first and last rows
	// copied must be the records they stand for.
	if n == 0 || cachedID(c.cols, from) != rows.Answer(0).ID || cachedID(c.cols, from+n-1) != rows.Answer(n-1).ID {
		return 0, 0
	}
	return from, n
}

func cachedID(c *actors.IDColumns, i int) string {
	return string(c.IDs[end(c.IDEnds, i-1):c.IDEnds[i]])
}

// idLayout says where appendIDCols put the id columns in the snapshot.
type idLayout struct {
	n, refsRow, reused            int // rows; the first row from the actor's queue; rows copied from a cache
	ids, answers, hold, op, fixed int // offsets of the columns' data
	// epoch, first and queued are the Origin of the rows written from
	// refsRow on (queued: they were an actor's queue).
	epoch, first uint64
	queued       bool
}

// cache returns the columns as the next snapshot's cache, or nil when the
// rows were not an actor's queue: views of data (the whole snapshot, never
// written again), or of a copy of just the columns when they are its
// lesser part, as a restore keeps them (finishColumns), so that a cache
// does not keep a wallet's open holds (most of a 100 MB snapshot) alive.
func (l idLayout) cache(data []byte) *idCache {
	if !l.queued {
		return nil
	}
	n := l.n
	fixed := data[l.fixed : l.fixed+16*n]
	var idsLen, answersLen int
	if n > 0 {
		idsLen, answersLen = int(u32(fixed[4*(n-1):])), int(u32(fixed[8*n-4:]))
	}
	c := &actors.IDColumns{Codec: answerCodec, DecodeAnswer: decodeAnswerRest,
		IDs: data[l.ids : l.ids+idsLen], Answers: data[l.answers : l.answers+answersLen],
		Hold: data[l.hold : l.hold+n], Op: data[l.op : l.op+n]}
	finishColumns(c, fixed, n, len(data))
	return &idCache{epoch: l.epoch, first: l.first, start: l.refsRow, cols: c}
}
