package mpack

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

var errShort = errors.New("short")

// Every form, at the edges of each width, is what msgpack/v5 writes with
// compact ints: the journal's bytes depend on it.
func TestAppendWritesWhatTheLibraryWrites(t *testing.T) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	same := func(what string, got []byte, encode func() error) {
		t.Helper()
		buf.Reset()
		if err := encode(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%s: wrote %x, the library %x", what, got, buf.Bytes())
		}
	}
	ints := []int64{0, 1, 31, 32, 127, 128, 255, 256, math.MaxUint16, math.MaxUint16 + 1, math.MaxUint32,
		math.MaxUint32 + 1, math.MaxInt64, -1, -32, -33, math.MinInt8, math.MinInt8 - 1, math.MinInt16,
		math.MinInt16 - 1, math.MinInt32, math.MinInt32 - 1, math.MinInt64}
	for _, v := range ints {
		same("int", AppendInt(nil, v), func() error { return enc.EncodeInt(v) })
		if v >= 0 {
			same("uint", AppendUint(nil, uint64(v)), func() error { return enc.EncodeUint(uint64(v)) })
		}
	}
	same("uint max", AppendUint(nil, math.MaxUint64), func() error { return enc.EncodeUint(math.MaxUint64) })
	for _, n := range []int{0, 1, 15, 16, 31, 32, 255, 256, math.MaxUint16, math.MaxUint16 + 1} {
		same("array", AppendArrayLen(nil, n), func() error { return enc.EncodeArrayLen(n) })
		same("map", AppendMapLen(nil, n), func() error { return enc.EncodeMapLen(n) })
		same("bin", AppendBinLen(nil, n), func() error { return enc.EncodeBytesLen(n) })
		s := strings.Repeat("x", n)
		same("str", AppendStr(nil, s), func() error { return enc.EncodeString(s) })
	}
	// The fixed-width headers read back as bins of their length, whatever
	// the width the library would choose.
	for _, n := range []uint32{0, 7, 255, 256, math.MaxUint32} {
		b := AppendBin32Len(nil, n)
		if n <= math.MaxUint8 {
			b8 := AppendBin8Len(nil, uint8(n))
			r := Reader{B: b8, Short: errShort}
			if got, ok := r.BinLen(r.Byte()); !ok || got != uint64(n) || r.Left() != 0 {
				t.Errorf("bin8 %d: read %d %v, %d left", n, got, ok, r.Left())
			}
		}
		r := Reader{B: b, Short: errShort}
		if got, ok := r.BinLen(r.Byte()); !ok || got != uint64(n) || r.Left() != 0 || len(b) != 5 {
			t.Errorf("bin32 %d: %x read %d %v, %d left", n, b, got, ok, r.Left())
		}
	}
	for _, v := range []bool{false, true} {
		same("bool", AppendBool(nil, v), func() error { return enc.EncodeBool(v) })
	}
}
