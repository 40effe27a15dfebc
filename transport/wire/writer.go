package wire

import (
	"encoding/binary"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// writer appends one reply in either encoding. The reply encoders are
// written once against it, so the two encodings cannot drift apart in
// field names or presence.
//
// msgpack is appended by hand here, not through msgpack.Encoder: replies
// use six wire types, and appending to the caller's buffer keeps encoding
// free of allocations and pools. The tests decode every reply with
// vmihailenco/msgpack, so the library stays the judge of the format.
type writer struct {
	b     []byte
	start int // where this reply starts in b (the caller's bytes precede it)
	mp    bool
}

func newWriter(dst []byte, enc Encoding) writer {
	return writer{b: dst, start: len(dst), mp: enc == Msgpack}
}

// sep puts the comma JSON needs before a key or an array element: any
// value but the first in its container follows a byte other than { [ :.
func (w *writer) sep() {
	if len(w.b) > w.start {
		switch w.b[len(w.b)-1] {
		case '{', '[', ':':
		default:
			w.b = append(w.b, ',')
		}
	}
}

// object starts an object of n members (msgpack states n up front).
func (w *writer) object(n int) {
	if w.mp {
		w.b = mpack.AppendMapLen(w.b, n)
		return
	}
	w.sep()
	w.b = append(w.b, '{')
}

func (w *writer) endObject() {
	if !w.mp {
		w.b = append(w.b, '}')
	}
}

func (w *writer) array(n int) {
	if w.mp {
		w.b = mpack.AppendArrayLen(w.b, n)
		return
	}
	w.sep()
	w.b = append(w.b, '[')
}

func (w *writer) endArray() {
	if !w.mp {
		w.b = append(w.b, ']')
	}
}

// key writes a member name; names are constants of this package and need
// no JSON escaping.
func (w *writer) key(k string) {
	if w.mp {
		w.b = mpack.AppendStr(w.b, k)
		return
	}
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *writer) str(s string) {
	if w.mp {
		w.b = mpack.AppendStr(w.b, s)
		return
	}
	w.sep()
	w.b = jsonString(w.b, s)
}

func (w *writer) int(v int64) {
	if w.mp {
		w.b = mpack.AppendInt(w.b, v)
		return
	}
	w.sep()
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *writer) uint(v uint64) {
	if w.mp {
		w.b = mpack.AppendUint(w.b, v)
		return
	}
	w.sep()
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *writer) boolean(v bool) {
	if w.mp {
		c := byte(0xc2)
		if v {
			c = 0xc3
		}
		w.b = append(w.b, c)
		return
	}
	w.sep()
	w.b = strconv.AppendBool(w.b, v)
}

// time writes an RFC 3339 UTC string in JSON, a timestamp (ext −1) in
// msgpack.
func (w *writer) time(t time.Time) {
	if w.mp {
		w.b = mpTime(w.b, t)
		return
	}
	w.sep()
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// meta writes m with its keys sorted, so that a reply's bytes depend only
// on its content.
func (w *writer) meta(m actors.Meta) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.object(len(m))
	for _, k := range keys {
		if w.mp {
			w.b = mpack.AppendStr(w.b, k)
		} else {
			w.sep()
			w.b = append(jsonString(w.b, k), ':')
		}
		w.str(m[k])
	}
	w.endObject()
}

func (w *writer) allocations(a []actors.Allocation) {
	w.array(len(a))
	for _, x := range a {
		w.object(2)
		w.key("grant")
		w.str(x.Grant)
		w.key("amount")
		w.int(x.Amount)
		w.endObject()
	}
	w.endArray()
}

// mpTime writes the msgpack timestamp extension in its shortest form.
func mpTime(b []byte, t time.Time) []byte {
	secs, nsec := uint64(t.Unix()), uint64(t.Nanosecond())
	if secs>>34 == 0 {
		data := nsec<<34 | secs
		if data>>32 == 0 {
			return binary.BigEndian.AppendUint32(append(b, 0xd6, 0xff), uint32(data))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xd7, 0xff), data)
	}
	b = binary.BigEndian.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(nsec))
	return binary.BigEndian.AppendUint64(b, secs)
}

// jsonString quotes s. Invalid UTF-8 becomes U+FFFD and U+2028/U+2029 are
// escaped, as encoding/json does, so a reply is valid JSON and safe to
// embed in JavaScript whatever the stored strings hold.
func jsonString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
