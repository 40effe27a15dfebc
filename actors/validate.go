package actors

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field validation shared by the decide functions. Every check returns the
// code of SPEC §8 that the wire promises for that field.

// checkIDs refuses a command whose ids are malformed. It is the first
// check of every command, in Decide and, before the wallet is looked up,
// in System.Send: such a request is invalid_request whether or not its
// wallet exists (an unknown wallet answers wallet_not_found only to a
// well-formed request: docs/api.md).
func checkIDs(cmd Command) *Error {
	id, ref, field, ok := idsOf(cmd)
	if !ok {
		return nil
	}
	if err := validID("id", id); err != nil {
		return err
	}
	if field != "" {
		return validID(field, ref)
	}
	return nil
}

func validID(field, id string) *Error {
	if id == "" || !utf8.ValidString(id) || utf8.RuneCountInString(id) > MaxIDLength {
		return fail(ErrInvalidRequest, field+" must be 1–128 characters")
	}
	return nil
}

func validAmount(field string, v int64) *Error {
	if v <= 0 {
		return fail(ErrInvalidAmount, field+" must be an integer > 0")
	}
	return nil
}

// ttlNanos validates a ttl_ms (0 = absent, take def) and returns it in ns.
func ttlNanos(ms, def int64) (int64, *Error) {
	if ms == 0 {
		ms = def
	}
	if ms <= 0 || ms > MaxTTL.Milliseconds() {
		return 0, fail(ErrInvalidRequest, "ttl_ms must be between 1 and 86400000")
	}
	return ms * 1e6, nil
}

// expiry is at + ttl, checked like every other sum: a clock near the end
// of int64 time must not wrap an expiry into the past.
func expiry(at, ttl int64) (int64, *Error) {
	t, ok := addOK(at, ttl)
	if !ok {
		return 0, fail(ErrInvalidRequest, "ttl_ms runs past the representable time")
	}
	return t, nil
}

func validKind(kind string) *Error {
	if kind == "" || len(kind) > MaxKindBytes {
		return fail(ErrInvalidRequest, "kind must be a lowercase word of 1–32 letters")
	}
	for i := 0; i < len(kind); i++ {
		c := kind[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && (c == '_' || c >= '0' && c <= '9')) {
			return fail(ErrInvalidRequest, "kind must be a lowercase word of 1–32 letters")
		}
	}
	return nil
}

func (l *Limits) validMeta(m Meta) *Error {
	if len(m) > l.MaxMetaEntries {
		return fail(ErrLimitExceeded, "meta has more than "+strconv.Itoa(l.MaxMetaEntries)+" keys")
	}
	for k, v := range m {
		if k == "" || len(k) > l.MaxMetaKey || len(v) > l.MaxMetaValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fail(ErrInvalidRequest, "meta keys must be 1–"+strconv.Itoa(l.MaxMetaKey)+
				" bytes and values at most "+strconv.Itoa(l.MaxMetaValue)+" bytes of UTF-8")
		}
	}
	return nil
}

// validPrincipal checks the shape of a principal path: segments of
// kind:name joined by '/', or "*" for the wallet root.
func validPrincipal(p string) *Error {
	if p == "" || p == "*" {
		return nil
	}
	if len(p) > 512 || !utf8.ValidString(p) {
		return fail(ErrInvalidRequest, "principal must be at most 512 bytes of UTF-8")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "*" {
			return fail(ErrInvalidRequest, "principal segments must be non-empty and not \"*\" (the root is \"*\" alone), like team:research/user:alice")
		}
	}
	return nil
}

func validFeature(f string) *Error {
	if len(f) > 128 || !utf8.ValidString(f) {
		return fail(ErrInvalidRequest, "feature must be at most 128 bytes of UTF-8")
	}
	return nil
}

// contentHash fingerprints a request's content (everything but its id),
// after decoding: the same request in JSON or msgpack, keys in any order,
// hashes the same.
type contentHash struct{ h uint64 }

// FNV-1a, 64 bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newHash(op opCode) contentHash {
	c := contentHash{h: fnvOffset}
	c.byte(byte(op))
	return c
}

func (c *contentHash) byte(b byte) { c.h = (c.h ^ uint64(b)) * fnvPrime }

func (c *contentHash) int(v int64) {
	for i := 0; i < 8; i++ {
		c.byte(byte(v >> (8 * i)))
	}
}

func (c *contentHash) str(s string) {
	c.int(int64(len(s)))
	for i := 0; i < len(s); i++ {
		c.byte(s[i])
	}
}

func (c *contentHash) meta(m Meta) {
	c.int(int64(len(m)))
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.str(k)
		c.str(m[k])
	}
}
