package mpack

import (
	"encoding/binary"
	"fmt"
)

// Reader is the byte cursor under the hand-written msgpack decoders of
// journal batches (actors) and of snapshots (snapshot), which embed it and
// add their formats' reads on top.
//
// The first error sticks: every later read returns zero values. Both
// decoders read a whole structure straight through and check Err once at
// its end, rather than after every value; a read past the end fails with
// Short, so each decoder keeps its own error for a truncated input.
//
// Byte, Next and the fixed-width reads are small enough to inline into
// the decoders' loops; keep them so. StrLen and BinLen are not (a call
// each).
type Reader struct {
	B   []byte // the input
	Off int    // the offset of the next byte to read
	Err error  // the first error, or nil
	// Short is the error a read past the end of B fails with. It must be
	// set: a nil Short records nothing, and reads past the end return
	// zeros. (Defaulting it would cost Fail the few inliner points that
	// keep U16, U32 and U64 inlined into the decoders: measured with
	// -gcflags=-m, 85–86 against a budget of 80.)
	Short error
}

// Fail records err unless an error is already recorded.
func (r *Reader) Fail(err error) {
	if r.Err == nil {
		r.Err = err
	}
}

// Failf records a formatted error unless an error is already recorded.
func (r *Reader) Failf(format string, args ...any) { r.Fail(fmt.Errorf(format, args...)) }

// Left returns the number of bytes not yet read.
func (r *Reader) Left() int { return len(r.B) - r.Off }

// Next reads n bytes. The slice's capacity is n, so an append to it never
// runs into the bytes that follow. After an error, or for n < 0 or more than
// is left (which fails with Short), it returns nil.
func (r *Reader) Next(n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || n > r.Left() {
		r.Fail(r.Short)
		return nil
	}
	p := r.B[r.Off : r.Off+n : r.Off+n]
	r.Off += n
	return p
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err == nil && r.Off < len(r.B) {
		c := r.B[r.Off]
		r.Off++
		return c
	}
	r.Fail(r.Short)
	return 0
}

// U16 reads a big-endian uint16.
func (r *Reader) U16() uint64 {
	if p := r.Next(2); p != nil {
		return uint64(binary.BigEndian.Uint16(p))
	}
	return 0
}

// U32 reads a big-endian uint32.
func (r *Reader) U32() uint64 {
	if p := r.Next(4); p != nil {
		return uint64(binary.BigEndian.Uint32(p))
	}
	return 0
}

// U64 reads a big-endian uint64.
func (r *Reader) U64() uint64 {
	if p := r.Next(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// StrLen reads the rest of a str header whose first byte c was read
// (fixstr, str 8, 16 or 32) and returns the length it gives; ok is false,
// and nothing more is read, when c starts no str.
func (r *Reader) StrLen(c byte) (n uint64, ok bool) {
	switch {
	case c&0xe0 == 0xa0:
		return uint64(c & 0x1f), true
	case c == 0xd9:
		return uint64(r.Byte()), true
	case c == 0xda:
		return r.U16(), true
	case c == 0xdb:
		return r.U32(), true
	}
	return 0, false
}

// BinLen is StrLen for a bin header (bin 8, 16 or 32).
func (r *Reader) BinLen(c byte) (n uint64, ok bool) {
	switch c {
	case 0xc4:
		return uint64(r.Byte()), true
	case 0xc5:
		return r.U16(), true
	case 0xc6:
		return r.U32(), true
	}
	return 0, false
}
