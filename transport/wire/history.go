package wire

import (
	"math"
	"time"

	"github.com/purser-dev/purser/actors"
)

// History entry types (SPEC §8).
const (
	TypeGranted      = "granted"
	TypeHeld         = "held"
	TypeSettled      = "settled"
	TypeReleased     = "released"
	TypeHoldExpired  = "hold_expired"
	TypeDebited      = "debited"
	TypeGrantExpired = "grant_expired"
	TypeRevoked      = "revoked"
	TypeConfigured   = "configured"
	TypeDebtRepaid   = "debt_repaid"
)

// Entry is one line of a wallet's history: an event as users read it.
// Empty optional fields are omitted on the wire.
type Entry struct {
	Seq         uint64
	At          time.Time
	Type        string
	RequestID   string // the id of the request that caused it; empty for time-driven entries
	HoldID      string
	Grant       string
	Amount      int64
	Allocations []actors.Allocation
	Principal   string
	Feature     string
	Meta        actors.Meta
}

// Entries turns journal events, in journal order, into the history page
// after afterSeq: at most limit entries (limit < 1 means
// DefaultHistoryLimit, above MaxHistoryLimit means MaxHistoryLimit). Events
// with Seq 0 are not shown. next is the seq to pass as after_seq for the
// following page, 0 when events hold no shown entry beyond this page — so
// the caller must pass every event it has after afterSeq, not just limit
// of them.
func Entries(events []actors.Event, afterSeq uint64, limit int) (entries []Entry, next uint64) {
	if limit < 1 {
		limit = DefaultHistoryLimit
	}
	limit = min(limit, MaxHistoryLimit)
	for _, ev := range events {
		e, ok := entryOf(ev)
		if !ok || e.Seq <= afterSeq {
			continue
		}
		if len(entries) == limit {
			return entries, entries[len(entries)-1].Seq
		}
		entries = append(entries, e)
	}
	return entries, 0
}

// entryOf maps one event; ok is false for events history doesn't show.
func entryOf(ev actors.Event) (Entry, bool) {
	var e Entry
	var h actors.Head
	switch x := ev.(type) {
	case *actors.GrantCreated:
		h = x.Head
		e = Entry{Type: TypeGranted, RequestID: x.Answer.ID, Grant: x.Grant, Amount: x.Amount, Meta: x.Meta}
	case *actors.HoldPlaced:
		h = x.Head
		e = Entry{Type: TypeHeld, RequestID: x.Answer.ID, HoldID: x.Hold, Amount: x.Amount,
			Allocations: x.Earmarks, Principal: x.Principal, Feature: x.Feature, Meta: x.Meta}
	case *actors.HoldExtended:
		// amount is the increase: an extend that only moves the expiry is
		// a "held" entry of 0.
		h = x.Head
		e = Entry{Type: TypeHeld, RequestID: x.Answer.ID, HoldID: x.Hold, Amount: sum(x.Earmarks), Allocations: x.Earmarks}
	case *actors.Settled:
		h = x.Head
		allocs := actors.MergeAllocations(x.FromHold, x.FromFree)
		e = Entry{Type: TypeSettled, RequestID: x.Answer.ID, HoldID: x.Hold,
			Amount: sum(allocs) + x.DebtAdded, Allocations: allocs}
	case *actors.Released:
		h = x.Head
		e = Entry{Type: TypeReleased, RequestID: x.Answer.ID, HoldID: x.Hold, Amount: sum(x.Returned), Allocations: x.Returned}
	case *actors.HoldExpired:
		h = x.Head
		e = Entry{Type: TypeHoldExpired, HoldID: x.Hold, Amount: sum(x.Returned), Allocations: x.Returned}
	case *actors.Debited:
		h = x.Head
		e = Entry{Type: TypeDebited, RequestID: x.Answer.ID, Amount: x.Amount, Allocations: x.FromFree,
			Principal: x.Principal, Feature: x.Feature, Meta: x.Meta}
	case *actors.GrantExpired:
		h = x.Head
		e = Entry{Type: TypeGrantExpired, Grant: x.Grant, Amount: x.Amount,
			Allocations: []actors.Allocation{{Grant: x.Grant, Amount: x.Amount}}}
	case *actors.Revoked:
		h = x.Head
		e = Entry{Type: TypeRevoked, RequestID: x.Answer.ID, Grant: x.Grant, Amount: x.Amount,
			Allocations: []actors.Allocation{{Grant: x.Grant, Amount: x.Amount}}}
	case *actors.Configured:
		h = x.Head
		e = Entry{Type: TypeConfigured, RequestID: x.Answer.ID}
	case *actors.DebtRepaid:
		h = x.Head
		e = Entry{Type: TypeDebtRepaid, Amount: sum(x.Allocations), Allocations: x.Allocations}
	default:
		// GrantActivated and Authorized: never in history.
		return Entry{}, false
	}
	if h.Seq == 0 {
		return Entry{}, false
	}
	e.Seq, e.At = h.Seq, timeOf(h.At)
	return e, true
}

// timeOf turns the core's unix nanoseconds into a UTC time.
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// sum adds allocations the core already booked: it proved they fit int64.
func sum(a []actors.Allocation) int64 {
	var s int64
	for _, x := range a {
		s += x.Amount
	}
	return s
}

// AppendHistory appends the history reply {entries, next_seq}.
func AppendHistory(dst []byte, enc Encoding, entries []Entry, nextSeq uint64) []byte {
	out, _ := AppendHistoryFitting(dst, enc, entries, nextSeq, math.MaxInt)
	return out
}

// historyFrame bounds what a history reply adds to its entries: the
// object, its two keys, the array's header, next_seq.
const historyFrame = 64

// AppendHistoryFitting appends the history reply of the first n entries
// that fit a reply of at most max bytes; when that is not all of them
// (n < len(entries)), next_seq is the last one's, so the client pages on
// from there. It keeps at least one entry, for the caller to refuse if
// that alone is too large. Each entry is encoded once, and the page grows
// only while it fits: 1,000 entries listing 10,000 allocations each would
// be 1.6 GB of JSON encoded whole (1.64 MB an entry with 128-character
// grant ids, measured).
func AppendHistoryFitting(dst []byte, enc Encoding, entries []Entry, nextSeq uint64, max int) ([]byte, int) {
	var body []byte
	n := 0
	for ; n < len(entries); n++ {
		before := len(body)
		if n > 0 && enc == JSON {
			body = append(body, ',')
		}
		w := newWriter(body, enc)
		w.entry(&entries[n])
		if body = w.b; n > 0 && historyFrame+len(body) > max {
			body = body[:before]
			break
		}
	}
	if n < len(entries) {
		nextSeq = entries[n-1].Seq
	}
	w := newWriter(dst, enc)
	w.object(2)
	w.key("entries")
	w.array(n)
	w.b = append(w.b, body...)
	w.endArray()
	w.key("next_seq")
	w.uint(nextSeq)
	w.endObject()
	return w.b, n
}

func (w *writer) entry(e *Entry) {
	w.object(4 + count(e.RequestID != "", e.HoldID != "", e.Grant != "", len(e.Allocations) > 0,
		e.Principal != "", e.Feature != "", len(e.Meta) > 0))
	w.key("seq")
	w.uint(e.Seq)
	w.key("at")
	w.time(e.At)
	w.key("type")
	w.str(e.Type)
	w.optional("request_id", e.RequestID)
	w.optional("hold_id", e.HoldID)
	w.optional("grant", e.Grant)
	w.figure("amount", e.Amount)
	if len(e.Allocations) > 0 {
		w.key("allocations")
		w.allocations(e.Allocations)
	}
	w.optional("principal", e.Principal)
	w.optional("feature", e.Feature)
	if len(e.Meta) > 0 {
		w.key("meta")
		w.meta(e.Meta)
	}
	w.endObject()
}

func (w *writer) optional(name, v string) {
	if v != "" {
		w.key(name)
		w.str(v)
	}
}
