package wire

import (
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/purser-dev/purser/actors"
)

// jsonSource reads one flat JSON object (RFC 8259) without reflection.
// encoding/json cannot give the codes SPEC §8 needs (it names neither the
// unknown field nor tells "1.5" from "\"1\"" for an amount without a second
// pass), and its allocations would cost more than the decision itself.
//
// It accepts only what encoding/json's Valid accepts (the fuzz test checks
// it) and stops at the first error, so a body is not fully validated when
// an earlier field is already refused.
type jsonSource struct {
	b       []byte
	i       int
	opened  bool // the top-level '{' was read
	members int  // keys read so far in the top-level object
}

func malformed(what string) *actors.Error {
	return invalidRequest("malformed JSON body: " + what)
}

func (s *jsonSource) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *jsonSource) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonSource) next() ([]byte, bool, *actors.Error) {
	if !s.opened {
		if s.peek() != '{' {
			return nil, false, invalidRequest("the body must be a JSON object")
		}
		s.i++
		s.opened = true
	}
	switch c := s.peek(); {
	case c == '}':
		s.i++
		return nil, false, nil
	case s.members > 0 && c == ',':
		s.i++
		s.ws()
	case s.members > 0:
		return nil, false, malformed("expected , or } after a value")
	}
	if s.peek() != '"' {
		return nil, false, malformed("expected a string key")
	}
	k, err := s.stringBytes()
	if err != nil {
		return nil, false, err
	}
	if s.peek() != ':' {
		return nil, false, malformed("expected : after a key")
	}
	s.i++
	s.ws()
	s.members++
	return k, true, nil
}

func (s *jsonSource) end() *actors.Error {
	if s.peek() != 0 || s.i != len(s.b) {
		return malformed("data after the object")
	}
	return nil
}

// valueStart reports whether c can start a JSON value: a wrong type is a
// type error, anything else a syntax error.
func valueStart(c byte) bool {
	switch c {
	case '"', '{', '[', 't', 'f', 'n', '-':
		return true
	}
	return c >= '0' && c <= '9'
}

func (s *jsonSource) str() (string, bool, *actors.Error) {
	c := s.peek()
	if c != '"' {
		return "", false, s.typeError(c)
	}
	b, err := s.stringBytes()
	return string(b), true, err
}

// typeError is nil when c starts some value (so the caller reports a wrong
// type), and a syntax error when it starts none.
func (s *jsonSource) typeError(c byte) *actors.Error {
	if valueStart(c) {
		return nil
	}
	return malformed("expected a value")
}

// stringBytes reads a string at s.i (on its opening quote). It returns a
// slice of the body when there is nothing to unescape.
func (s *jsonSource) stringBytes() ([]byte, *actors.Error) {
	start := s.i + 1
	ascii := true
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			if !ascii && !utf8.Valid(s.b[start:j]) {
				return nil, malformed("a string is not valid UTF-8")
			}
			return s.b[start:j], nil
		case c == '\\':
			return s.unescape(start, j)
		case c < 0x20:
			return nil, malformed("a control character inside a string")
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, malformed("an unterminated string")
}

// unescape finishes a string that has escapes: the slow path, which copies.
func (s *jsonSource) unescape(start, j int) ([]byte, *actors.Error) {
	out := make([]byte, 0, j-start+16)
	out = append(out, s.b[start:j]...)
	for j < len(s.b) {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			if !utf8.Valid(out) {
				return nil, malformed("a string is not valid UTF-8")
			}
			return out, nil
		case c < 0x20:
			return nil, malformed("a control character inside a string")
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(s.b) {
			break
		}
		j += 2
		switch s.b[j-1] {
		case '"', '\\', '/':
			out = append(out, s.b[j-1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := s.hexRune(j)
			if n == 0 {
				return nil, malformed(`a bad \u escape (four hex digits; a surrogate only as half of a pair)`)
			}
			j += n
			out = utf8.AppendRune(out, r)
		default:
			return nil, malformed("a bad escape")
		}
	}
	return nil, malformed("an unterminated string")
}

// hexRune decodes the XXXX of \uXXXX at j (and a following low surrogate);
// n is how many bytes it used, 0 if malformed. A lone surrogate is
// malformed: it is no character, and encoding/json's U+FFFD for it would
// make distinct ids one (`"\ud800"`, `"\udc00"` and `"\ufffd"` the same
// request id), where msgpack refuses invalid UTF-8 outright.
func (s *jsonSource) hexRune(j int) (r rune, n int) {
	r1, ok := hex4(s.b, j)
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 4
	}
	if j+10 <= len(s.b) && s.b[j+4] == '\\' && s.b[j+5] == 'u' {
		if r2, ok := hex4(s.b, j+6); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, 10
			}
		}
	}
	return 0, 0
}

func hex4(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// integer reads a number. Only the JSON integer form (no '.', no
// exponent) counts as an integer: 1.0 and 1e3 are numFraction even though
// their value is integral, so a client's float never passes for money.
func (s *jsonSource) integer() (int64, numClass, *actors.Error) {
	c := s.peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, numNotNum, s.typeError(c)
	}
	neg := c == '-'
	if neg {
		s.i++
	}
	digits := s.i
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else {
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	}
	if s.i == digits {
		return 0, numNotNum, malformed("a number without digits")
	}
	intEnd := s.i
	class := numInt
	if s.i < len(s.b) && s.b[s.i] == '.' {
		class = numFraction
		s.i++
		if !s.digits() {
			return 0, numNotNum, malformed("a number without digits after '.'")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		class = numFraction
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return 0, numNotNum, malformed("a number without exponent digits")
		}
	}
	if class != numInt {
		return 0, class, nil
	}
	// 19 digits hold any int64 and cannot wrap a uint64, in which the
	// magnitude is summed so that -9223372036854775808 fits too.
	if intEnd-digits > 19 {
		return 0, numOverflow, nil
	}
	var u uint64
	for _, d := range s.b[digits:intEnd] {
		u = u*10 + uint64(d-'0')
	}
	if (!neg && u > 1<<63-1) || (neg && u > 1<<63) {
		return 0, numOverflow, nil
	}
	if neg {
		return int64(-u), numInt, nil
	}
	return int64(u), numInt, nil
}

func (s *jsonSource) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *jsonSource) boolean() (bool, bool, *actors.Error) {
	c := s.peek()
	switch {
	case c == 't' && s.literal("true"):
		return true, true, nil
	case c == 'f' && s.literal("false"):
		return false, true, nil
	case c == 't' || c == 'f':
		return false, false, malformed("a bad literal")
	}
	return false, false, s.typeError(c)
}

func (s *jsonSource) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

func (s *jsonSource) timestamp() (time.Time, bool, *actors.Error) {
	str, ok, err := s.str()
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, ok := parseTime(str)
	return t, ok, nil
}

// meta reads an object of string values. An empty object is nil meta.
func (s *jsonSource) meta() (actors.Meta, bool, *actors.Error) {
	c := s.peek()
	if c != '{' {
		return nil, false, s.typeError(c)
	}
	s.i++
	var m actors.Meta
	err := s.eachMember("meta", func(k []byte) *actors.Error {
		v, ok, err := s.str()
		if err != nil {
			return err
		}
		if !ok {
			return invalidRequest(metaShape)
		}
		if m == nil {
			m = make(actors.Meta)
		}
		if _, dup := m[string(k)]; dup {
			return invalidRequest("meta key " + quote(string(k)) + " is given twice")
		}
		m[string(k)] = v
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}

func (s *jsonSource) object(each func(key string) *actors.Error) (bool, *actors.Error) {
	c := s.peek()
	if c != '{' {
		return false, s.typeError(c)
	}
	s.i++
	if err := s.eachMember("an object", func(k []byte) *actors.Error { return each(string(k)) }); err != nil {
		return false, err
	}
	return true, nil
}

// eachMember reads the members of an object whose '{' was just read, calling
// each with every key while s stands on its value (which each must read).
// in names the object in syntax errors.
func (s *jsonSource) eachMember(in string, each func(key []byte) *actors.Error) *actors.Error {
	for n := 0; ; n++ {
		c := s.peek()
		if c == '}' {
			s.i++
			return nil
		}
		if n > 0 {
			if c != ',' {
				return malformed("expected , or } in " + in)
			}
			s.i++
			c = s.peek()
		}
		if c != '"' {
			return malformed("expected a string key in " + in)
		}
		k, err := s.stringBytes()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return malformed("expected : after a key")
		}
		s.i++
		s.ws()
		if err := each(k); err != nil {
			return err
		}
	}
}

func (s *jsonSource) array(each func() *actors.Error) (bool, *actors.Error) {
	c := s.peek()
	if c != '[' {
		return false, s.typeError(c)
	}
	s.i++
	for n := 0; ; n++ {
		c := s.peek()
		if c == ']' {
			s.i++
			return true, nil
		}
		if n > 0 {
			if c != ',' {
				return false, malformed("expected , or ] in an array")
			}
			s.i++
			s.ws()
		}
		if err := each(); err != nil {
			return false, err
		}
	}
}
