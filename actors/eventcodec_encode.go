package actors

import (
	"bytes"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/purser-dev/purser/actors/mpack"
)

// The journal format is what msgpack/v5 writes by reflection for the event
// structs with UseCompactInts: each event a map keyed by its msgpack tags
// in field order, Head's fields inlined first, omitempty fields left out
// when zero, every integer in its shortest form. Journals on disk are in
// this format, so the hand-written encoder below writes exactly those bytes
// (eventcodec_fast_test.go checks it against the library on random events)
// — except that Meta's keys are sorted, where the library writes a map in
// Go's random iteration order.
//
// Configured, and an Answer carrying a Governance (which Decide never
// journals outside Configured), go through the library: configuration is
// rare, and its maps of policies have no order to be identical to.

// appendEvent writes one event. Every struct here has fewer than 16
// fields, so each map header is one byte (fixmap), counted up as the
// fields are written.
func appendEvent(b []byte, e Event) ([]byte, error) {
	m := fixmap{b: b}
	switch e := e.(type) {
	case *GrantCreated:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("g", e.Grant)
		m.str("k", e.Kind)
		m.int("p", e.Priority)
		m.int("m", e.Amount)
		m.int("e", e.EffectiveAt)
		m.intOpt("x", e.ExpiresAt)
		m.meta("md", e.Meta)
		m.answer("r", &e.Answer)
	case *GrantActivated:
		if e == nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("g", e.Grant)
	case *DebtRepaid:
		if e == nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.allocs("a", e.Allocations)
	case *HoldPlaced:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("h", e.Hold)
		m.int("m", e.Amount)
		m.int("x", e.ExpiresAt)
		m.uintOpt("oe", uint64(e.OnExpiry))
		m.strOpt("pr", e.Principal)
		m.strOpt("f", e.Feature)
		m.meta("md", e.Meta)
		m.allocs("a", e.Earmarks)
		m.answer("r", &e.Answer)
	case *Authorized:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.int("m", e.Amount)
		m.strOpt("pr", e.Principal)
		m.strOpt("f", e.Feature)
		m.answer("r", &e.Answer)
	case *HoldExtended:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("h", e.Hold)
		m.int("x", e.ExpiresAt)
		m.allocsOpt("a", e.Earmarks)
		m.answer("r", &e.Answer)
	case *Settled:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("h", e.Hold)
		m.allocsOpt("fh", e.FromHold)
		m.allocsOpt("ff", e.FromFree)
		m.intOpt("d", e.DebtAdded)
		m.allocsOpt("rt", e.Returned)
		m.boolOpt("c", e.Closes)
		m.boolOpt("l", e.Late)
		m.strOpt("pr", e.Principal)
		m.strOpt("f", e.Feature)
		m.answer("r", &e.Answer)
	case *Released:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("h", e.Hold)
		m.allocsOpt("rt", e.Returned)
		m.answer("r", &e.Answer)
	case *HoldExpired:
		if e == nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("h", e.Hold)
		m.boolOpt("c", e.Capture)
		m.allocsOpt("rt", e.Returned)
	case *Debited:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.int("m", e.Amount)
		m.allocsOpt("ff", e.FromFree)
		m.intOpt("d", e.DebtAdded)
		m.strOpt("pr", e.Principal)
		m.strOpt("f", e.Feature)
		m.meta("md", e.Meta)
		m.answer("r", &e.Answer)
	case *GrantExpired:
		if e == nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("g", e.Grant)
		m.int("m", e.Amount)
		m.boolOpt("c", e.Closes)
	case *Revoked:
		if e == nil || e.Answer.Gov != nil {
			return appendByLibrary(b, e)
		}
		m.open()
		m.head(e.Head)
		m.str("g", e.Grant)
		m.int("m", e.Amount)
		m.boolOpt("c", e.Closes)
		m.answer("r", &e.Answer)
	case *Configured:
		return appendByLibrary(b, e)
	}
	return m.b, nil
}

// appendByLibrary writes e as the reflective encoder does (it is the
// format's definition).
func appendByLibrary(b []byte, e Event) ([]byte, error) {
	w := bytes.NewBuffer(b)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(w)
	enc.UseCompactInts(true)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// fixmap writes a map of fewer than 16 entries: open writes its one-byte
// header and each key written counts in it.
type fixmap struct {
	b  []byte
	at int
}

func (m *fixmap) open() {
	m.at = len(m.b)
	m.b = append(m.b, 0x80)
}

func (m *fixmap) key(k string) {
	m.b[m.at]++
	m.b = append(append(m.b, 0xa0|byte(len(k))), k...)
}

func (m *fixmap) head(h Head) {
	m.uintOpt("s", h.Seq)
	m.int("t", h.At)
}

func (m *fixmap) int(k string, v int64) {
	m.key(k)
	m.b = mpack.AppendInt(m.b, v)
}

func (m *fixmap) intOpt(k string, v int64) {
	if v != 0 {
		m.int(k, v)
	}
}

func (m *fixmap) uint(k string, v uint64) {
	m.key(k)
	m.b = mpack.AppendUint(m.b, v)
}

func (m *fixmap) uintOpt(k string, v uint64) {
	if v != 0 {
		m.uint(k, v)
	}
}

func (m *fixmap) str(k, v string) {
	m.key(k)
	m.b = mpack.AppendStr(m.b, v)
}

func (m *fixmap) strOpt(k, v string) {
	if v != "" {
		m.str(k, v)
	}
}

func (m *fixmap) boolOpt(k string, v bool) {
	if v {
		m.key(k)
		m.b = append(m.b, 0xc3)
	}
}

// allocs writes a list that is not omitempty: nil is msgpack nil, empty an
// empty array.
func (m *fixmap) allocs(k string, as []Allocation) {
	m.key(k)
	if as == nil {
		m.b = append(m.b, 0xc0)
		return
	}
	m.b = mpack.AppendArrayLen(m.b, len(as))
	for i := range as {
		// Allocation has no omitempty field: always both entries.
		m.b = append(m.b, 0x82, 0xa1, 'g')
		m.b = mpack.AppendStr(m.b, as[i].Grant)
		m.b = append(m.b, 0xa1, 'a')
		m.b = mpack.AppendInt(m.b, as[i].Amount)
	}
}

func (m *fixmap) allocsOpt(k string, as []Allocation) {
	if len(as) != 0 {
		m.allocs(k, as)
	}
}

// meta writes the map with its keys sorted (the library's order is Go's
// random map order: only a map of one key has bytes to be identical to).
func (m *fixmap) meta(k string, md Meta) {
	if len(md) == 0 {
		return
	}
	m.key(k)
	m.b = mpack.AppendMapLen(m.b, len(md))
	var stack [8]string
	keys := stack[:0]
	for key := range md {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		m.b = mpack.AppendStr(mpack.AppendStr(m.b, key), md[key])
	}
}

// answer writes the Answer of an event whose Answer has no Gov (see
// appendEvent), so gv is always left out.
func (m *fixmap) answer(k string, a *Answer) {
	m.key(k)
	r := fixmap{b: m.b}
	r.open()
	r.str("i", a.ID)
	r.uint("o", uint64(a.Op))
	r.uint("h", a.Hash)
	r.key("n")
	r.b = append(r.b, 0x90|byte(len(a.N)))
	for _, n := range a.N {
		r.b = mpack.AppendInt(r.b, n)
	}
	r.allocsOpt("a", a.Allocs)
	m.b = r.b
}
