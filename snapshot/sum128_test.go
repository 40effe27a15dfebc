package snapshot

import (
	"math"
	"testing"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// A spent total is an int while it fits and [hi, lo] past int64; the
// reader refuses a negative int and a fitting value written as [hi, lo],
// so each total has one encoding.
func TestSum128Encoding(t *testing.T) {
	for _, s := range []actors.Sum128{{}, {Lo: math.MaxInt64}, {Lo: math.MaxInt64 + 1}, {Hi: 1}, {Hi: math.MaxUint64, Lo: math.MaxUint64}} {
		b := appendSum128(nil, s)
		r := &reader{Reader: mpack.Reader{B: b, Short: errShort}}
		if got := readSum128(r); r.Err != nil || got != s || r.Left() != 0 {
			t.Errorf("%+v: read %+v, err %v, %d bytes left", s, got, r.Err, r.Left())
		}
		if wide := s.Hi != 0 || s.Lo > math.MaxInt64; wide != (b[0] == 0x92) {
			t.Errorf("%+v written as % x", s, b)
		}
	}
	for _, b := range [][]byte{mpack.AppendInt(nil, -1), mpack.AppendUint(mpack.AppendUint(mpack.AppendArrayLen(nil, 2), 0), 7)} {
		r := &reader{Reader: mpack.Reader{B: b, Short: errShort}}
		if got := readSum128(r); r.Err == nil {
			t.Errorf("% x read as %+v, want an error", b, got)
		}
	}
}
