package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
	"github.com/vmihailenco/msgpack/v5"
)

// These tests prove that every reply encodes with exactly the field names
// and presence rules of SPEC §8, identically in JSON and msgpack: each
// reply is decoded generically (encoding/json, vmihailenco/msgpack) and
// compared, after normalizing numbers and times, with the expected object.

// normalize makes generically decoded JSON and msgpack comparable: every
// integer becomes int64 and every time its RFC 3339 UTC string.
func normalize(t *testing.T, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(t, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(t, e)
		}
		return out
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			t.Errorf("number %s is not an int64", x)
		}
		return n
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// decodeGeneric decodes a reply of either encoding into a normalized map.
func decodeGeneric(t *testing.T, enc Encoding, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if enc == JSON {
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	} else {
		d := msgpack.NewDecoder(bytes.NewReader(b))
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%x: %v", b, err)
		}
		if rest, _ := d.Buffered().Read(make([]byte, 1)); rest != 0 {
			t.Fatalf("%x: bytes after the reply", b)
		}
	}
	return normalize(t, m).(map[string]any)
}

var (
	fig   = actors.Figures{Balance: 1000, Held: 300, Available: 700}
	figs  = obj{"balance": 1000, "held": 300, "available": 700}
	alloc = []actors.Allocation{{Grant: "promo", Amount: 200}, {Grant: "paid", Amount: 1 << 40}}
	allos = []any{obj{"grant": "promo", "amount": 200}, obj{"grant": "paid", "amount": int64(1 << 40)}}
	tNano = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
)

func with(base obj, extra obj) obj {
	out := obj{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestAppendReply(t *testing.T) {
	tests := []struct {
		name  string
		reply actors.Reply
		want  obj
	}{
		{"reserve held", actors.ReserveReply{Allowed: true, HoldID: "r1", ExpiresAt: tNano, Figures: fig},
			with(figs, obj{"allowed": true, "hold_id": "r1", "expires_at": "2030-01-02T03:04:05.123456789Z"})},
		{"reserve optimistic", actors.ReserveReply{Allowed: true, Figures: fig}, with(figs, obj{"allowed": true})},
		{"reserve denied", actors.ReserveReply{Reason: actors.ReasonRateLimited, RetryAfterMs: 1500,
			DeniedBy: &actors.DeniedBy{Principal: "team:a", Window: "minute"}, Figures: fig},
			with(figs, obj{"allowed": false, "reason": "rate_limited", "retry_after_ms": 1500,
				"denied_by": obj{"principal": "team:a", "window": "minute"}})},
		{"settle", actors.SettleReply{Consumed: 900, Released: 100, Forfeited: 5, Overage: 0, Debt: 0,
			Allocations: alloc, Figures: fig},
			with(figs, obj{"consumed": 900, "released": 100, "forfeited": 5, "overage": 0, "debt": 0,
				"late": false, "allocations": allos})},
		{"settle late, no allocations", actors.SettleReply{Consumed: 50, Debt: 50, Late: true, Figures: fig},
			with(figs, obj{"consumed": 50, "released": 0, "forfeited": 0, "overage": 0, "debt": 50,
				"late": true, "allocations": []any{}})},
		{"release", actors.ReleaseReply{Released: 300, Forfeited: 1, Figures: fig},
			with(figs, obj{"released": 300, "forfeited": 1})},
		{"extend", actors.ExtendReply{Allowed: true, ExpiresAt: tNano, Amount: 400, Figures: fig},
			with(figs, obj{"allowed": true, "expires_at": "2030-01-02T03:04:05.123456789Z", "amount": 400})},
		{"extend denied", actors.ExtendReply{Reason: actors.ReasonInsufficientCredits, Amount: 300, Figures: fig},
			with(figs, obj{"allowed": false, "reason": "insufficient_credits", "amount": 300})},
		{"debit", actors.DebitReply{Consumed: 7, Debt: -0, Allocations: alloc[:1], Figures: fig},
			with(figs, obj{"consumed": 7, "debt": 0, "allocations": allos[:1]})},
		{"balance", actors.BalanceReply{Debt: 3, Mode: actors.Optimistic, Holds: 2, Figures: fig, Grants: []actors.GrantView{
			{ID: "promo", Kind: "promotional", Priority: 10, Amount: 500, Remaining: 400, Earmarked: 100,
				EffectiveAt: tNano, ExpiresAt: tNano.Add(time.Hour), Active: true, Meta: actors.Meta{"b": "2", "a": "1"}},
			{ID: "paid", Kind: "paid", Priority: 90, Amount: 600, Remaining: 600, EffectiveAt: tNano.Add(time.Hour)},
		}}, with(figs, obj{"debt": 3, "mode": "optimistic", "holds": 2, "grants": []any{
			obj{"id": "promo", "kind": "promotional", "priority": 10, "amount": 500, "remaining": 400, "earmarked": 100,
				"effective_at": "2030-01-02T03:04:05.123456789Z", "expires_at": "2030-01-02T04:04:05.123456789Z",
				"active": true, "meta": obj{"a": "1", "b": "2"}},
			obj{"id": "paid", "kind": "paid", "priority": 90, "amount": 600, "remaining": 600, "earmarked": 0,
				"effective_at": "2030-01-02T04:04:05.123456789Z", "active": false},
		}})},
		{"balance empty", actors.BalanceReply{}, obj{"balance": 0, "held": 0, "available": 0, "debt": 0,
			"mode": "strict", "holds": 0, "grants": []any{}}},
		{"grant", actors.GrantReply{Grant: actors.GrantView{ID: "g", Kind: "paid", Priority: 90, Amount: 5,
			Remaining: 5, EffectiveAt: tNano, Active: true}, DebtRepaid: 2, Figures: fig},
			with(figs, obj{"debt_repaid": 2, "grant": obj{"id": "g", "kind": "paid", "priority": 90, "amount": 5,
				"remaining": 5, "earmarked": 0, "effective_at": "2030-01-02T03:04:05.123456789Z", "active": true}})},
		{"revoke", actors.RevokeReply{Forfeited: 8, Figures: fig}, with(figs, obj{"forfeited": 8})},
		{"configure percent", actors.ConfigureReply{Mode: actors.Optimistic, OverdraftPercent: ptr[int64](10),
			DefaultTTLms: 60000, Suspended: true},
			obj{"mode": "optimistic", "overdraft_percent": 10, "default_ttl_ms": 60000, "suspended": true,
				"policies": obj{}, "features": obj{}}},
		{"configure limit", actors.ConfigureReply{OverdraftLimit: ptr[int64](500), DefaultTTLms: 1},
			obj{"mode": "strict", "overdraft_limit": 500, "default_ttl_ms": 1, "suspended": false,
				"policies": obj{}, "features": obj{}}},
		{"configure neither", actors.ConfigureReply{DefaultTTLms: 60000},
			obj{"mode": "strict", "overdraft_limit": 0, "default_ttl_ms": 60000, "suspended": false,
				"policies": obj{}, "features": obj{}}},
		{"configure governance", actors.ConfigureReply{DefaultTTLms: 1,
			Policies: map[string]actors.Policy{
				"*":               {Caps: []actors.Cap{{Window: actors.WindowDay, Limit: 1000}}},
				`team:"r"/user:a`: {Rates: []actors.Rate{{Window: actors.WindowMinute, Requests: 5}, {Window: actors.WindowDay, Credits: 9}}},
			},
			Features: map[string]actors.Feature{"chat": {Enabled: true, Limit: &actors.FeatureLimit{Window: actors.WindowMonth, Amount: 7}},
				"img": {}}},
			obj{"mode": "strict", "overdraft_limit": 0, "default_ttl_ms": 1, "suspended": false,
				"policies": obj{
					"*":               obj{"caps": []any{obj{"window": "day", "limit": 1000}}, "rates": []any{}},
					`team:"r"/user:a`: obj{"caps": []any{}, "rates": []any{obj{"window": "minute", "requests": 5}, obj{"window": "day", "credits": 9}}},
				},
				"features": obj{"chat": obj{"enabled": true, "limit": obj{"window": "month", "amount": 7}}, "img": obj{"enabled": false}}}},
		{"balance governance", actors.BalanceReply{
			Policies: []actors.PolicyUsage{{Principal: "u", Caps: []actors.CapUsage{{Window: actors.WindowHour, Limit: 50,
				Consumed: 10, Held: 5, ResetsAt: tNano.UnixNano()}},
				Rates: []actors.RateUsage{{Rate: actors.Rate{Window: actors.WindowSecond, Requests: 3, Credits: 100},
					RequestsAvailable: 2, CreditsAvailable: 40}}}},
			Features: []actors.FeatureUsage{{Feature: "chat", Enabled: true, Limit: &actors.CapUsage{Window: actors.WindowDay,
				Limit: 9, Consumed: 1, Held: 2, ResetsAt: tNano.UnixNano()}}, {Feature: "img"}}},
			obj{"balance": 0, "held": 0, "available": 0, "debt": 0, "mode": "strict", "holds": 0, "grants": []any{},
				"policies": obj{"u": obj{
					"caps": []any{obj{"window": "hour", "limit": 50, "consumed": 10, "held": 5,
						"resets_at": "2030-01-02T03:04:05.123456789Z"}},
					"rates": []any{obj{"window": "second", "requests": 3, "requests_available": 2, "credits": 100,
						"credits_available": 40}}}},
				"features": obj{"chat": obj{"enabled": true, "limit": obj{"window": "day", "amount": 9, "consumed": 1,
					"held": 2, "resets_at": "2030-01-02T03:04:05.123456789Z"}}, "img": obj{"enabled": false}}}},
		{"reserve denied by a feature limit", actors.ReserveReply{Reason: actors.ReasonFeatureLimitExceeded,
			DeniedBy: &actors.DeniedBy{Feature: "chat", Window: "day"}, Figures: fig},
			with(figs, obj{"allowed": false, "reason": "feature_limit_exceeded",
				"denied_by": obj{"feature": "chat", "window": "day"}})},
		{"extend denied by a cap", actors.ExtendReply{Reason: actors.ReasonSpendCapExceeded, Amount: 300, Figures: fig,
			DeniedBy: &actors.DeniedBy{Principal: "*", Window: "month"}},
			with(figs, obj{"allowed": false, "reason": "spend_cap_exceeded", "amount": 300,
				"denied_by": obj{"principal": "*", "window": "month"}})},
	}
	for _, tt := range tests {
		want := normalize(t, map[string]any(tt.want))
		for _, enc := range []Encoding{JSON, Msgpack} {
			prefix := []byte("prefix")
			b, err := AppendReply(prefix, enc, tt.reply)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.name, enc, err)
			}
			if string(b[:len(prefix)]) != "prefix" {
				t.Fatalf("%s %s: the caller's bytes were overwritten", tt.name, enc)
			}
			got := decodeGeneric(t, enc, b[len(prefix):])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s:\n got %v\nwant %v", tt.name, enc, got, want)
			}
		}
	}
}

func TestAppendReplyUnknown(t *testing.T) {
	if _, err := AppendReply(nil, JSON, actors.TickReply{}); err == nil {
		t.Error("a TickReply was encoded")
	}
	if _, err := AppendReply(nil, Msgpack, nil); err == nil {
		t.Error("a nil reply was encoded")
	}
}

func TestAppendError(t *testing.T) {
	e := &actors.Error{Code: actors.ErrHoldNotFound, Message: "no hold \"h1\"\n in this wallet"}
	want := normalize(t, map[string]any{"error": obj{"code": "hold_not_found", "message": e.Message}})
	for _, enc := range []Encoding{JSON, Msgpack} {
		if got := decodeGeneric(t, enc, AppendError(nil, enc, e)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", enc, got, want)
		}
	}
}

// TestJSONStringEscaping checks jsonString against encoding/json on the
// characters that need care.
func TestJSONStringEscaping(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\x7f", "tab\t nl\n cr\r",
		"é ✓ 😀", "bad\xffutf8\xc3", "line\u2028sep\u2029", "</script>&"} {
		b := jsonString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q -> %s: %v", s, b, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantS string
		_ = json.Unmarshal(want, &wantS)
		if got != wantS {
			t.Errorf("%q -> %q, encoding/json gives %q", s, got, wantS)
		}
	}
}

func TestAppendReplyAllocatesNothing(t *testing.T) {
	// Boxed once: the actor hands the transport an actors.Reply already.
	var r actors.Reply = actors.ReserveReply{Allowed: true, HoldID: "r1", ExpiresAt: tNano, Figures: fig}
	buf := make([]byte, 0, 512)
	for _, enc := range []Encoding{JSON, Msgpack} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := AppendReply(buf[:0], enc, r); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per reserve reply", enc, allocs)
		}
	}
}
