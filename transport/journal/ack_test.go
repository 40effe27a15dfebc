package journal

import (
	"encoding/json"
	"testing"
)

// parseAck's fast path reads exactly what encoding/json reads, and leaves
// everything else (batch acks, errors, garbage) to it.
func TestParseAckAgreesWithJSON(t *testing.T) {
	for _, data := range []string{
		`{"stream":"PURSER_JOURNAL","seq":42}`,
		`{"stream":"PURSER_JOURNAL","seq":18446744073709551615}`,
		`{"stream":"PURSER_JOURNAL","domain":"hub","seq":7,"duplicate":true}`,
		`{"stream":"PURSER_JOURNAL","seq":9,"batch":"b1","count":3}`,
		`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"},"stream":"PURSER_JOURNAL","seq":0}`,
		`{"stream":"PURSER_JOURNAL","seq":99999999999999999999}`,
		`{"stream":"PURSER_JOURNAL","seq":12`,
		`{"stream":"PURSER_JOURNAL","seq":-1}`,
		`{"seq": 5}`,
		``,
		`nats: no responders`,
	} {
		got, gotErr := parseAck([]byte(data))
		var want pubAck
		wantErr := json.Unmarshal([]byte(data), &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: error %v, json says %v", data, gotErr, wantErr)
			continue
		}
		if gotErr == nil && (got.Seq != want.Seq || got.Batch != want.Batch || got.Count != want.Count || (got.Error == nil) != (want.Error == nil)) {
			t.Errorf("%s: %+v, json reads %+v", data, got, want)
		}
	}
}

// FuzzParseAck: on any input the fast path agrees with encoding/json.
//
//	go test -run '^$' -fuzz FuzzParseAck ./transport/journal/
func FuzzParseAck(f *testing.F) {
	for _, s := range []string{`{"stream":"PURSER_JOURNAL","seq":42}`, `{"seq":1,"batch":"x","count":1}`, `{"error":{"code":503}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gotErr := parseAck(data)
		var want pubAck
		wantErr := json.Unmarshal(data, &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, json says %v", data, gotErr, wantErr)
		}
		if gotErr == nil && (got.Seq != want.Seq || got.Batch != want.Batch || got.Count != want.Count || (got.Error == nil) != (want.Error == nil)) {
			t.Fatalf("%q: %+v, json reads %+v", data, got, want)
		}
	})
}
