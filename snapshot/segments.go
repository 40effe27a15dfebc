package snapshot

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// A hot wallet at its id bound remembers 100,000 ids, and each periodic
// image wrote them all again (~8 MB of its ~10) though ~90% were in the
// last image already (docs/snapshots.md). A queued id never changes but
// for its hold status, so format v4 keeps runs of queued ids in segments,
// each written once and stored beside the image, and the image refers to
// them:
//
//	ids (v4)  [head, [ref…], tail]
//	head      id columns (v3's layout, idcols.go): the ids before the
//	          segments (a restored wallet's oldest, kept in columns)
//	ref       [slot, nonce, crc, skip, hold]: rows skip … skip+len(hold)
//	          of the segment stored in slot, with their hold statuses now
//	          (a bin, one byte a row), which replace the segment's
//	tail      id columns: the ids queued after the last segment
//
// A segment is a blob of its own, sealed like a snapshot:
//
//	magic "PSEG", version 1, wallet, length, crc, body [nonce, id columns]
//
// nonce is drawn at random when the segment is written: with the body's
// CRC-32C, which the ref also names, it tells a segment from a later one
// written in the same slot. Loading joins head, the segments' rows and
// tail into one set of columns (joinColumns), and from there a restore is
// v3's. Anything missing or mismatched refuses the whole snapshot, and the
// wallet is rebuilt from its journal, as for every unusable snapshot. Which
// segments exist and which slots are free is the Store's bookkeeping
// (segstore.go).

var segmentMagic = [4]byte{'P', 'S', 'E', 'G'}

const (
	// segmentVersion is the segment format written: 2 is 1 whose answers
	// may carry an attribution (format v5). Both are read.
	segmentVersion   = 2
	segmentFields    = 2
	segmentedFields  = 3
	segmentRefFields = 5
)

// idPlan says how an image's remembered ids are written: every one in the
// image (no refs: format v3), or head, refs and tail (v4; head is the
// image's columns, tail the rows after the segments).
type idPlan struct {
	refs []segmentRef
	tail actors.IDRows
}

// rows is how many ids the plan leaves in segments.
func (p idPlan) rows() int {
	n := 0
	for _, r := range p.refs {
		n += r.rows.Len()
	}
	return n
}

// segmentRef is one ref of an image being written: rows of seg, which
// start skip rows into it; their statuses are read from rows.
type segmentRef struct {
	seg  *segment
	skip int
	rows actors.IDRows
}

// appendSegmented writes a v4 id section: c's live rows as head, then
// plan's refs and tail.
func appendSegmented(b []byte, c *actors.IDColumns, plan idPlan) ([]byte, error) {
	b = mpack.AppendArrayLen(b, segmentedFields)
	b, err := appendColumns(b, c, actors.IDRows{})
	if err != nil {
		return nil, err
	}
	b = mpack.AppendArrayLen(b, len(plan.refs))
	for _, ref := range plan.refs {
		b = mpack.AppendArrayLen(b, segmentRefFields)
		b = mpack.AppendUint(b, uint64(ref.seg.slot))
		b = mpack.AppendUint(b, ref.seg.nonce)
		b = mpack.AppendUint(b, uint64(ref.seg.crc))
		b = mpack.AppendUint(b, uint64(ref.skip))
		b = mpack.AppendBinLen(b, ref.rows.Len())
		for i := range ref.rows.Len() {
			b = append(b, ref.rows.Hold(i))
		}
	}
	return appendColumns(b, nil, plan.tail)
}

// segmentedIDs is a v4 image's id section as read: what Store.Load joins.
type segmentedIDs struct {
	head, tail *actors.IDColumns
	refs       []refImage
}

// refImage is a ref as read.
type refImage struct {
	slot  int
	nonce uint64
	crc   uint32
	skip  int
	hold  []byte
}

// maxRefs bounds the segments an image names, and so what a load fetches
// whatever an image says: a hot wallet at the default id bound has ~25,
// and 4,096 segments of 4,096 ids hold 16 million. An image with more
// queued ids holds the rest itself. Slots are allocated lowest first, so
// they stay below 2·maxRefs (the stored image's and the next one's) but
// after failed puts, whose slots are kept too; the writer never goes past
// maxSlot.
const (
	maxRefs = 4096
	maxSlot = 2 * maxRefs
)

// minRef is a ref's smallest encoding: its array header, four fixints and
// a bin of one status.
const minRef = 1 + 4 + 3

func readSegmented(r *reader) *segmentedIDs {
	if !r.fields(segmentedFields, "segmented ids") {
		return nil
	}
	sg := &segmentedIDs{head: readIDCols(r)}
	n := r.arrayLen(minRef, "segment refs")
	switch {
	case r.Err != nil:
		return nil
	case n == 0 || n > maxRefs:
		r.Failf("%d segment refs", n)
		return nil
	}
	sg.refs = make([]refImage, 0, n)
	slots := make(map[int]bool, n)
	for range n {
		if !r.fields(segmentRefFields, "segment ref") {
			return nil
		}
		ref := refImage{slot: int(r.small(maxSlot, "slot")), nonce: r.uint(),
			crc: uint32(r.small(math.MaxUint32, "crc")), skip: int(r.small(math.MaxInt32, "skip")),
			hold: r.bin("hold statuses", -1)}
		switch {
		case r.Err != nil:
			return nil
		case slots[ref.slot]:
			r.Failf("slot %d named twice", ref.slot)
			return nil
		case len(ref.hold) == 0:
			r.Failf("a ref to slot %d names no rows", ref.slot)
			return nil
		}
		slots[ref.slot] = true
		sg.refs = append(sg.refs, ref)
	}
	sg.tail = readIDCols(r)
	if r.Err != nil {
		return nil
	}
	return sg
}

// encodeSegment seals rows as a segment of wallet. It returns the blob and
// its body's CRC.
func encodeSegment(wallet string, nonce uint64, rows actors.IDRows) ([]byte, uint32, error) {
	hdr := headerFixed + len(wallet)
	b := make([]byte, hdr, hdr+64+100*rows.Len())
	b = mpack.AppendArrayLen(b, segmentFields)
	b = mpack.AppendUint(b, nonce)
	b, err := appendColumns(b, nil, rows)
	if err != nil {
		return nil, 0, err
	}
	b = seal(b, segmentMagic, segmentVersion, wallet)
	return b, crc(b[hdr:]), nil
}

// decodeSegment reads the segment ref names, checking that it is the one
// the ref was written with, and returns its columns (views of data).
func decodeSegment(data []byte, wallet string, ref refImage) (*actors.IDColumns, error) {
	h, err := unseal(data, segmentMagic, segmentVersion)
	if err != nil {
		return nil, err
	}
	body := h.body
	if h.wallet != wallet {
		return nil, fmt.Errorf("%w: segment of wallet %s", ErrCorrupt, h.wallet)
	}
	if h.sum != ref.crc { // unseal checked that sum is the body's
		return nil, fmt.Errorf("%w: segment in slot %d is not the one the snapshot names (crc)", ErrCorrupt, ref.slot)
	}
	r := &reader{Reader: mpack.Reader{B: body, Short: errShort}, version: versionColumns}
	var c *actors.IDColumns
	if r.fields(segmentFields, "segment") {
		if nonce := r.uint(); r.Err == nil && nonce != ref.nonce {
			r.Failf("segment in slot %d is not the one the snapshot names (nonce)", ref.slot)
		}
		c = readIDCols(r)
	}
	if r.Err == nil && r.Left() != 0 {
		r.Failf("%d bytes after the segment", r.Left())
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: segment in slot %d: %v", ErrCorrupt, ref.slot, r.Err)
	}
	return c, nil
}

// joinPart is rows [from, to) of c; hold, when not nil, replaces their
// statuses.
type joinPart struct {
	c        *actors.IDColumns
	from, to int
	hold     []byte
}

// joinColumns copies the parts' rows, in order, into one set of columns.
// Each part's columns must have passed Check.
func joinColumns(parts []joinPart) (*actors.IDColumns, error) {
	var n, idBytes, ansBytes uint64
	ids, answers := make([][]byte, len(parts)), make([][]byte, len(parts))
	for i, p := range parts {
		n += uint64(p.to - p.from)
		ids[i] = p.c.IDs[end(p.c.IDEnds, p.from-1):end(p.c.IDEnds, p.to-1)]
		answers[i] = p.c.Answers[end(p.c.AnswerEnds, p.from-1):end(p.c.AnswerEnds, p.to-1)]
		idBytes += uint64(len(ids[i]))
		ansBytes += uint64(len(answers[i]))
	}
	if n > math.MaxUint32/16 || idBytes > math.MaxUint32 || ansBytes > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d remembered ids of %d and %d bytes", ErrCorrupt, n, idBytes, ansBytes)
	}
	// bytes.Join allocates without zeroing first: the two byte columns are
	// most of a hot wallet's ~8 MB of ids, and zeroing them was most of a
	// join.
	out := &actors.IDColumns{Codec: answerCodec, DecodeAnswer: decodeAnswerRest,
		IDs: bytes.Join(ids, nil), IDEnds: make([]uint32, 0, n),
		Answers: bytes.Join(answers, nil), AnswerEnds: make([]uint32, 0, n),
		At: make([]int64, 0, n), Hold: make([]uint8, 0, n), Op: make([]uint8, 0, n)}
	var idOff, ansOff uint32
	for i, p := range parts {
		out.IDEnds = appendRebased(out.IDEnds, p.c.IDEnds, p.from, p.to, idOff)
		out.AnswerEnds = appendRebased(out.AnswerEnds, p.c.AnswerEnds, p.from, p.to, ansOff)
		idOff += uint32(len(ids[i]))
		ansOff += uint32(len(answers[i]))
		out.At = append(out.At, p.c.At[p.from:p.to]...)
		out.Op = append(out.Op, p.c.Op[p.from:p.to]...)
		if p.hold != nil {
			out.Hold = append(out.Hold, p.hold...)
		} else {
			out.Hold = append(out.Hold, p.c.Hold[p.from:p.to]...)
		}
	}
	return out, nil
}

// appendRebased appends the ends of rows [from, to) of a variable-width
// column to dst, rebased to a column where those rows start at off.
func appendRebased(dst, ends []uint32, from, to int, off uint32) []uint32 {
	base := end(ends, from-1)
	for _, e := range ends[from:to] {
		dst = append(dst, e-base+off)
	}
	return dst
}

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
