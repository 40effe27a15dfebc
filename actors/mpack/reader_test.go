package mpack

import (
	"errors"
	"strings"
	"testing"
)

func TestReaderReadsBigEndianInOrder(t *testing.T) {
	r := Reader{B: []byte{
		0x01,
		0x02, 0x03,
		0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0x10, 0x11, 0x12,
	}, Short: errors.New("short")}
	if c := r.Byte(); c != 0x01 {
		t.Errorf("Byte = %#x, want 0x01", c)
	}
	if v := r.U16(); v != 0x0203 {
		t.Errorf("U16 = %#x, want 0x0203", v)
	}
	if v := r.U32(); v != 0x04050607 {
		t.Errorf("U32 = %#x, want 0x04050607", v)
	}
	if v := r.U64(); v != 0x08090a0b0c0d0e0f {
		t.Errorf("U64 = %#x, want 0x08090a0b0c0d0e0f", v)
	}
	if n := r.Left(); n != 3 {
		t.Errorf("Left = %d, want 3", n)
	}
	p := r.Next(2)
	if string(p) != "\x10\x11" || cap(p) != 2 {
		t.Errorf("Next(2) = %x (cap %d), want 1011 (cap 2)", p, cap(p))
	}
	if _ = append(p, 0xff); r.B[r.Off] != 0x12 {
		t.Error("an append to Next's slice overwrote the next byte")
	}
	if r.Err != nil || r.Left() != 1 {
		t.Errorf("Err = %v, Left = %d; want nil, 1", r.Err, r.Left())
	}
}

// A read past the end fails with Short and does not move; the first error
// sticks, and every read after it returns a zero value.
func TestReaderShortReadSticks(t *testing.T) {
	short := errors.New("short")
	for _, tc := range []struct {
		name string
		have int // bytes in the input: one fewer than the read takes
		read func(*Reader) uint64
	}{
		{"Byte", 0, func(r *Reader) uint64 { return uint64(r.Byte()) }},
		{"U16", 1, (*Reader).U16},
		{"U32", 3, (*Reader).U32},
		{"U64", 7, (*Reader).U64},
		{"Next", 1, func(r *Reader) uint64 { return uint64(len(r.Next(2))) }},
		{"Next(-1)", 1, func(r *Reader) uint64 { return uint64(len(r.Next(-1))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Reader{B: make([]byte, tc.have), Short: short}
			for i := range r.B {
				r.B[i] = 0xff
			}
			if v := tc.read(&r); v != 0 || !errors.Is(r.Err, short) || r.Off != 0 {
				t.Fatalf("read = %d, Err = %v, Off = %d; want 0, Short, 0", v, r.Err, r.Off)
			}
			r.B = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
			if c, v16, v32, v64, p := r.Byte(), r.U16(), r.U32(), r.U64(), r.Next(0); c != 0 || v16 != 0 || v32 != 0 || v64 != 0 || p != nil {
				t.Errorf("after an error: %d %d %d %d %v, want zeros and nil", c, v16, v32, v64, p)
			}
			if r.Off != 0 {
				t.Errorf("reads after an error moved Off to %d", r.Off)
			}
			r.Fail(errors.New("later"))
			r.Failf("later %d", 2)
			if r.Err != short {
				t.Errorf("Err = %v, want the first error to stick", r.Err)
			}
		})
	}
}

// StrLen and BinLen read every width of their headers, as the library
// writes them, and refuse the other kind's codes without reading on.
func TestStrLenAndBinLen(t *testing.T) {
	for _, n := range []int{0, 31, 32, 255, 256, 65535, 65536} {
		for _, kind := range []string{"str", "bin"} {
			var b []byte
			if kind == "str" {
				b = AppendStr(nil, strings.Repeat("x", n))
				b = b[:len(b)-n] // the header alone
			} else {
				b = AppendBinLen(nil, n)
			}
			r := &Reader{B: b, Short: errors.New("short")}
			c := r.Byte()
			got, ok := r.StrLen(c)
			other, otherOK := r.BinLen(c)
			if kind == "bin" {
				got, ok, other, otherOK = other, otherOK, got, ok
			}
			if !ok || got != uint64(n) || otherOK || other != 0 || r.Err != nil || r.Left() != 0 {
				t.Fatalf("%s of %d (% x): %d %v, other kind %d %v, err %v, %d left", kind, n, b, got, ok, other, otherOK, r.Err, r.Left())
			}
		}
	}
}
