package actors

import (
	"errors"

	"github.com/purser-dev/purser/actors/mpack"
)

// The decoder reads what msgpack/v5's reflective decoder reads into the
// event structs, and gives the same values: journals written by any
// version of the encoder must replay to the same wallet, and
// FuzzDecodeEvents holds the two decoders to each other on arbitrary bytes.
// So it follows the library where a hand-written reader would be stricter:
//
//   - a struct is a map by key, in any order, unknown keys skipped, a
//     repeated key decoded again over the value the first one left (lists
//     and maps merge); or nil or an empty array (the zero value); or an
//     array of exactly its fields in order. "Head" is a key too: the
//     embedded struct whose fields are inlined;
//   - nil is a zero for integers, bools and strings, keeps a fixed array
//     (Answer.N) as it is, and makes a list, map or pointer nil;
//   - integers of any width and signedness convert as Go conversions do;
//     strings may be str or bin; a map length may follow an ext header.
//
// Where it departs from the library is allocation: every length is checked
// against the bytes left before anything is allocated for it (each element
// takes at least one byte), where the library sizes a list from the length
// alone, and skipping is iterative rather than recursive.

var errShortBatch = errors.New("batch ends inside a value")

// evReader reads a batch as described above, on mpack.Reader's cursor: the
// first error sticks, so decoding code reads straight through and the batch
// loop checks Err once per event.
type evReader struct {
	mpack.Reader

	recent [16]string // see str
}

func (r *evReader) peekNil() bool {
	return r.Err == nil && r.Off < len(r.B) && r.B[r.Off] == 0xc0
}

// int reads any integer (or nil, 0) into an int64; a uint64 above
// MaxInt64 wraps, as the library's does.
func (r *evReader) int() int64 {
	c := r.Byte()
	switch {
	case r.Err != nil:
		return 0
	case c <= 0x7f || c >= 0xe0:
		return int64(int8(c))
	}
	switch c {
	case 0xc0:
		return 0
	case 0xcc:
		return int64(r.Byte())
	case 0xcd:
		return int64(r.U16())
	case 0xce:
		return int64(r.U32())
	case 0xcf, 0xd3:
		return int64(r.U64())
	case 0xd0:
		return int64(int8(r.Byte()))
	case 0xd1:
		return int64(int16(r.U16()))
	case 0xd2:
		return int64(int32(r.U32()))
	}
	r.Failf("invalid code 0x%02x for an integer", c)
	return 0
}

// uint reads any integer (or nil, 0) into a uint64; a negative one wraps.
func (r *evReader) uint() uint64 { return uint64(r.int()) }

func (r *evReader) bool() bool {
	switch c := r.Byte(); {
	case r.Err != nil, c == 0xc0, c == 0xc2:
	case c == 0xc3:
		return true
	default:
		r.Failf("invalid code 0x%02x for a bool", c)
	}
	return false
}

// strBytes reads a str or bin (nil: empty) in place.
func (r *evReader) strBytes() []byte {
	c := r.Byte()
	if r.Err != nil || c == 0xc0 {
		return nil
	}
	n, ok := r.StrLen(c)
	if !ok {
		n, ok = r.BinLen(c)
	}
	if !ok {
		r.Failf("invalid code 0x%02x for a string", c)
		return nil
	}
	return r.Next(int(n))
}

// str reads a string, reusing a recent one with the same bytes: ids,
// grant names, principals and features recur from event to event of a
// batch (a hold's id in its HoldPlaced, its Answer and its Settled). The
// cache is direct-mapped, by length and last byte: one comparison a string.
func (r *evReader) str() string {
	b := r.strBytes()
	if len(b) == 0 {
		return ""
	}
	slot := &r.recent[(len(b)*7+int(b[len(b)-1]))%len(r.recent)]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

// length reads an array (per = 1) or map (per = 2) header; nil is -1. The
// elements of n take at least n*per bytes: a longer n is refused here,
// before anyone allocates for it.
func (r *evReader) length(c byte, per int) int {
	var n uint64
	switch {
	case c == 0xc0:
		return -1
	case per == 1 && c&0xf0 == 0x90, per == 2 && c&0xf0 == 0x80:
		n = uint64(c & 0x0f)
	case per == 1 && c == 0xdc, per == 2 && c == 0xde:
		n = r.U16()
	case per == 1 && c == 0xdd, per == 2 && c == 0xdf:
		n = r.U32()
	default:
		r.Failf("invalid code 0x%02x for a length", c)
		return 0
	}
	if r.Err == nil && n*uint64(per) > uint64(r.Left()) {
		r.Failf("%d elements cannot fit in %d bytes", n, r.Left())
	}
	if r.Err != nil {
		return 0
	}
	return int(n)
}

func (r *evReader) arrayLen() int { return r.length(r.Byte(), 1) }

// mapLen reads a map header, after an ext header if there is one (the
// library's DecodeMapLen skips it).
func (r *evReader) mapLen() int {
	c := r.Byte()
	if hdr, ok := extHeader(c); ok {
		r.Next(1 + hdr)
		c = r.Byte()
	}
	return r.length(c, 2)
}

// extHeader is the number of length bytes after an ext code.
func extHeader(c byte) (int, bool) {
	switch c {
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return 0, true
	case 0xc7:
		return 1, true
	case 0xc8:
		return 2, true
	case 0xc9:
		return 4, true
	}
	return 0, false
}

// skip passes over one value of any type. Values nest, but a msgpack stream
// lists them in order: counting the values still due is enough, without
// recursion (a deep nest of one-byte arrays cannot exhaust the stack).
func (r *evReader) skip() {
	for due := 1; due > 0 && r.Err == nil; due-- {
		c := r.Byte()
		switch {
		case r.Err != nil:
		case c <= 0x7f || c >= 0xe0:
		case c <= 0x8f:
			due += 2 * int(c&0x0f)
		case c <= 0x9f:
			due += int(c & 0x0f)
		case c <= 0xbf:
			r.Next(int(c & 0x1f))
		default:
			due += r.skipCoded(c)
		}
		if due-1 > r.Left() {
			r.Fail(errShortBatch)
		}
	}
}

// skipCoded skips the body of a value whose code is in 0xc0–0xdf, and
// returns how many values it contains (arrays, maps).
func (r *evReader) skipCoded(c byte) int {
	switch c {
	case 0xc0, 0xc2, 0xc3:
	case 0xcc, 0xd0:
		r.Next(1)
	case 0xcd, 0xd1:
		r.Next(2)
	case 0xca, 0xce, 0xd2:
		r.Next(4)
	case 0xcb, 0xcf, 0xd3:
		r.Next(8)
	case 0xc4, 0xd9:
		r.Next(int(r.Byte()))
	case 0xc5, 0xda:
		r.Next(int(r.U16()))
	case 0xc6, 0xdb:
		r.Next(int(r.U32()))
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		r.Next(1 + 1<<(c-0xd4))
	case 0xc7:
		r.Next(1 + int(r.Byte()))
	case 0xc8:
		r.Next(1 + int(r.U16()))
	case 0xc9:
		r.Next(1 + int(r.U32()))
	case 0xdc:
		return int(r.U16())
	case 0xdd:
		return int(r.U32())
	case 0xde:
		return 2 * int(r.U16())
	case 0xdf:
		return 2 * int(r.U32())
	default:
		r.Failf("invalid code 0x%02x", c)
	}
	return 0
}

// fieldHead is the field "Head": an event's embedded Head, decoded whole.
const fieldHead = -2

// fieldIter walks one struct's encoding: see open and field.
type fieldIter struct {
	keys  []string // the struct's tags, in field order
	head  bool     // "Head" is a key (an event)
	asMap bool
	left  int // entries or fields still to read
	pos   int // array: the next field; map: the field expected next
	zero  bool
	f     int // the current field: an index in keys, fieldHead, or -1 (unknown: skip its value)
}

// open reads a struct's header. With it.zero the caller sets the struct to
// its zero value (nil, or an empty array); otherwise it calls field until
// false and decodes field it.f each time.
func (r *evReader) open(keys []string, head bool) fieldIter {
	it := fieldIter{keys: keys, head: head}
	c := r.Byte()
	switch {
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		it.asMap = true
		it.left = r.length(c, 2)
	case r.Err != nil:
	case c == 0xc0:
		it.zero = true
	case c&0xf0 == 0x90, c == 0xdc, c == 0xdd:
		switch n := r.length(c, 1); {
		case r.Err != nil:
		case n == 0:
			it.zero = true
		case n != len(keys):
			r.Failf("an array of %d values for a struct of %d fields", n, len(keys))
		default:
			it.left = n
		}
	default:
		r.Failf("invalid code 0x%02x for a struct", c)
	}
	return it
}

func (r *evReader) field(it *fieldIter) bool {
	if it.left == 0 || r.Err != nil {
		return false
	}
	it.left--
	if !it.asMap {
		it.f = it.pos
		it.pos++
		return true
	}
	// The encoder writes keys in field order, leaving some out.
	for i := it.pos; i < len(it.keys); i++ {
		if r.expect(it.keys[i]) {
			it.f, it.pos = i, i+1
			return true
		}
	}
	k := r.strBytes()
	it.f = -1
	for i, key := range it.keys {
		if string(k) == key {
			it.f, it.pos = i, i+1
			break
		}
	}
	if it.f < 0 && it.head && string(k) == "Head" {
		it.f = fieldHead
	}
	return r.Err == nil
}

// expect reads key k if it comes next as the encoder writes it (a fixstr).
func (r *evReader) expect(k string) bool {
	end := r.Off + 1 + len(k)
	if end > len(r.B) || r.B[r.Off] != 0xa0|byte(len(k)) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if r.B[r.Off+1+i] != k[i] {
			return false
		}
	}
	r.Off = end
	return true
}

// list decodes into *s as the library decodes into a slice it may already
// hold (a repeated key): nil makes it nil, an empty array empty, and n
// values are decoded over the first n elements of its backing array, grown
// with zero elements if it is shorter. spare is the event's own backing
// (its buf) for a list that was nil, as Decide uses it.
func list[T any](r *evReader, s *[]T, spare []T, elem func(*T)) {
	n := r.arrayLen()
	cur := *s
	switch {
	case r.Err != nil:
		return
	case n < 0:
		*s = nil
		return
	case n == 0 && cur == nil:
		cur = []T{}
	case cur == nil && n <= cap(spare):
		cur = spare[:n]
		clear(cur)
	case cap(cur) >= n:
		cur = cur[:n]
	default:
		grown := make([]T, n)
		copy(grown, cur[:cap(cur)])
		cur = grown
	}
	*s = cur
	for i := range cur {
		elem(&cur[i])
	}
}
