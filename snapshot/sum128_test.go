package snapshot

import (
	"math"
	"testing"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// A spent total is an int below 2^63-1 and [hi, lo] from there; the reader
// refuses a negative int, a value below 2^63-1 written as [hi, lo], and an
// int of 2^63-1: before Sum128 the total saturated there, so that int may
// be a cut total (the wallet is then rebuilt from its journal).
func TestSum128Encoding(t *testing.T) {
	for _, s := range []actors.Sum128{{}, {Lo: math.MaxInt64 - 1}, {Lo: math.MaxInt64}, {Lo: math.MaxInt64 + 1}, {Hi: 1}, {Hi: math.MaxUint64, Lo: math.MaxUint64}} {
		b := appendSum128(nil, s)
		r := &reader{Reader: mpack.Reader{B: b, Short: errShort}}
		if got := readSum128(r); r.Err != nil || got != s || r.Left() != 0 {
			t.Errorf("%+v: read %+v, err %v, %d bytes left", s, got, r.Err, r.Left())
		}
		if wide := s.Hi != 0 || s.Lo >= math.MaxInt64; wide != (b[0] == 0x92) {
			t.Errorf("%+v written as % x", s, b)
		}
	}
	for _, b := range [][]byte{mpack.AppendInt(nil, -1), mpack.AppendInt(nil, math.MaxInt64),
		mpack.AppendUint(mpack.AppendUint(mpack.AppendArrayLen(nil, 2), 0), 7)} {
		r := &reader{Reader: mpack.Reader{B: b, Short: errShort}}
		if got := readSum128(r); r.Err == nil {
			t.Errorf("% x read as %+v, want an error", b, got)
		}
	}
}
