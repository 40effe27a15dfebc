package snapshot

import (
	"errors"
	"math"
	"unsafe"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// The body is plain msgpack (any msgpack library reads it), written and read
// here by hand rather than by reflection: a snapshot holds up to a million
// holds, so per-value cost matters, and a hostile length must be checked
// against the bytes that remain before anything is allocated (reflection
// decoders size slices from the length alone).

var errShort = errors.New("body ends inside a value")

// reader decodes a body's msgpack on mpack.Reader's cursor: the first error
// sticks, every later read returns zero values, so decoding code reads
// straight through and checks Err once per structure.
type reader struct {
	mpack.Reader
	version uint16 // the body's format version: fields added by v2 are read only from v2

	// A wallet at its id bound has 100,000 remembered ids, each with an id
	// string and, for a settle, allocations naming a grant: one allocation
	// each would be most of a decode. Ids are cut from shared chunks,
	// allocation lists from shared arrays, and grant names interned.
	idChunk    []byte
	allocChunk []actors.Allocation
	names      map[string]string
}

// length reads an array (map: pairs) header. Each element takes at least
// minBytes, so a length the remaining bytes cannot hold is refused before
// the caller allocates for it.
func (r *reader) length(fix, b16, b32 byte, minBytes int, what string) int {
	c := r.Byte()
	var n uint64
	switch {
	case c&0xf0 == fix:
		n = uint64(c & 0x0f)
	case c == b16:
		n = r.U16()
	case c == b32:
		n = r.U32()
	default:
		r.Failf("%s: not an array or map (0x%02x)", what, c)
		return 0
	}
	if r.Err == nil && n > uint64(r.Left()/minBytes) {
		r.Failf("%s: %d elements cannot fit in %d bytes", what, n, r.Left())
		return 0
	}
	return int(n)
}

func (r *reader) arrayLen(minBytes int, what string) int {
	return r.length(0x90, 0xdc, 0xdd, minBytes, what)
}

// fields reads a fixed-size array header: a record of n fields.
func (r *reader) fields(n int, what string) bool {
	if got := r.arrayLen(1, what); r.Err == nil && got != n {
		r.Failf("%s: %d fields, want %d", what, got, n)
	}
	return r.Err == nil
}

func (r *reader) isNil() bool {
	if r.Err == nil && r.Off < len(r.B) && r.B[r.Off] == 0xc0 {
		r.Off++
		return true
	}
	return false
}

func (r *reader) uint() uint64 {
	c := r.Byte()
	switch {
	case r.Err != nil:
		return 0
	case c < 0x80:
		return uint64(c)
	case c == 0xcc:
		return uint64(r.Byte())
	case c == 0xcd:
		return r.U16()
	case c == 0xce:
		return r.U32()
	case c == 0xcf:
		return r.U64()
	}
	if v := r.signed(c); r.Err == nil {
		if v >= 0 {
			return uint64(v)
		}
		r.Failf("negative value %d where an unsigned one belongs", v)
	}
	return 0
}

func (r *reader) int() int64 {
	c := r.Byte()
	switch {
	case r.Err != nil:
		return 0
	case c < 0x80:
		return int64(c)
	case c == 0xcc, c == 0xcd, c == 0xce, c == 0xcf:
		r.Off--
		v := r.uint()
		if v > math.MaxInt64 {
			r.Failf("value %d overflows int64", v)
			return 0
		}
		return int64(v)
	}
	return r.signed(c)
}

func (r *reader) signed(c byte) int64 {
	switch {
	case c >= 0xe0:
		return int64(int8(c))
	case c == 0xd0:
		return int64(int8(r.Byte()))
	case c == 0xd1:
		return int64(int16(r.U16()))
	case c == 0xd2:
		return int64(int32(r.U32()))
	case c == 0xd3:
		return int64(r.U64())
	}
	r.Failf("not an integer (0x%02x)", c)
	return 0
}

// small reads an integer that must fit in [0, limit].
func (r *reader) small(limit uint64, what string) uint64 {
	v := r.uint()
	if v > limit {
		r.Failf("%s: %d out of range", what, v)
		return 0
	}
	return v
}

func (r *reader) bool() bool {
	switch c := r.Byte(); {
	case r.Err != nil:
	case c == 0xc3:
		return true
	case c != 0xc2:
		r.Failf("not a bool (0x%02x)", c)
	}
	return false
}

func (r *reader) str() string { return string(r.strBytes()) }

// idStr reads a request id into the shared id chunks. The chunk bytes are
// never written again once a string covers them; a chunk is freed when the
// last id cut from it is (ids leave the table oldest first, as they were
// cut).
func (r *reader) idStr() string {
	b := r.strBytes()
	if len(b) == 0 {
		return ""
	}
	if cap(r.idChunk)-len(r.idChunk) < len(b) {
		// What is left of the body bounds the ids still to come: a small
		// snapshot gets a small chunk.
		r.idChunk = make([]byte, 0, max(min(idChunkBytes, len(b)+r.Left()), len(b)))
	}
	off := len(r.idChunk)
	r.idChunk = append(r.idChunk, b...)
	return unsafe.String(&r.idChunk[off], len(b))
}

const idChunkBytes = 32 << 10

// name reads a grant id, interned: allocations name the few grants of a
// wallet over and over.
func (r *reader) name() string {
	b := r.strBytes()
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	if r.names == nil {
		r.names = make(map[string]string)
	}
	s := string(b)
	if len(r.names) < maxInterned {
		r.names[s] = s
	}
	return s
}

const maxInterned = 4096

// allocs returns a list of n allocations cut from a shared array (its
// capacity is n: an append copies).
func (r *reader) allocs(n int) []actors.Allocation {
	if cap(r.allocChunk)-len(r.allocChunk) < n {
		r.allocChunk = make([]actors.Allocation, 0, max(min(allocChunkLen, n+r.Left()/minAlloc), n))
	}
	off := len(r.allocChunk)
	r.allocChunk = r.allocChunk[:off+n]
	return r.allocChunk[off : off+n : off+n]
}

const allocChunkLen = 512

func (r *reader) strBytes() []byte {
	c := r.Byte()
	if r.Err != nil {
		return nil
	}
	n, ok := r.StrLen(c)
	if !ok {
		r.Failf("not a string (0x%02x)", c)
		return nil
	}
	return r.Next(int(n))
}
