package snapshot

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// Format v3 stores the remembered ids in columns (actors.IDColumns): a
// wallet at its id bound has 100,000 of them, and decoding each into a
// record, then each record into the wallet's table, was most of a cold
// activation (13 ms of 15). The wallet keeps the columns as they are,
// decoding an answer only when a request needs it.
//
//	idcols  [count, ids, answers, hold, op, padding, fixed]
//
// ids and answers are bin strings (every id, every answer rest,
// concatenated); hold and op bins of count bytes; fixed a bin of count
// little-endian uint32 id ends, count uint32 answer ends and count int64
// times, in that order. padding (a bin of 0 to 7 zero bytes) puts fixed's
// first byte at a multiple of 8 from the start of the snapshot (or
// segment) that holds the columns, so that on a little-endian machine the
// decoder uses fixed's bytes as they are. An
// answer rest is the v2 answer without its id and op:
// [hash, [n0…n7], [alloc…], governance|nil], and from format v5 on, for a
// lapsed hold's reserve with a principal or a feature, a fifth field:
// [principal, feature] (actors.Answer.Attr).
const (
	idColsFields = 7
	answerRest   = 4
	// answerCodec names the answer encoding above in actors.IDColumns.
	answerCodec = "purser-snapshot-v3"
)

// idSource returns the remembered ids an image's snapshot writes: the live
// rows of its columns, then its rows. Columns in another encoding than
// this package's come back as rows (Records checks them); ours are checked.
func idSource(img *actors.Image) (*actors.IDColumns, actors.IDRows, error) {
	c, rows := img.IDCols, img.IDRows()
	if c == nil {
		return nil, rows, nil
	}
	if c.Codec != answerCodec {
		rs, err := img.Records()
		if err != nil {
			return nil, rows, err
		}
		return nil, actors.RowsOf(rs), nil
	}
	if err := c.Check(); err != nil {
		return nil, rows, err
	}
	return c, rows, nil
}

// appendColumns writes the live rows of c (nil: none), then rows, as one
// set of id columns. b must start at its blob's first byte (padding
// depends on the offset).
func appendColumns(b []byte, c *actors.IDColumns, rows actors.IDRows) ([]byte, error) {
	if c == nil {
		c = &actors.IDColumns{}
	}
	from, to := c.First, c.Len() // c's live rows, copied as they are
	n := to - from + rows.Len()
	if uint64(n) > math.MaxUint32/16 { // the fixed-width bin counts 16 bytes a row
		return nil, fmt.Errorf("%d remembered ids", n)
	}
	b = mpack.AppendArrayLen(b, idColsFields)
	b = mpack.AppendUint(b, uint64(n))
	b, idEnds, err := appendVarColumn(b, c.IDs, c.IDEnds, from, to, rows, "ids",
		func(b []byte, a *actors.Answer) []byte { return append(b, a.ID...) })
	if err != nil {
		return nil, err
	}
	b, ansEnds, err := appendVarColumn(b, c.Answers, c.AnswerEnds, from, to, rows, "answers", appendAnswerRest)
	if err != nil {
		return nil, err
	}
	b = append(mpack.AppendBinLen(b, n), c.Hold[from:to]...)
	for i := range rows.Len() {
		b = append(b, rows.Hold(i))
	}
	b = append(mpack.AppendBinLen(b, n), c.Op[from:to]...)
	for i := range rows.Len() {
		b = append(b, uint8(rows.Answer(i).Op))
	}
	// The padding bin's 2-byte header and fixed's 5-byte one come before
	// fixed's data.
	pad := (8 - (len(b)+2+5)%8) % 8
	b = append(mpack.AppendBin8Len(b, uint8(pad)), make([]byte, pad)...)
	b = mpack.AppendBin32Len(b, uint32(16*n))
	for _, e := range idEnds {
		b = binary.LittleEndian.AppendUint32(b, e)
	}
	for _, e := range ansEnds {
		b = binary.LittleEndian.AppendUint32(b, e)
	}
	for _, at := range c.At[from:to] {
		b = binary.LittleEndian.AppendUint64(b, uint64(at))
	}
	for i := range rows.Len() {
		b = binary.LittleEndian.AppendUint64(b, uint64(rows.At(i)))
	}
	return b, nil
}

// openBin starts a bin of a length not known yet (a 32-bit header).
func openBin(b []byte) ([]byte, int) {
	b = mpack.AppendBin32Len(b, 0)
	return b, len(b)
}

// appendVarColumn writes one bin column of values of any length: rows
// [from, to) of a column that exists (data and its ends: the bytes copied,
// the ends rebased to this bin), then put's value for each of rows. It
// returns each row's end in the bin.
func appendVarColumn(b, data []byte, ends []uint32, from, to int, rows actors.IDRows, what string,
	put func([]byte, *actors.Answer) []byte) ([]byte, []uint32, error) {
	out := appendRebased(make([]uint32, 0, to-from+rows.Len()), ends, from, to, 0)
	b, lenAt := openBin(b)
	b = append(b, data[end(ends, from-1):end(ends, to-1)]...)
	for i := range rows.Len() {
		b = put(b, rows.Answer(i))
		out = append(out, uint32(len(b)-lenAt))
	}
	b, err := closeBin(b, lenAt, what)
	return b, out, err
}

// closeBin writes the length of the bin opened at lenAt.
func closeBin(b []byte, lenAt int, what string) ([]byte, error) {
	n := len(b) - lenAt
	if uint64(n) > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of remembered %s", n, what)
	}
	binary.BigEndian.PutUint32(b[lenAt-4:], uint32(n))
	return b, nil
}

// end returns ends[i], or 0 for i < 0.
func end(ends []uint32, i int) uint32 {
	if i < 0 {
		return 0
	}
	return ends[i]
}

func appendAnswerRest(b []byte, a *actors.Answer) []byte {
	if a.Attr == nil {
		return appendAnswerTail(mpack.AppendArrayLen(b, answerRest), a)
	}
	b = appendAnswerTail(mpack.AppendArrayLen(b, answerRest+1), a)
	b = mpack.AppendArrayLen(b, 2)
	return mpack.AppendStr(mpack.AppendStr(b, a.Attr.Principal), a.Attr.Feature)
}

// readIDCols decodes the columns, sharing the body's bytes (a body is
// never written to once decoded): on a little-endian machine, with the
// body where the encoder meant it (8-aligned), no column is copied.
func readIDCols(r *reader) *actors.IDColumns {
	if !r.fields(idColsFields, "id columns") {
		return nil
	}
	// A row takes at least 20 bytes of columns: n is bounded by the body
	// (and each column's length is checked against it).
	n := int(r.small(uint64(r.Left()/20), "remembered ids"))
	c := &actors.IDColumns{Codec: answerCodec, DecodeAnswer: decodeAnswerRest}
	c.IDs = r.bin("ids", -1)
	c.Answers = r.bin("answers", -1)
	c.Hold = r.bin("hold statuses", n)
	c.Op = r.bin("ops", n)
	if pad := r.bin("padding", -1); len(pad) > 7 {
		r.Failf("padding of %d bytes", len(pad))
	}
	fixed := r.bin("ends and times", 16*n)
	if r.Err != nil {
		return nil
	}
	// The restored wallet keeps its columns for as long as it keeps old ids.
	finishColumns(c, fixed, n, len(r.B))
	return c
}

// finishColumns sets c's fixed-width columns (n rows) from fixed. c's byte
// columns and fixed are views of a snapshot of whole bytes, which whoever
// keeps c keeps alive: when they are the lesser part of it (a wallet with
// many open holds) they are copied out first, so that the rest can go.
func finishColumns(c *actors.IDColumns, fixed []byte, n, whole int) {
	if cols := len(c.IDs) + len(c.Answers) + len(c.Hold) + len(c.Op) + len(fixed); 2*cols < whole {
		fixed = ownColumns(c, fixed)
	}
	c.IDEnds, c.AnswerEnds, c.At = column(fixed[:4*n], u32), column(fixed[4*n:8*n], u32), column(fixed[8*n:], i64)
}

// ownColumns copies c's byte columns and fixed into one allocation, fixed
// first at an 8-aligned start, and returns fixed's copy.
func ownColumns(c *actors.IDColumns, fixed []byte) []byte {
	total := len(fixed) + len(c.IDs) + len(c.Answers) + len(c.Hold) + len(c.Op)
	words := make([]uint64, (total+7)/8) // 8-aligned
	buf := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*8)[:0:total]
	take := func(p []byte) []byte {
		off := len(buf)
		buf = append(buf, p...)
		return buf[off:len(buf):len(buf)]
	}
	fixed = take(fixed)
	c.IDs, c.Answers, c.Hold, c.Op = take(c.IDs), take(c.Answers), take(c.Hold), take(c.Op)
	return fixed
}

// column returns a little-endian column as a slice: the bytes themselves
// on a little-endian machine when they are aligned, a copy otherwise.
func column[T uint32 | int64](p []byte, get func([]byte) T) []T {
	size := int(unsafe.Sizeof(*new(T)))
	if len(p) == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&p[0]))%uintptr(size) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(&p[0])), len(p)/size)
	}
	v := make([]T, len(p)/size)
	for i := range v {
		v[i] = get(p[size*i:])
	}
	return v
}

func u32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func i64(b []byte) int64  { return int64(binary.LittleEndian.Uint64(b)) }

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// bin reads a bin string of want bytes (any length: -1), as a slice of the
// body.
func (r *reader) bin(what string, want int) []byte {
	c := r.Byte()
	if r.Err != nil {
		return nil
	}
	n, ok := r.BinLen(c)
	switch {
	case !ok:
		r.Failf("%s: not a bin (0x%02x)", what, c)
		return nil
	case want >= 0 && n != uint64(want):
		r.Failf("%s: %d bytes, want %d", what, n, want)
		return nil
	}
	return r.Next(int(n))
}

// decodeAnswerRest is the columns' DecodeAnswer.
func decodeAnswerRest(b []byte, a *actors.Answer) error {
	r := &reader{Reader: mpack.Reader{B: b, Short: errShort}, version: Version}
	// Columns do not say their format's version, so a rest of either
	// length reads; only v5 and later write the fifth field.
	switch n := r.arrayLen(1, "answer"); {
	case r.Err != nil:
	case n != answerRest && n != answerRest+1:
		r.Failf("answer: %d fields, want %d or %d", n, answerRest, answerRest+1)
	default:
		readAnswerTail(r, a, true)
		if n > answerRest && r.fields(2, "attribution") {
			a.Attr = &actors.Attribution{Principal: r.str(), Feature: r.str()}
		}
	}
	if r.Err == nil && r.Left() != 0 {
		r.Failf("%d bytes after the answer", r.Left())
	}
	return r.Err
}
