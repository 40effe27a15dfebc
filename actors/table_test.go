package actors

// One row per validation rule the scenario language cannot spell (empty
// and over-long ids, bad meta, principals, features, kinds), plus the
// journal codec's refusal of corrupt batches. Each refused command must
// leave the wallet exactly as it was.

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRefusalsTable(t *testing.T) {
	long := strings.Repeat("x", 129)
	ok128 := strings.Repeat("é", 128) // 128 characters, 256 bytes
	tests := []struct {
		name string
		cmd  Command
		want Code
	}{
		{"grant empty id", Grant{Amount: 1, Kind: "paid"}, ErrInvalidRequest},
		{"grant id of 129 characters", Grant{ID: long, Amount: 1, Kind: "paid"}, ErrInvalidRequest},
		{"grant id not UTF-8", Grant{ID: "\xff", Amount: 1, Kind: "paid"}, ErrInvalidRequest},
		{"grant empty kind", Grant{ID: "g", Amount: 1}, ErrInvalidRequest},
		{"grant kind of 33 letters", Grant{ID: "g", Amount: 1, Kind: strings.Repeat("a", 33)}, ErrInvalidRequest},
		{"grant meta empty key", Grant{ID: "g", Amount: 1, Kind: "paid", Meta: Meta{"": "v"}}, ErrInvalidRequest},
		{"grant meta long value", Grant{ID: "g", Amount: 1, Kind: "paid", Meta: Meta{"k": strings.Repeat("v", 513)}}, ErrInvalidRequest},
		{"grant meta 17 keys", Grant{ID: "g", Amount: 1, Kind: "paid", Meta: manyKeys(17)}, ErrLimitExceeded},
		{"grant overflow", Grant{ID: "g", Amount: math.MaxInt64, Kind: "paid"}, ErrAmountOverflow},
		{"reserve empty id", Reserve{Amount: 1}, ErrInvalidRequest},
		{"reserve long principal", Reserve{ID: "r", Amount: 1, Principal: strings.Repeat("a", 513)}, ErrInvalidRequest},
		{"reserve principal with *", Reserve{ID: "r", Amount: 1, Principal: "team:a/*"}, ErrInvalidRequest},
		{"reserve long feature", Reserve{ID: "r", Amount: 1, Feature: strings.Repeat("f", 129)}, ErrInvalidRequest},
		{"reserve ttl above 24h", Reserve{ID: "r", Amount: 1, TTLms: MaxTTL.Milliseconds() + 1}, ErrInvalidRequest},
		{"settle empty hold_id", Settle{ID: "s", Actual: 1, Final: true}, ErrInvalidRequest},
		{"settle empty id", Settle{HoldID: "h", Actual: 1}, ErrInvalidRequest},
		{"release empty hold_id", Release{ID: "x"}, ErrInvalidRequest},
		{"extend empty hold_id", Extend{ID: "e", TTLms: 1000}, ErrInvalidRequest},
		{"settle hold_id of 129 characters", Settle{ID: "s", HoldID: long, Actual: 1, Final: true}, ErrInvalidRequest},
		{"release hold_id not UTF-8", Release{ID: "x", HoldID: "\xff"}, ErrInvalidRequest},
		// An invalid field is refused before the id is looked up, for every
		// op alike: g1 is the grant's id, yet these are invalid, not conflicts.
		{"settle empty hold_id, id in use", Settle{ID: "g1", Actual: 1, Final: true}, ErrInvalidRequest},
		{"release empty hold_id, id in use", Release{ID: "g1"}, ErrInvalidRequest},
		{"extend empty hold_id, id in use", Extend{ID: "g1", TTLms: 1000}, ErrInvalidRequest},
		{"debit meta 17 keys", Debit{ID: "d", Amount: 1, Meta: manyKeys(17)}, ErrLimitExceeded},
		{"debit empty id", Debit{Amount: 1}, ErrInvalidRequest},
		{"revoke empty grant_id", Revoke{ID: "v"}, ErrInvalidRequest},
		{"revoke empty id", Revoke{GrantID: "g1"}, ErrInvalidRequest},
		{"configure empty id", Configure{}, ErrInvalidRequest},
		{"configure ttl above 24h", Configure{ID: "c", DefaultTTLms: ptr(MaxTTL.Milliseconds() + 1)}, ErrInvalidRequest},
		{"check ttl negative", Check{Amount: 1, TTLms: -1}, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWallet("w", DefaultLimits())
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if _, _, err := w.Execute(Grant{ID: "g1", Amount: 100, Kind: "paid"}, now, nil); err != nil {
				t.Fatal(err)
			}
			before := snapshot(w)
			evs, reply, err := w.Execute(tt.cmd, now, nil)
			if err == nil || err.Code != tt.want {
				t.Fatalf("got %v (reply %+v), want %s", err, reply, tt.want)
			}
			if !errors.Is(err, &Error{Code: tt.want}) {
				t.Fatalf("errors.Is does not match %s", tt.want)
			}
			if len(evs) != 0 || diffSnaps(snapshot(w), before) != "" {
				t.Fatalf("refusal changed the wallet: %d events, %s", len(evs), diffSnaps(snapshot(w), before))
			}
		})
	}
	// The longest id is counted in characters, not bytes.
	w := NewWallet("w", DefaultLimits())
	if _, _, err := w.Execute(Grant{ID: ok128, Amount: 1, Kind: "paid"}, time.Unix(1, 0), nil); err != nil {
		t.Fatalf("an id of 128 characters: %v", err)
	}
}

func manyKeys(n int) Meta {
	m := Meta{}
	for i := 0; i < n; i++ {
		m[strings.Repeat("k", i+1)] = "v"
	}
	return m
}

func ptr[T any](v T) *T { return &v }

// TestCodeNames: every code and reason has its own non-empty wire name
// (the wire contract's list; a duplicate would make two outcomes one).
func TestCodeNames(t *testing.T) {
	seen := map[string]bool{}
	for c := OK; c < codeCount; c++ {
		if n := c.String(); n == "" || n == "unknown" || seen[n] {
			t.Errorf("code %d has name %q (empty, unknown or taken)", c, n)
		} else {
			seen[n] = true
		}
	}
	for r := ReasonInsufficientCredits; r < reasonCount; r++ {
		if n := r.String(); n == "" || n == "unknown" || seen[n] {
			t.Errorf("reason %d has name %q (empty, unknown or taken)", r, n)
		} else {
			seen[n] = true
		}
	}
}

func TestDecodeEventsRefusesCorruptBatches(t *testing.T) {
	good, err := AppendEvents(nil, []Event{&GrantCreated{Head: Head{Seq: 1, At: 5}, Grant: "g", Kind: "paid", Amount: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":        nil,
		"not an array": {0xc0},
		"odd length":   {0x91, 0x01},
		"unknown kind": {0x92, 0x7f, 0x80},
		"truncated":    good[:len(good)-2],
		"huge length":  {0xdd, 0xff, 0xff, 0xff, 0xfe},
	} {
		if _, err := DecodeEvents(data); !errors.Is(err, ErrCorruptBatch) {
			t.Errorf("%s: got %v, want ErrCorruptBatch", name, err)
		}
	}
}

// TestExpiryPastTheEndOfTimeIsRefused: at + ttl is overflow-checked like
// every other sum; a wrapped expiry would expire the hold at once.
func TestExpiryPastTheEndOfTimeIsRefused(t *testing.T) {
	w := NewWallet("w", DefaultLimits())
	end := time.Unix(0, math.MaxInt64-int64(time.Second))
	if _, _, err := w.Execute(Grant{ID: "g", Amount: 100, Kind: "paid"}, end, nil); err != nil {
		t.Fatal(err)
	}
	evs, r, err := w.Execute(Reserve{ID: "r", Amount: 10}, end, nil)
	if err == nil || err.Code != ErrInvalidRequest || len(evs) != 0 || r != nil {
		t.Fatalf("want invalid_request and no events, got %v %v %d events", r, err, len(evs))
	}
	if w.OpenHolds() != 0 || w.Figures().Available != 100 {
		t.Fatalf("the refused reserve changed the wallet: %+v", w.Figures())
	}
}
