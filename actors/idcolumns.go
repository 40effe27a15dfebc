package actors

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// IDColumns is an image's remembered ids in columns, as snapshot format v3
// stores them: every id in one byte string, fixed-width times, statuses
// and ops, and the rest of each answer left encoded. A wallet restored
// from it does not rebuild 100,000 records: it keeps the columns as they
// are (frozen, pointer-free, nothing for the collector to mark), indexes
// the ids once, and decodes an answer only when a request asks for it —
// a retry, a late settle, or the next snapshot. That is what makes a
// wallet at its id bound activate in milliseconds (docs/benchmarks.md).
//
// Record i is the i-th oldest id in the eviction queue. Records before
// First are evicted already: an image of a restored wallet shares the
// columns it was restored from.
//
// IDColumns is immutable once made, like the rest of an Image.
type IDColumns struct {
	First  int
	IDs    []byte   // every id, concatenated
	IDEnds []uint32 // IDEnds[i]: the end of id i in IDs
	At     []int64  // when each entered the queue (unix ns)
	Hold   []uint8  // IDNoHold, IDHoldClosed or IDHoldLapsed
	Op     []uint8  // the answer's OpCode
	// Answers holds the rest of each answer (hash, figures, allocations,
	// governance) in the store's encoding; AnswerEnds[i] ends answer i.
	Answers    []byte
	AnswerEnds []uint32
	// Codec names the encoding of Answers, so that a store writing these
	// columns again copies answers it can read and re-encodes others.
	Codec string
	// DecodeAnswer fills a's hash, figures, allocations and governance
	// from one answer's bytes (the id and op come from their columns). It
	// must not keep b's memory in a beyond what it copies.
	DecodeAnswer func(b []byte, a *Answer) error `msgpack:"-"`
}

// Len is the number of records, evicted ones (before First) included.
func (c *IDColumns) Len() int { return len(c.IDEnds) }

// Live is the number of records from First on (none without columns).
func (c *IDColumns) Live() int {
	if c == nil {
		return 0
	}
	return c.Len() - c.First
}

// id returns record i's id. It points into IDs, which never change.
func (c *IDColumns) id(i int) string {
	start := uint32(0)
	if i > 0 {
		start = c.IDEnds[i-1]
	}
	n := int(c.IDEnds[i] - start)
	if n == 0 {
		return ""
	}
	return unsafe.String(&c.IDs[start], n)
}

// answerBytes returns answer i's encoded rest.
func (c *IDColumns) answerBytes(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = c.AnswerEnds[i-1]
	}
	return c.Answers[start:c.AnswerEnds[i]]
}

// record decodes row i (Check has passed). DecodeAnswer is the store's:
// a panic in it is an error here like any other undecodable answer.
func (c *IDColumns) record(i int) (ri RecordImage, err error) {
	ri = RecordImage{At: c.At[i], Hold: c.Hold[i]}
	ri.Answer.ID, ri.Answer.Op = c.id(i), OpCode(c.Op[i])
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("remembered id %q: answer decoder panicked: %v", ri.Answer.ID, p)
		}
	}()
	if err := c.DecodeAnswer(c.answerBytes(i), &ri.Answer); err != nil {
		return RecordImage{}, fmt.Errorf("remembered id %q: %w", ri.Answer.ID, err)
	}
	return ri, nil
}

// Records returns every remembered id of img, oldest first: the columns'
// live records, then IDs. Tools, tests and a store writing the columns in
// another encoding use it; a wallet restores from the columns without it.
func (img *Image) Records() ([]RecordImage, error) {
	rows := img.IDRows()
	c := img.IDCols
	if c == nil {
		return rows.records(), nil
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	rs := make([]RecordImage, 0, c.Live()+rows.Len())
	for i := c.First; i < c.Len(); i++ {
		ri, err := c.record(i)
		if err != nil {
			return nil, err
		}
		rs = append(rs, ri)
	}
	return append(rs, rows.records()...), nil
}

// Check verifies the columns' shape, which reading any row relies on:
// column lengths, First within them, every row's ends in order and within
// its bytes. It is one sequential pass.
func (c *IDColumns) Check() error {
	n := c.Len()
	switch {
	case c.DecodeAnswer == nil:
		return errors.New("id columns without an answer decoder")
	case len(c.At) != n || len(c.Hold) != n || len(c.Op) != n || len(c.AnswerEnds) != n:
		return fmt.Errorf("id columns of %d/%d/%d/%d/%d rows", n, len(c.At), len(c.Hold), len(c.Op), len(c.AnswerEnds))
	case uint64(n) >= math.MaxUint32: // rows are indexed in 32 bits (idfrozen.go)
		return fmt.Errorf("%d id rows", n)
	case c.First < 0 || c.First > n:
		return fmt.Errorf("first live id %d of %d", c.First, n)
	case n > 0 && (int(c.IDEnds[n-1]) != len(c.IDs) || int(c.AnswerEnds[n-1]) != len(c.Answers)):
		return errors.New("id columns' ends do not match their bytes")
	}
	var idEnd, ansEnd uint32
	for i := range n {
		// Evicted rows too: id(i) and answerBytes(i) read the previous
		// row's end.
		if c.IDEnds[i] < idEnd || c.AnswerEnds[i] < ansEnd {
			return fmt.Errorf("remembered id %d: ends out of order", i)
		}
		idEnd, ansEnd = c.IDEnds[i], c.AnswerEnds[i]
	}
	return nil
}

// check verifies, beyond Check, what restoring the live rows relies on:
// valid ops and statuses, times in queue order from min. It returns the
// last live row's time (min without one). Answers' contents are checked
// when decoded (see frozenIDs.record).
func (c *IDColumns) check(min int64) (int64, error) {
	if err := c.Check(); err != nil {
		return 0, err
	}
	last := min
	for i := c.First; i < c.Len(); i++ {
		if err := checkRecord(c.id(i), opCode(c.Op[i]), c.Hold[i], c.At[i], last); err != nil {
			return 0, err
		}
		last = c.At[i]
	}
	return last, nil
}
