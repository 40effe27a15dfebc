package wire

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
	"github.com/vmihailenco/msgpack/v5"
)

// These tests prove that a request of every op decodes to the same command
// from JSON and from msgpack (both produced by independent encoders), and
// that each kind of bad input gets the code SPEC §1/§8 promises.

type obj = map[string]any

func ptr[T any](v T) *T { return &v }

var (
	t0 = time.Date(2030, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	t1 = time.Date(2031, 6, 7, 8, 9, 10, 0, time.UTC)
)

func encodeBoth(t *testing.T, fields obj) map[Encoding][]byte {
	t.Helper()
	j, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	m, err := msgpack.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return map[Encoding][]byte{JSON: j, Msgpack: m}
}

func TestDecodeRoundTrip(t *testing.T) {
	meta := obj{"run": "42", "model": "big"}
	wantMeta := actors.Meta{"run": "42", "model": "big"}
	tests := []struct {
		op     Op
		fields obj
		want   actors.Command
	}{
		{OpReserve, obj{"id": "r1", "amount": 1500}, actors.Reserve{ID: "r1", Amount: 1500}},
		{OpReserve, obj{"id": "r1", "amount": int64(math.MaxInt64), "ttl_ms": 30000, "on_expiry": "capture",
			"principal": "team:a/user:b", "feature": "gpt", "meta": meta},
			actors.Reserve{ID: "r1", Amount: math.MaxInt64, TTLms: 30000, OnExpiry: actors.ExpireCapture,
				Principal: "team:a/user:b", Feature: "gpt", Meta: wantMeta}},
		{OpReserve, obj{"id": "r1", "amount": 1, "on_expiry": "release"}, actors.Reserve{ID: "r1", Amount: 1}},
		{OpCheck, obj{"amount": 7, "principal": "*", "feature": "f", "ttl_ms": 1},
			actors.Check{Amount: 7, TTLms: 1, Principal: "*", Feature: "f"}},
		{OpSettle, obj{"id": "s1", "hold_id": "r1", "actual": 0}, actors.Settle{ID: "s1", HoldID: "r1", Final: true}},
		{OpSettle, obj{"id": "s1", "hold_id": "r1", "actual": 900, "final": false},
			actors.Settle{ID: "s1", HoldID: "r1", Actual: 900, Final: false}},
		{OpSettle, obj{"id": "s1", "hold_id": "r1", "actual": 900, "final": true},
			actors.Settle{ID: "s1", HoldID: "r1", Actual: 900, Final: true}},
		{OpRelease, obj{"id": "x1", "hold_id": "r1"}, actors.Release{ID: "x1", HoldID: "r1"}},
		{OpExtend, obj{"id": "e1", "hold_id": "r1", "ttl_ms": 86400000}, actors.Extend{ID: "e1", HoldID: "r1", TTLms: 86400000}},
		{OpExtend, obj{"id": "e1", "hold_id": "r1", "ttl_ms": 5, "amount": 2000},
			actors.Extend{ID: "e1", HoldID: "r1", TTLms: 5, Amount: 2000}},
		{OpDebit, obj{"id": "d1", "amount": 3, "principal": "user:x", "feature": "f", "meta": meta},
			actors.Debit{ID: "d1", Amount: 3, Principal: "user:x", Feature: "f", Meta: wantMeta}},
		{OpBalance, obj{}, actors.Balance{}},
		{OpGrant, obj{"id": "g1", "amount": 100, "kind": "promotional"}, actors.Grant{ID: "g1", Amount: 100, Kind: "promotional"}},
		{OpGrant, obj{"id": "g1", "amount": 100, "kind": "paid", "priority": -5, "effective_at": t0,
			"expires_at": t1, "meta": meta},
			actors.Grant{ID: "g1", Amount: 100, Kind: "paid", Priority: ptr[int64](-5), EffectiveAt: t0,
				ExpiresAt: t1, Meta: wantMeta}},
		{OpRevoke, obj{"id": "v1", "grant_id": "g1"}, actors.Revoke{ID: "v1", GrantID: "g1"}},
		{OpConfigure, obj{"id": "c1"}, actors.Configure{ID: "c1"}},
		{OpConfigure, obj{"id": "c1", "mode": "optimistic", "overdraft_percent": 10, "default_ttl_ms": 1000,
			"suspended": true},
			actors.Configure{ID: "c1", Mode: ptr(actors.Optimistic), OverdraftPercent: ptr[int64](10),
				DefaultTTLms: ptr[int64](1000), Suspended: ptr(true)}},
		{OpConfigure, obj{"id": "c1", "mode": "strict", "overdraft_limit": 0, "suspended": false},
			actors.Configure{ID: "c1", Mode: ptr(actors.Strict), OverdraftLimit: ptr[int64](0), Suspended: ptr(false)}},
		// Content the core judges passes through unchanged.
		{OpConfigure, obj{"id": "c1", "overdraft_limit": -1}, actors.Configure{ID: "c1", OverdraftLimit: ptr[int64](-1)}},
		{OpRelease, obj{"id": "", "hold_id": ""}, actors.Release{}},
	}
	var d Decoder
	for _, tt := range tests {
		for enc, body := range encodeBoth(t, tt.fields) {
			got, err := d.Decode(tt.op, body, enc)
			if err != nil {
				t.Errorf("%s %s %s: %v", tt.op, enc, body, err)
				continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s %s %s:\n got %#v\nwant %#v", tt.op, enc, body, got, tt.want)
			}
		}
	}
}

func TestDecodeEmptyBody(t *testing.T) {
	var d Decoder
	for _, enc := range []Encoding{JSON, Msgpack} {
		if c, err := d.Decode(OpBalance, nil, enc); err != nil || c != (actors.Balance{}) {
			t.Errorf("balance, empty %s body: %v %v", enc, c, err)
		}
		h, err := d.DecodeHistory(nil, enc)
		if err != nil || h != (History{Limit: DefaultHistoryLimit}) {
			t.Errorf("history, empty %s body: %+v %v", enc, h, err)
		}
		// An empty body is an empty object, so required amounts are missing.
		if _, err := d.Decode(OpReserve, nil, enc); err == nil || err.Code != actors.ErrInvalidAmount {
			t.Errorf("reserve, empty %s body: %v", enc, err)
		}
	}
}

func TestDecodeHistory(t *testing.T) {
	tests := []struct {
		fields obj
		want   History
		code   actors.Code
	}{
		{obj{}, History{Limit: 100}, actors.OK},
		{obj{"after_seq": 42}, History{AfterSeq: 42, Limit: 100}, actors.OK},
		{obj{"after_seq": 0, "limit": 1}, History{Limit: 1}, actors.OK},
		{obj{"limit": 1000}, History{Limit: 1000}, actors.OK},
		{obj{"limit": 5000}, History{Limit: 1000}, actors.OK},
		{obj{"limit": 0}, History{}, actors.ErrInvalidRequest},
		{obj{"limit": -1}, History{}, actors.ErrInvalidRequest},
		{obj{"after_seq": -1}, History{}, actors.ErrInvalidRequest},
		{obj{"after_seq": "1"}, History{}, actors.ErrInvalidRequest},
		{obj{"after_seq": 1.5}, History{}, actors.ErrInvalidRequest},
		{obj{"id": "h"}, History{}, actors.ErrInvalidRequest},
	}
	var d Decoder
	for _, tt := range tests {
		for enc, body := range encodeBoth(t, tt.fields) {
			got, err := d.DecodeHistory(body, enc)
			if tt.code != actors.OK {
				if err == nil || err.Code != tt.code {
					t.Errorf("%s %s: %+v %v, want %s", enc, body, got, err, tt.code)
				}
				continue
			}
			if err != nil || got != tt.want {
				t.Errorf("%s %s: %+v %v, want %+v", enc, body, got, err, tt.want)
			}
		}
	}
	if _, err := d.Decode(OpHistory, nil, JSON); err == nil {
		t.Error("Decode accepted OpHistory: it has no command")
	}
}

// badTests are bodies written the same way in both encodings.
var badTests = []struct {
	op     Op
	fields obj
	code   actors.Code
	msg    string // a part of the message
}{
	{OpReserve, obj{"id": "r", "amount": 0}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": -5}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r"}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": 1.5}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": "15"}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": true}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": nil}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": obj{}}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": []int{1}}, actors.ErrInvalidAmount, "amount"},
	{OpReserve, obj{"id": "r", "amount": uint64(math.MaxInt64) + 1}, actors.ErrInvalidAmount, "64-bit"},
	{OpReserve, obj{"id": "r", "amount": 5, "ttl_ms": 0}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpReserve, obj{"id": "r", "amount": 5, "ttl_ms": -1}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpReserve, obj{"id": "r", "amount": 5, "ttl_ms": 86400001}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpReserve, obj{"id": "r", "amount": 5, "ttl_ms": "60000"}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpReserve, obj{"id": "r", "amount": 5, "ttl_ms": 1.5}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpReserve, obj{"id": "r", "amount": 5, "on_expiry": "keep"}, actors.ErrInvalidRequest, "on_expiry"},
	{OpReserve, obj{"id": "r", "amount": 5, "on_expiry": ""}, actors.ErrInvalidRequest, "on_expiry"},
	{OpReserve, obj{"id": "r", "amount": 5, "hold_id": "h"}, actors.ErrInvalidRequest, `unknown field "hold_id"`},
	{OpReserve, obj{"id": "r", "amount": 5, "Amount": 5}, actors.ErrInvalidRequest, `unknown field "Amount"`},
	{OpReserve, obj{"id": 7, "amount": 5}, actors.ErrInvalidRequest, "id must be a string"},
	{OpReserve, obj{"id": nil, "amount": 5}, actors.ErrInvalidRequest, "id must be a string"},
	{OpReserve, obj{"id": "r", "amount": 5, "meta": "x"}, actors.ErrInvalidRequest, "meta"},
	{OpReserve, obj{"id": "r", "amount": 5, "meta": obj{"k": 1}}, actors.ErrInvalidRequest, "meta"},
	{OpReserve, obj{"id": "r", "amount": 5, "meta": obj{"k": obj{}}}, actors.ErrInvalidRequest, "meta"},
	{OpReserve, obj{"id": "r", "amount": 5, "principal": false}, actors.ErrInvalidRequest, "principal"},
	{OpCheck, obj{"id": "r", "amount": 5}, actors.ErrInvalidRequest, `unknown field "id"`},
	{OpSettle, obj{"id": "s", "hold_id": "h"}, actors.ErrInvalidAmount, "actual"},
	{OpSettle, obj{"id": "s", "hold_id": "h", "actual": -1}, actors.ErrInvalidAmount, "actual"},
	{OpSettle, obj{"id": "s", "hold_id": "h", "actual": "1"}, actors.ErrInvalidAmount, "actual"},
	{OpSettle, obj{"id": "s", "hold_id": "h", "actual": 0.5}, actors.ErrInvalidAmount, "actual"},
	{OpSettle, obj{"id": "s", "hold_id": "h", "actual": 1, "final": "yes"}, actors.ErrInvalidRequest, "final"},
	{OpSettle, obj{"id": "s", "hold_id": "h", "actual": 1, "final": 1}, actors.ErrInvalidRequest, "final"},
	{OpSettle, obj{"id": "s", "hold_id": 5, "actual": 1}, actors.ErrInvalidRequest, "hold_id"},
	{OpExtend, obj{"id": "e", "hold_id": "h", "ttl_ms": 10, "amount": 0}, actors.ErrInvalidAmount, "amount"},
	{OpExtend, obj{"id": "e", "hold_id": "h", "ttl_ms": 10, "amount": -3}, actors.ErrInvalidAmount, "amount"},
	{OpExtend, obj{"id": "e", "hold_id": "h"}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpExtend, obj{"id": "e", "hold_id": "h", "ttl_ms": 0}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpDebit, obj{"id": "d", "amount": 0}, actors.ErrInvalidAmount, "amount"},
	{OpDebit, obj{"id": "d", "amount": 5, "ttl_ms": 5}, actors.ErrInvalidRequest, "ttl_ms"},
	{OpBalance, obj{"id": "b"}, actors.ErrInvalidRequest, `unknown field "id"`},
	{OpGrant, obj{"id": "g", "amount": 5, "kind": "paid", "priority": 1.5}, actors.ErrInvalidRequest, "priority"},
	{OpGrant, obj{"id": "g", "amount": 5, "kind": "paid", "priority": "1"}, actors.ErrInvalidRequest, "priority"},
	{OpGrant, obj{"id": "g", "amount": 5, "kind": "paid", "expires_at": "tomorrow"}, actors.ErrInvalidRequest, "expires_at"},
	{OpGrant, obj{"id": "g", "amount": 5, "kind": "paid", "expires_at": 1700000000}, actors.ErrInvalidRequest, "expires_at"},
	{OpGrant, obj{"id": "g", "amount": 5, "kind": "paid", "expires_at": "1970-01-01T00:00:00Z"}, actors.ErrInvalidRequest, "1970"},
	{OpGrant, obj{"id": "g", "amount": 5, "kind": "paid", "effective_at": "9999-01-01T00:00:00Z"}, actors.ErrInvalidRequest, "2262"},
	{OpGrant, obj{"id": "g", "amount": 5.5, "kind": "paid"}, actors.ErrInvalidAmount, "amount"},
	{OpRevoke, obj{"id": "v", "grant": "g"}, actors.ErrInvalidRequest, `unknown field "grant"`},
	{OpConfigure, obj{"id": "c", "mode": "lenient"}, actors.ErrInvalidRequest, "mode"},
	{OpConfigure, obj{"id": "c", "overdraft_limit": "5"}, actors.ErrInvalidAmount, "overdraft_limit"},
	{OpConfigure, obj{"id": "c", "overdraft_limit": 1.25}, actors.ErrInvalidAmount, "overdraft_limit"},
	{OpConfigure, obj{"id": "c", "overdraft_percent": 2.5}, actors.ErrInvalidRequest, "overdraft_percent"},
	{OpConfigure, obj{"id": "c", "suspended": "true"}, actors.ErrInvalidRequest, "suspended"},
	{OpConfigure, obj{"id": "c", "policies": []any{}}, actors.ErrInvalidRequest, "policies must be an object"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": obj{}}}}, actors.ErrInvalidRequest, "caps must be an array"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"cap": []any{}}}}, actors.ErrInvalidRequest, `unknown field "cap"`},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"window": "day"}}}}}, actors.ErrInvalidAmount, "limit is required"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"limit": 5}}}}}, actors.ErrInvalidRequest, "window is required"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"window": "week", "limit": 5}}}}}, actors.ErrInvalidRequest, "window must be minute, hour, day or month"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"rates": []any{obj{"window": "week", "requests": 5}}}}}, actors.ErrInvalidRequest, "window must be second, minute, hour or day"},
	{OpConfigure, obj{"id": "c", "features": obj{"f": obj{"enabled": true, "limit": obj{"window": "week", "amount": 5}}}}, actors.ErrInvalidRequest, "window must be minute, hour, day or month"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"window": 1, "limit": 5}}}}}, actors.ErrInvalidRequest, "window must be a string"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"window": "day", "limit": 1.5}}}}}, actors.ErrInvalidAmount, "limit"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"window": "day", "limit": "5"}}}}}, actors.ErrInvalidAmount, "limit"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"caps": []any{obj{"window": "day", "limit": 0}}}}}, actors.ErrInvalidAmount, "limit"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"rates": []any{obj{"window": "day"}}}}}, actors.ErrInvalidRequest, "needs requests, credits"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"rates": []any{obj{"window": "day", "requests": 0}}}}}, actors.ErrInvalidRequest, "requests"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"rates": []any{obj{"window": "day", "credits": -1}}}}}, actors.ErrInvalidAmount, "credits"},
	{OpConfigure, obj{"id": "c", "policies": obj{"*": obj{"rates": []any{obj{"window": "day", "requests": 1, "x": 1}}}}}, actors.ErrInvalidRequest, `unknown field "x"`},
	{OpConfigure, obj{"id": "c", "features": []any{}}, actors.ErrInvalidRequest, "features must be an object"},
	{OpConfigure, obj{"id": "c", "features": obj{"chat": obj{}}}, actors.ErrInvalidRequest, "enabled is required"},
	{OpConfigure, obj{"id": "c", "features": obj{"chat": obj{"enabled": "yes"}}}, actors.ErrInvalidRequest, "enabled must be"},
	{OpConfigure, obj{"id": "c", "features": obj{"chat": obj{"enabled": true, "limit": obj{"window": "day"}}}}, actors.ErrInvalidAmount, "amount is required"},
	{OpConfigure, obj{"id": "c", "features": obj{"chat": obj{"enabled": true, "limit": obj{"window": "day", "amount": 2.5}}}}, actors.ErrInvalidAmount, "amount"},
	{OpConfigure, obj{"id": "c", "features": obj{"chat": obj{"enabled": true, "quota": 1}}}, actors.ErrInvalidRequest, `unknown field "quota"`},
}

func TestDecodeBadFields(t *testing.T) {
	var d Decoder
	for _, tt := range badTests {
		for enc, body := range encodeBoth(t, tt.fields) {
			c, err := d.Decode(tt.op, body, enc)
			if err == nil || err.Code != tt.code || !strings.Contains(err.Message, tt.msg) {
				t.Errorf("%s %s %q: %v %v; want %s containing %q", tt.op, enc, body, c, err, tt.code, tt.msg)
			}
		}
	}
}

// TestDecodeBadJSON covers what only raw JSON can say: syntax errors,
// duplicate keys, number spellings.
func TestDecodeBadJSON(t *testing.T) {
	tests := []struct {
		op   Op
		body string
		code actors.Code
	}{
		{OpReserve, `{"id":"r","amount":1e3}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":1E+3}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":1.0}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":-0}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":9223372036854775808}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":18446744073709551616}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":123456789012345678901234567890}`, actors.ErrInvalidAmount},
		{OpSettle, `{"id":"s","hold_id":"h","actual":-9223372036854775809}`, actors.ErrInvalidAmount},
		{OpReserve, `{"id":"r","amount":01}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":1.}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":-}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":+1}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":1e}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5,}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5}x`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5}{}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r" "amount":5}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5,"amount":6}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r\x01","amount":5}`, actors.ErrInvalidRequest},
		{OpReserve, "{\"id\":\"\xff\",\"amount\":5}", actors.ErrInvalidRequest},
		{OpReserve, `{"id":"\x","amount":5}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"\u12","amount":5}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5,"meta":{"a":"1","a":"2"}}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":"r","amount":5,"meta":{"a":"1",}}`, actors.ErrInvalidRequest},
		{OpReserve, `{"id":tru,"amount":5}`, actors.ErrInvalidRequest},
		{OpReserve, `{id:"r","amount":5}`, actors.ErrInvalidRequest},
		{OpReserve, `["id","r"]`, actors.ErrInvalidRequest},
		{OpReserve, `  `, actors.ErrInvalidRequest},
		{OpSettle, `{"id":"s","hold_id":"h","actual":1,"final":True}`, actors.ErrInvalidRequest},
		{OpBalance, `{}}`, actors.ErrInvalidRequest},
		{OpBalance, `{`, actors.ErrInvalidRequest},
	}
	var d Decoder
	for _, tt := range tests {
		c, err := d.Decode(tt.op, []byte(tt.body), JSON)
		if err == nil || err.Code != tt.code {
			t.Errorf("%s %s: %v %v; want %s", tt.op, tt.body, c, err, tt.code)
		}
	}
}

func TestDecodeJSONStrings(t *testing.T) {
	body := `{ "id" : "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é" , "\u0061mount" : 1 , "meta" : { "k\u0031" : "" } }`
	c, err := Decoder{}.Decode(OpDebit, []byte(body), JSON)
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ ID string }
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatal(err)
	}
	got := c.(actors.Debit)
	if got.ID != want.ID || got.Amount != 1 || !reflect.DeepEqual(got.Meta, actors.Meta{"k1": ""}) {
		t.Errorf("got %+v, want id %q", got, want.ID)
	}
}

// A lone UTF-16 surrogate escape is no character: refused, not read as
// U+FFFD (which would make these ids and "\ufffd" one id).
func TestDecodeJSONLoneSurrogates(t *testing.T) {
	for _, id := range []string{`\ud800`, `\udc00`, `a\ud800b`, `\ud800\u0041`, `\ud800\ud800`, `\udc00\ud800`, `\ud800\`} {
		body := `{"id":"` + id + `","amount":1}`
		if c, err := (Decoder{}).Decode(OpDebit, []byte(body), JSON); err == nil || err.Code != actors.ErrInvalidRequest {
			t.Errorf("%s: %v %v, want invalid_request", body, c, err)
		}
	}
	c, err := Decoder{}.Decode(OpDebit, []byte(`{"id":"\ufffd\ud83d\ude00","amount":1}`), JSON)
	if err != nil || c.(actors.Debit).ID != "\ufffd\U0001F600" {
		t.Fatalf("a pair and U+FFFD itself: %v %v", c, err)
	}
}

// TestDecodeBadMsgpack covers what only raw msgpack can say.
func TestDecodeBadMsgpack(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		code actors.Code
	}{
		{"not a map", []byte{0x93, 1, 2, 3}, actors.ErrInvalidRequest},
		{"nil", []byte{0xc0}, actors.ErrInvalidRequest},
		{"truncated map", []byte{0x82, 0xa2, 'i', 'd'}, actors.ErrInvalidRequest},
		{"forged map length", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, actors.ErrInvalidRequest},
		{"forged str length", []byte{0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, actors.ErrInvalidRequest},
		{"integer key", []byte{0x81, 0x01, 0x01}, actors.ErrInvalidRequest},
		{"bin key", []byte{0x81, 0xc4, 0x02, 'i', 'd', 0xa1, 'r'}, actors.ErrInvalidRequest},
		{"bin id", []byte{0x81, 0xa2, 'i', 'd', 0xc4, 0x01, 'r'}, actors.ErrInvalidRequest},
		{"invalid utf-8 id", []byte{0x81, 0xa2, 'i', 'd', 0xa1, 0xff}, actors.ErrInvalidRequest},
		{"trailing byte", []byte{0x80, 0x00}, actors.ErrInvalidRequest},
		{"truncated amount", []byte{0x81, 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0xcd, 0x01}, actors.ErrInvalidRequest},
		{"integral float64 amount", []byte{0x81, 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0}, actors.ErrInvalidAmount},
		{"float32 amount", []byte{0x81, 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0xca, 0x3f, 0x80, 0, 0}, actors.ErrInvalidAmount},
		{"duplicate amount", []byte{0x82, 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0x01, 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0x02}, actors.ErrInvalidRequest},
	}
	var d Decoder
	for _, tt := range tests {
		c, err := d.Decode(OpReserve, tt.body, Msgpack)
		if err == nil || err.Code != tt.code {
			t.Errorf("%s: %v %v; want %s", tt.name, c, err, tt.code)
		}
	}
}

func TestDecodeMsgpackTimes(t *testing.T) {
	// A string time in msgpack, and the timestamp extension in its 32-bit,
	// 64-bit and 96-bit forms (whole seconds, nanoseconds, after 2514).
	late := time.Date(2262, 1, 1, 0, 0, 0, 1, time.UTC)
	for _, at := range []any{"2030-01-02T03:04:05.6Z", t0.Truncate(time.Second), t0, late} {
		body, err := msgpack.Marshal(obj{"id": "g", "amount": 1, "kind": "paid", "effective_at": at})
		if err != nil {
			t.Fatal(err)
		}
		c, derr := Decoder{}.Decode(OpGrant, body, Msgpack)
		if derr != nil {
			t.Errorf("%v: %v", at, derr)
			continue
		}
		want, ok := at.(time.Time)
		if !ok {
			want = t0
		}
		if got := c.(actors.Grant).EffectiveAt; !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%v: got %v", at, got)
		}
	}
}

func TestDecodePayloadTooLarge(t *testing.T) {
	big := `{"id":"r","amount":5,"meta":{"k":"` + strings.Repeat("x", 64<<10) + `"}}`
	for _, d := range []Decoder{{}, {MaxPayload: 100}} {
		for _, enc := range []Encoding{JSON, Msgpack} {
			if _, err := d.Decode(OpReserve, []byte(big), enc); err == nil || err.Code != actors.ErrPayloadTooLarge {
				t.Errorf("max %d %s: %v", d.MaxPayload, enc, err)
			}
			if _, err := d.DecodeHistory([]byte(big), enc); err == nil || err.Code != actors.ErrPayloadTooLarge {
				t.Errorf("history max %d %s: %v", d.MaxPayload, enc, err)
			}
		}
	}
	exact := []byte(`{"id":"r","amount":5}`)
	if _, err := (Decoder{MaxPayload: len(exact)}).Decode(OpReserve, exact, JSON); err != nil {
		t.Errorf("a body of exactly the limit: %v", err)
	}
}
