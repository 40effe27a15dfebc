package snapshot

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/purser-dev/purser/actors"
)

// Format v3 stores the remembered ids in columns (actors.IDColumns): a
// wallet at its id bound has 100,000 of them, and decoding each into a
// record, then each record into the wallet's table, was most of a cold
// activation (13 ms of 15). Columns decode with a few copies, and the
// wallet keeps them as they are, decoding an answer only when a request
// needs it.
//
//	idcols  [count, ids, idEnds, at, hold, op, answers, answerEnds]
//
// ids and answers are bin strings (every id, every answer rest,
// concatenated); idEnds and answerEnds are bins of count little-endian
// uint32 (where each row ends), at a bin of count little-endian int64,
// hold and op bins of count bytes. An answer rest is the v2 answer without
// its id and op: [hash, [n0…n7], [alloc…], governance|nil].
const (
	idColsFields = 8
	answerRest   = 4
	// answerCodec names the answer encoding above in actors.IDColumns.
	answerCodec = "purser-snapshot-v3"
)

func appendIDCols(b []byte, img *actors.Image) ([]byte, error) {
	c := img.IDCols
	ids := img.IDs
	if c != nil {
		if err := c.Check(); err != nil {
			return nil, err
		}
		if c.Codec != answerCodec {
			// Another encoding's answers: write every row from records.
			rs, err := img.Records()
			if err != nil {
				return nil, err
			}
			c, ids = nil, rs
		}
	}
	n, first := len(ids), 0
	if c != nil {
		n, first = n+c.Live(), c.First
	}
	b = appendArrayLen(b, idColsFields)
	b = appendUint(b, uint64(n))
	// Each column is one bin; the fixed-width ones are written in place.
	var idBytes int
	for i := range ids {
		idBytes += len(ids[i].Answer.ID)
	}
	if c != nil && c.Live() > 0 {
		idBytes += len(c.IDs) - int(end(c.IDEnds, first-1))
	}
	if idBytes > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of remembered ids", idBytes)
	}
	b = appendBinLen(b, idBytes)
	if c != nil && c.Live() > 0 {
		b = append(b, c.IDs[end(c.IDEnds, first-1):]...)
	}
	for i := range ids {
		b = append(b, ids[i].Answer.ID...)
	}
	b = appendBinLen(b, 4*n)
	var off uint32
	if c != nil {
		base := end(c.IDEnds, first-1)
		for i := first; i < c.Len(); i++ {
			b = binary.LittleEndian.AppendUint32(b, c.IDEnds[i]-base)
		}
		off = uint32(len(c.IDs)) - base
	}
	for i := range ids {
		off += uint32(len(ids[i].Answer.ID))
		b = binary.LittleEndian.AppendUint32(b, off)
	}
	b = appendBinLen(b, 8*n)
	if c != nil {
		for _, at := range c.At[first:] {
			b = binary.LittleEndian.AppendUint64(b, uint64(at))
		}
	}
	for i := range ids {
		b = binary.LittleEndian.AppendUint64(b, uint64(ids[i].At))
	}
	b = appendBinLen(b, n)
	if c != nil {
		b = append(b, c.Hold[first:]...)
	}
	for i := range ids {
		b = append(b, ids[i].Hold)
	}
	b = appendBinLen(b, n)
	if c != nil {
		b = append(b, c.Op[first:]...)
	}
	for i := range ids {
		b = append(b, uint8(ids[i].Answer.Op))
	}
	// Answers are variable: written after a 32-bit bin header patched
	// once their length is known, their ends kept aside meanwhile.
	ends := make([]uint32, 0, n)
	b = append(b, 0xc6, 0, 0, 0, 0)
	lenAt := len(b)
	if c != nil && c.Live() > 0 {
		base := end(c.AnswerEnds, first-1)
		b = append(b, c.Answers[base:]...)
		for _, e := range c.AnswerEnds[first:] {
			ends = append(ends, e-base)
		}
	}
	for i := range ids {
		b = appendAnswerRest(b, &ids[i].Answer)
		ends = append(ends, uint32(len(b)-lenAt))
	}
	if len(b)-lenAt > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of remembered answers", len(b)-lenAt)
	}
	binary.BigEndian.PutUint32(b[lenAt-4:], uint32(len(b)-lenAt))
	b = appendBinLen(b, 4*n)
	for _, e := range ends {
		b = binary.LittleEndian.AppendUint32(b, e)
	}
	return b, nil
}

// end returns ends[i], or 0 for i < 0.
func end(ends []uint32, i int) uint32 {
	if i < 0 {
		return 0
	}
	return ends[i]
}

func appendBinLen(b []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
}

func appendAnswerRest(b []byte, a *actors.Answer) []byte {
	b = appendArrayLen(b, answerRest)
	b = appendUint(b, a.Hash)
	b = appendArrayLen(b, answerN)
	for _, v := range a.N {
		b = appendInt(b, v)
	}
	b = appendAllocs(b, a.Allocs)
	return appendGovernance(b, a.Gov)
}

// readIDCols decodes the columns, sharing the body's bytes for the ids,
// answers, statuses and ops (a body is never written to once decoded).
func readIDCols(r *reader) *actors.IDColumns {
	if !r.fields(idColsFields, "id columns") {
		return nil
	}
	// A row takes at least 20 bytes of columns: n is bounded by the body
	// (and each column's length is checked against it before allocating).
	n := int(r.small(uint64(r.left()/20), "remembered ids"))
	c := &actors.IDColumns{Codec: answerCodec, DecodeAnswer: decodeAnswerRest}
	c.IDs = r.bin("ids", -1)
	c.IDEnds = u32s(r.bin("id ends", 4*n))
	c.At = i64s(r.bin("times", 8*n))
	c.Hold = r.bin("hold statuses", n)
	c.Op = r.bin("ops", n)
	c.Answers = r.bin("answers", -1)
	c.AnswerEnds = u32s(r.bin("answer ends", 4*n))
	if r.err != nil {
		return nil
	}
	return c
}

// u32s and i64s copy a little-endian column out of the body: one memmove
// on a little-endian machine (100,000 rows: 20 µs instead of 200).
func u32s(p []byte) []uint32 {
	v := make([]uint32, len(p)/4)
	if littleEndian && len(v) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(p)), p)
		return v
	}
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(p[4*i:])
	}
	return v
}

func i64s(p []byte) []int64 {
	v := make([]int64, len(p)/8)
	if littleEndian && len(v) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(p)), p)
		return v
	}
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(p[8*i:]))
	}
	return v
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// bin reads a bin string of want bytes (any length: -1), as a slice of the
// body.
func (r *reader) bin(what string, want int) []byte {
	c := r.byte1()
	var n uint64
	switch {
	case r.err != nil:
		return nil
	case c == 0xc4:
		n = uint64(r.byte1())
	case c == 0xc5:
		n = r.u16()
	case c == 0xc6:
		n = r.u32()
	default:
		r.failf("%s: not a bin (0x%02x)", what, c)
		return nil
	}
	if want >= 0 && n != uint64(want) {
		r.failf("%s: %d bytes, want %d", what, n, want)
		return nil
	}
	if n > uint64(r.left()) {
		r.fail(errShort)
		return nil
	}
	return r.next(int(n))
}

// decodeAnswerRest is the columns' DecodeAnswer.
func decodeAnswerRest(b []byte, a *actors.Answer) error {
	r := &reader{b: b, version: Version}
	if r.fields(answerRest, "answer") {
		a.Hash = r.uint()
		if r.fields(answerN, "answer figures") {
			for i := range a.N {
				a.N[i] = r.int()
			}
		}
		a.Allocs = readAllocs(r)
		a.Gov = readGovernance(r)
	}
	if r.err == nil && r.left() != 0 {
		r.failf("%d bytes after the answer", r.left())
	}
	return r.err
}
