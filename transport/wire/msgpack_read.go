package wire

import (
	"bytes"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"github.com/purser-dev/purser/actors"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// mpSource reads one msgpack map with the library's low-level decoder:
// PeekCode tells each value's type before it is read, so a type mismatch is
// found without consuming anything and the field decides the code.
//
// Strings and keys are sliced from the body rather than read through the
// decoder: it reads straight from an io.ByteScanner without buffering
// ahead (documented on msgpack.NewDecoder), so the body offset is exactly
// len(body) − r.Len(), and a key compared in place costs no allocation.
type mpSource struct {
	d    *msgpack.Decoder
	r    bytes.Reader
	body []byte
	left int // keys left in the top-level map; -1 before its header
}

func readMsgpack(op Op, body []byte, v *values) *actors.Error {
	d := msgpack.GetDecoder()
	defer msgpack.PutDecoder(d)
	s := &mpSource{d: d, body: body, left: -1}
	s.r.Reset(body)
	d.Reset(&s.r)
	return v.read(op, s)
}

func errTruncated() *actors.Error { return malformedMP("truncated or corrupt") }

func malformedMP(what string) *actors.Error {
	return invalidRequest("malformed msgpack body: " + what)
}

func (s *mpSource) peek() (byte, *actors.Error) {
	c, err := s.d.PeekCode()
	if err != nil {
		return 0, malformedMP("truncated")
	}
	return c, nil
}

func isMap(c byte) bool { return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32 }

// mapLen reads a map header whose length is plausible for what is left of
// the body (every entry takes at least two bytes), so that a forged length
// cannot make anyone allocate for it.
func (s *mpSource) mapLen() (int, *actors.Error) {
	n, err := s.d.DecodeMapLen()
	if err != nil || n < 0 || n > s.r.Len()/2 {
		return 0, malformedMP("a map is longer than the body")
	}
	return n, nil
}

func (s *mpSource) next() ([]byte, bool, *actors.Error) {
	if s.left < 0 {
		c, err := s.peek()
		if err != nil {
			return nil, false, err
		}
		if !isMap(c) {
			return nil, false, invalidRequest("the body must be a msgpack map")
		}
		if s.left, err = s.mapLen(); err != nil {
			return nil, false, err
		}
	}
	if s.left == 0 {
		return nil, false, nil
	}
	s.left--
	k, ok, err := s.rawString()
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, malformedMP("a map key is not a string")
	}
	return k, true, nil
}

func (s *mpSource) end() *actors.Error {
	if s.r.Len() != 0 {
		return malformedMP("data after the map")
	}
	return nil
}

// rawString returns the next value as bytes of the body if it is a str.
func (s *mpSource) rawString() ([]byte, bool, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if !msgpcode.IsString(c) {
		return nil, false, nil
	}
	n, derr := s.d.DecodeBytesLen()
	if derr != nil || n < 0 || n > s.r.Len() {
		return nil, false, errTruncated()
	}
	at := len(s.body) - s.r.Len()
	if _, serr := s.r.Seek(int64(n), io.SeekCurrent); serr != nil {
		return nil, false, errTruncated()
	}
	return s.body[at : at+n], true, nil
}

func (s *mpSource) str() (string, bool, *actors.Error) {
	b, ok, err := s.rawString()
	if err != nil || !ok {
		return "", ok, err
	}
	if !utf8.Valid(b) {
		return "", false, malformedMP("a string is not valid UTF-8")
	}
	return string(b), true, nil
}

func (s *mpSource) integer() (int64, numClass, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return 0, numNotNum, err
	}
	switch {
	case c == msgpcode.Uint64:
		u, err := s.d.DecodeUint64()
		if err != nil {
			return 0, numNotNum, errTruncated()
		}
		if u > math.MaxInt64 {
			return 0, numOverflow, nil
		}
		return int64(u), numInt, nil
	case msgpcode.IsFixedNum(c), c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32,
		c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
		n, err := s.d.DecodeInt64()
		if err != nil {
			return 0, numNotNum, errTruncated()
		}
		return n, numInt, nil
	case c == msgpcode.Float, c == msgpcode.Double:
		// Even an integral float: money is never a float on this wire.
		return 0, numFraction, nil
	}
	return 0, numNotNum, nil
}

func (s *mpSource) boolean() (bool, bool, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return false, false, err
	}
	if c != msgpcode.True && c != msgpcode.False {
		return false, false, nil
	}
	b, derr := s.d.DecodeBool()
	if derr != nil {
		return false, false, errTruncated()
	}
	return b, true, nil
}

// timestamp takes the timestamp extension (type -1; the library also reads
// type 13, which some JavaScript encoders write) or an RFC 3339 string.
func (s *mpSource) timestamp() (time.Time, bool, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return time.Time{}, false, err
	}
	switch {
	case msgpcode.IsString(c):
		str, ok, err := s.str()
		if err != nil || !ok {
			return time.Time{}, false, err
		}
		t, ok := parseTime(str)
		return t, ok, nil
	case c == msgpcode.FixExt4, c == msgpcode.FixExt8, c == msgpcode.Ext8:
		t, derr := s.d.DecodeTime()
		if derr != nil {
			return time.Time{}, false, nil
		}
		return t.UTC(), true, nil
	}
	return time.Time{}, false, nil
}

func (s *mpSource) meta() (actors.Meta, bool, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if !isMap(c) {
		return nil, false, nil
	}
	n, err := s.mapLen()
	if err != nil {
		return nil, false, err
	}
	var m actors.Meta
	for range n {
		k, ok, err := s.str()
		if err != nil || !ok {
			return nil, false, err
		}
		v, ok, err := s.str()
		if err != nil || !ok {
			return nil, false, err
		}
		if m == nil {
			m = make(actors.Meta, min(n, 16))
		}
		if _, dup := m[k]; dup {
			return nil, false, invalidRequest("meta key " + quote(k) + " is given twice")
		}
		m[k] = v
	}
	return m, true, nil
}

func (s *mpSource) object(each func(key string) *actors.Error) (bool, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if !isMap(c) {
		return false, nil
	}
	n, err := s.mapLen()
	if err != nil {
		return false, err
	}
	for range n {
		k, ok, err := s.str()
		if err != nil {
			return false, err
		}
		if !ok {
			return false, malformedMP("a map key is not a string")
		}
		if err := each(k); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (s *mpSource) array(each func() *actors.Error) (bool, *actors.Error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return false, nil
	}
	n, derr := s.d.DecodeArrayLen()
	if derr != nil || n < 0 || n > s.r.Len() {
		return false, malformedMP("an array is longer than the body")
	}
	for range n {
		if err := each(); err != nil {
			return false, err
		}
	}
	return true, nil
}
