// Package mpack appends msgpack values in their shortest encodings. The
// hand-written encoders of journal batches (actors) and of snapshots
// (snapshot) share it: the journal's bytes must be exactly those msgpack/v5
// writes with compact ints, and both formats are read by any msgpack
// library.
package mpack

import (
	"encoding/binary"
	"math"
)

// AppendArrayLen writes an array header for n elements.
func AppendArrayLen(b []byte, n int) []byte { return appendLen(b, n, 0x90, 0xdc, 0xdd) }

// AppendMapLen writes a map header for n pairs.
func AppendMapLen(b []byte, n int) []byte { return appendLen(b, n, 0x80, 0xde, 0xdf) }

// appendLen writes an array or map header: fix|n, or a 16- or 32-bit length.
func appendLen(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

// AppendBinLen writes a bin header for n bytes to follow.
func AppendBinLen(b []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return AppendBin8Len(b, uint8(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	}
	return AppendBin32Len(b, uint32(n))
}

// AppendBin8Len and AppendBin32Len write a bin header of a fixed width
// (2 and 5 bytes) whatever n, for a writer whose layout depends on the
// header's size (padding) or that patches the length in later.
func AppendBin8Len(b []byte, n uint8) []byte { return append(b, 0xc4, n) }

func AppendBin32Len(b []byte, n uint32) []byte {
	return binary.BigEndian.AppendUint32(append(b, 0xc6), n)
}

// AppendUint writes v in the fewest bytes.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= math.MaxInt8:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

// AppendInt writes v in the fewest bytes: unsigned forms when v >= 0, as
// msgpack/v5 does with compact ints.
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return AppendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// AppendBool writes v.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendStr writes s as a str.
func AppendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}
