package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/purser-dev/purser/actors"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// FuzzDecode proves that no body, in either encoding and for any op,
// makes the decoder panic or answer outside the contract: it returns a
// command of the op or an error with a request code, and it accepts only
// bodies that encoding/json (for JSON) and vmihailenco/msgpack (for
// msgpack) also read as an object, with the same strings in it.
//
// Seeds: testdata/fuzz/FuzzDecode (one per op and encoding, plus bad
// bodies) and the ones added below (governance in both encodings).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"r1","amount":1500,"ttl_ms":30000,"meta":{"a":"b"}}`), uint8(OpReserve), false)
	f.Add([]byte(`{"id":"s\u00e9","hold_id":"r1","actual":0,"final":false}`), uint8(OpSettle), false)
	f.Add([]byte(`{"after_seq":3,"limit":10}`), uint8(OpHistory), false)
	f.Add([]byte{0x82, 0xa2, 'i', 'd', 0xa1, 'r', 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0xcd, 0x05, 0xdc}, uint8(OpReserve), false)
	f.Add([]byte{}, uint8(OpBalance), true)
	// configure's nested governance, which the corpus files only reach empty.
	gov := obj{"id": "c1", "policies": obj{"*": obj{"caps": []any{obj{"window": "day", "limit": 5}},
		"rates": []any{obj{"window": "minute", "requests": 2, "credits": 9}}}},
		"features": obj{"chat": obj{"enabled": true, "limit": obj{"window": "day", "amount": 3}}}}
	for _, marshal := range []func(any) ([]byte, error){json.Marshal, msgpack.Marshal} {
		body, err := marshal(gov)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, uint8(OpConfigure), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, op uint8, jsonHeader bool) {
		o := Op(op % uint8(opCount))
		ct := ""
		if jsonHeader {
			ct = "application/json"
		}
		enc := Detect(body, ct)
		d := Decoder{MaxPayload: 4 << 10}
		var cmd actors.Command
		var err *actors.Error
		if o == OpHistory {
			var h History
			h, err = d.DecodeHistory(body, enc)
			if err == nil && (h.Limit < 1 || h.Limit > MaxHistoryLimit) {
				t.Fatalf("history limit %d out of range", h.Limit)
			}
		} else {
			cmd, err = d.Decode(o, body, enc)
		}
		if err != nil {
			checkRefusal(t, err, cmd, enc)
			return
		}
		if o != OpHistory && (cmd == nil || cmd.Op() != o.String()) {
			t.Fatalf("op %s decoded to %#v", o, cmd)
		}
		if len(body) > 0 {
			agree(t, body, enc, cmd)
		}
	})
}

func checkRefusal(t *testing.T, err *actors.Error, cmd actors.Command, enc Encoding) {
	t.Helper()
	if cmd != nil {
		t.Fatalf("both a command %#v and an error %v", cmd, err)
	}
	switch err.Code {
	case actors.ErrInvalidRequest, actors.ErrInvalidAmount, actors.ErrPayloadTooLarge:
	default:
		t.Fatalf("a decoder error with code %s: %v", err.Code, err)
	}
	if err.Message == "" {
		t.Fatal("an error without a message")
	}
	if out := AppendError(nil, JSON, err); !json.Valid(out) {
		t.Fatalf("error reply is not JSON: %s", out)
	}
}

// stringFields are the command fields that hold a request string verbatim.
var stringFields = map[string]string{"id": "ID", "hold_id": "HoldID", "grant_id": "GrantID", "kind": "Kind",
	"principal": "Principal", "feature": "Feature"}

// agree checks an accepted body against the reference decoder of its
// encoding: the same body must be an object there, with the same strings.
func agree(t *testing.T, body []byte, enc Encoding, cmd actors.Command) {
	t.Helper()
	var ref map[string]any
	if enc == JSON {
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("accepted %q, encoding/json: %v", body, err)
		}
	} else {
		// Values stay raw: a timestamp in extension type 13, which the
		// library's DecodeTime reads (as the decoder does, for JavaScript
		// encoders), has no Go type when decoded into an interface.
		var raw map[string]msgpack.RawMessage
		if err := msgpack.Unmarshal(body, &raw); err != nil {
			t.Fatalf("accepted %x, msgpack: %v", body, err)
		}
		ref = make(map[string]any, len(raw))
		for k, v := range raw {
			var s string
			if msgpcode.IsString(v[0]) && msgpack.Unmarshal(v, &s) == nil {
				ref[k] = s // only strings are compared
			}
		}
	}
	if cmd == nil {
		return
	}
	v := reflect.ValueOf(cmd)
	for wireName, goName := range stringFields {
		s, ok := ref[wireName].(string)
		if f := v.FieldByName(goName); ok && f.IsValid() && f.String() != s {
			t.Fatalf("%s: decoded %q, reference %q", wireName, f.String(), s)
		}
	}
}

// FuzzJSONString proves that any stored string (ids, meta, messages, even
// invalid UTF-8) encodes to a JSON string that encoding/json reads back as
// it reads its own encoding of the same string.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\x7f", "é😀", "\xff\xc3", "\u2028\u2029", "</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(jsonString(nil, s), &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, jsonString(nil, s), err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%q reads back as %q, encoding/json's as %q", s, got, want)
		}
	})
}
