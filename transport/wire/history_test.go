package wire

import (
	"bytes"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

// These tests prove that each journal event becomes the history entry of
// SPEC §8 (type, amount, allocations, request_id), that hidden events are
// skipped, that paging by after_seq/limit/next_seq walks the history
// without gaps, and that the history reply has the contract's field names.

func hd(seq uint64) actors.Head { return actors.Head{Seq: seq, At: tNano.UnixNano() + int64(seq)} }

func at(seq uint64) time.Time { return time.Unix(0, tNano.UnixNano()+int64(seq)).UTC() }

// allocs builds allocations from grant, amount pairs.
func allocs(pairs ...any) []actors.Allocation {
	var out []actors.Allocation
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, actors.Allocation{Grant: pairs[i].(string), Amount: int64(pairs[i+1].(int))})
	}
	return out
}

// journal is a wallet's life touching every event type.
func journal() ([]actors.Event, []Entry) {
	meta := actors.Meta{"run": "1"}
	events := []actors.Event{
		&actors.GrantCreated{Head: hd(1), Grant: "promo", Kind: "promotional", Amount: 500, Meta: meta,
			Answer: actors.Answer{ID: "promo"}},
		&actors.GrantActivated{Head: actors.Head{At: 5}, Grant: "promo"},
		&actors.HoldPlaced{Head: hd(2), Hold: "r1", Amount: 300, Principal: "team:a", Feature: "f", Meta: meta,
			Earmarks: allocs("promo", 200, "paid", 100), Answer: actors.Answer{ID: "r1"}},
		&actors.HoldExtended{Head: hd(3), Hold: "r1", Earmarks: allocs("paid", 50), Answer: actors.Answer{ID: "e1"}},
		&actors.HoldExtended{Head: hd(4), Hold: "r1", Answer: actors.Answer{ID: "e2"}},
		&actors.Settled{Head: hd(5), Hold: "r1", FromHold: allocs("promo", 200, "paid", 150),
			FromFree: allocs("paid", 10, "other", 5), DebtAdded: 7, Closes: true, Answer: actors.Answer{ID: "s1"}},
		&actors.Authorized{Head: actors.Head{At: 6}, Amount: 5},
		&actors.Released{Head: hd(6), Hold: "r2", Returned: allocs("promo", 40), Answer: actors.Answer{ID: "x1"}},
		&actors.HoldExpired{Head: hd(7), Hold: "r3", Returned: allocs("promo", 20, "paid", 1)},
		&actors.HoldExpired{Head: hd(8), Hold: "r4", Capture: true},
		&actors.Settled{Head: hd(9), Hold: "r4", FromHold: allocs("promo", 30), Closes: true},
		&actors.Debited{Head: hd(10), Amount: 12, FromFree: allocs("promo", 10), DebtAdded: 2, Principal: "user:b",
			Feature: "g", Meta: meta, Answer: actors.Answer{ID: "d1"}},
		&actors.GrantExpired{Head: hd(11), Grant: "promo", Amount: 60, Closes: true},
		&actors.Revoked{Head: hd(12), Grant: "paid", Amount: 70, Closes: true, Answer: actors.Answer{ID: "v1"}},
		&actors.Revoked{Head: hd(13), Grant: "paid", Amount: 3},
		&actors.Configured{Head: hd(14), Answer: actors.Answer{ID: "c1"}},
		&actors.DebtRepaid{Head: hd(15), Allocations: allocs("new", 4, "newer", 5)},
	}
	want := []Entry{
		{Seq: 1, Type: "granted", RequestID: "promo", Grant: "promo", Amount: 500, Meta: meta},
		{Seq: 2, Type: "held", RequestID: "r1", HoldID: "r1", Amount: 300, Allocations: allocs("promo", 200, "paid", 100),
			Principal: "team:a", Feature: "f", Meta: meta},
		{Seq: 3, Type: "held", RequestID: "e1", HoldID: "r1", Amount: 50, Allocations: allocs("paid", 50)},
		{Seq: 4, Type: "held", RequestID: "e2", HoldID: "r1", Amount: 0},
		{Seq: 5, Type: "settled", RequestID: "s1", HoldID: "r1", Amount: 200 + 150 + 10 + 5 + 7,
			Allocations: allocs("promo", 200, "paid", 160, "other", 5)},
		{Seq: 6, Type: "released", RequestID: "x1", HoldID: "r2", Amount: 40, Allocations: allocs("promo", 40)},
		{Seq: 7, Type: "hold_expired", HoldID: "r3", Amount: 21, Allocations: allocs("promo", 20, "paid", 1)},
		{Seq: 8, Type: "hold_expired", HoldID: "r4", Amount: 0},
		{Seq: 9, Type: "settled", HoldID: "r4", Amount: 30, Allocations: allocs("promo", 30)},
		{Seq: 10, Type: "debited", RequestID: "d1", Amount: 12, Allocations: allocs("promo", 10),
			Principal: "user:b", Feature: "g", Meta: meta},
		{Seq: 11, Type: "grant_expired", Grant: "promo", Amount: 60, Allocations: allocs("promo", 60)},
		{Seq: 12, Type: "revoked", RequestID: "v1", Grant: "paid", Amount: 70, Allocations: allocs("paid", 70)},
		{Seq: 13, Type: "revoked", Grant: "paid", Amount: 3, Allocations: allocs("paid", 3)},
		{Seq: 14, Type: "configured", RequestID: "c1"},
		{Seq: 15, Type: "debt_repaid", Amount: 9, Allocations: allocs("new", 4, "newer", 5)},
	}
	for i := range want {
		want[i].At = at(want[i].Seq)
	}
	return events, want
}

func TestEntries(t *testing.T) {
	events, want := journal()
	got, next := Entries(events, 0, 100)
	if next != 0 {
		t.Errorf("next = %d on the last page", next)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// The settle merged its allocations into a new slice: the event's own
	// must be untouched (events are shared with the wallet's state).
	if s := events[5].(*actors.Settled); s.FromHold[1].Amount != 150 {
		t.Errorf("Entries changed an event: %+v", s.FromHold)
	}
}

func TestEntriesPaging(t *testing.T) {
	events, want := journal()
	var all []Entry
	after := uint64(0)
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatal("paging does not end")
		}
		page, next := Entries(events, after, 4)
		if len(page) > 4 {
			t.Fatalf("page of %d entries, limit 4", len(page))
		}
		all = append(all, page...)
		if next == 0 {
			break
		}
		if next != page[len(page)-1].Seq {
			t.Fatalf("next = %d, last seq on the page %d", next, page[len(page)-1].Seq)
		}
		after = next
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("pages joined differ from the whole history")
	}
	// A page that ends exactly at the last entry says there is no more.
	if page, next := Entries(events, 11, 4); len(page) != 4 || next != 0 {
		t.Errorf("last full page: %d entries, next %d", len(page), next)
	}
	if page, next := Entries(events, 15, 4); len(page) != 0 || next != 0 {
		t.Errorf("past the end: %d entries, next %d", len(page), next)
	}
	if page, _ := Entries(events, 0, 0); len(page) != len(want) {
		t.Errorf("limit 0 should mean the default of %d", DefaultHistoryLimit)
	}
}

func TestAppendHistory(t *testing.T) {
	events, _ := journal()
	entries, _ := Entries(events, 0, 100)
	wantFirst := normalize(t, map[string]any{"seq": 1, "at": at(1).Format(time.RFC3339Nano), "type": "granted",
		"request_id": "promo", "grant": "promo", "amount": 500, "meta": obj{"run": "1"}})
	wantHeld := normalize(t, map[string]any{"seq": 2, "at": at(2).Format(time.RFC3339Nano), "type": "held",
		"request_id": "r1", "hold_id": "r1", "amount": 300, "principal": "team:a", "feature": "f",
		"meta": obj{"run": "1"}, "allocations": []any{obj{"grant": "promo", "amount": 200}, obj{"grant": "paid", "amount": 100}}})
	wantConfigured := normalize(t, map[string]any{"seq": 14, "at": at(14).Format(time.RFC3339Nano),
		"type": "configured", "request_id": "c1", "amount": 0})
	for _, enc := range []Encoding{JSON, Msgpack} {
		got := decodeGeneric(t, enc, AppendHistory(nil, enc, entries[:14], 14))
		list := got["entries"].([]any)
		if len(got) != 2 || got["next_seq"] != int64(14) || len(list) != 14 {
			t.Fatalf("%s: %v", enc, got)
		}
		for i, want := range map[int]any{0: wantFirst, 1: wantHeld, 13: wantConfigured} {
			if !reflect.DeepEqual(list[i], want) {
				t.Errorf("%s entry %d:\n got %v\nwant %v", enc, i, list[i], want)
			}
		}
		empty := decodeGeneric(t, enc, AppendHistory(nil, enc, nil, 0))
		if !reflect.DeepEqual(empty, map[string]any{"entries": []any{}, "next_seq": int64(0)}) {
			t.Errorf("%s empty history: %v", enc, empty)
		}
	}
}

// AppendHistoryFitting's page fits in max, and one entry more would not
// but for its margin; it is AppendHistory of the entries it kept, with
// next_seq the last kept one's when it cut: for entries of uneven sizes,
// in both encodings, at every max.
func TestAppendHistoryFitting(t *testing.T) {
	at := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	var entries []Entry
	for i := range 40 {
		e := Entry{Seq: uint64(i + 1), At: at, Type: TypeSettled, RequestID: "s", HoldID: "h", Amount: int64(i)}
		for k := range i * i % 23 {
			e.Allocations = append(e.Allocations, actors.Allocation{Grant: "grant-" + strconv.Itoa(k), Amount: 1})
		}
		entries = append(entries, e)
	}
	for _, enc := range []Encoding{JSON, Msgpack} {
		whole := len(AppendHistory(nil, enc, entries, 0))
		for max := 0; max <= whole+10; max += 37 {
			out, n := AppendHistoryFitting(nil, enc, entries, 0, max)
			next := uint64(0)
			if n < len(entries) {
				next = entries[n-1].Seq
			}
			if want := AppendHistory(nil, enc, entries[:n], next); !bytes.Equal(out, want) {
				t.Fatalf("%s, max %d: the page of %d entries is not AppendHistory's", enc, max, n)
			}
			if n < 1 || n > 1 && len(out) > max {
				t.Fatalf("%s, max %d: %d entries take %d bytes", enc, max, n, len(out))
			}
			if n < len(entries) {
				// The count is conservative by at most the frame.
				if got := len(AppendHistory(nil, enc, entries[:n+1], entries[n].Seq)); got+historyFrame <= max {
					t.Fatalf("%s, max %d: %d entries, though %d take only %d bytes", enc, max, n, n+1, got)
				}
			}
		}
		if _, n := AppendHistoryFitting(nil, enc, entries, 0, whole+historyFrame); n != len(entries) {
			t.Fatalf("%s: %d of %d entries in %d bytes", enc, n, len(entries), whole+historyFrame)
		}
	}
}
