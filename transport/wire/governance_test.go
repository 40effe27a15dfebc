package wire

// Decoding configure's policies and features: both encodings give the
// same command, an empty object clears, and duplicate keys in raw JSON are
// refused like at the top level. The refusals are rows of badTests.

import (
	"reflect"
	"testing"

	"github.com/purser-dev/purser/actors"
)

func TestDecodeGovernance(t *testing.T) {
	fields := obj{"id": "c",
		"policies": obj{
			"*":             obj{"caps": []any{obj{"window": "day", "limit": 1000}, obj{"limit": 50, "window": "minute"}}},
			"team:r/user:a": obj{"rates": []any{obj{"window": "second", "requests": 5, "credits": 100}}},
			"team:r":        obj{},
		},
		"features": obj{"chat": obj{"enabled": true, "limit": obj{"window": "month", "amount": 7}}, "img": obj{"enabled": false}},
	}
	want := actors.Configure{ID: "c",
		Policies: map[string]actors.Policy{
			"*":             {Caps: []actors.Cap{{Window: actors.WindowDay, Limit: 1000}, {Window: actors.WindowMinute, Limit: 50}}},
			"team:r/user:a": {Rates: []actors.Rate{{Window: actors.WindowSecond, Requests: 5, Credits: 100}}},
			"team:r":        {},
		},
		Features: map[string]actors.Feature{"chat": {Enabled: true, Limit: &actors.FeatureLimit{Window: actors.WindowMonth, Amount: 7}},
			"img": {}}}
	var d Decoder
	for enc, body := range encodeBoth(t, fields) {
		c, err := d.Decode(OpConfigure, body, enc)
		if err != nil || !reflect.DeepEqual(c, want) {
			t.Errorf("%s: %+v %v\nwant %+v", enc, c, err, want)
		}
	}
	for enc, body := range encodeBoth(t, obj{"id": "c", "policies": obj{}, "features": obj{}}) {
		c, err := d.Decode(OpConfigure, body, enc)
		if err != nil || c.(actors.Configure).Policies == nil || c.(actors.Configure).Features == nil {
			t.Errorf("%s: an empty object must be given and empty: %+v %v", enc, c, err)
		}
	}
	for _, body := range []string{
		`{"id":"c","policies":{"*":{},"*":{}}}`,
		`{"id":"c","policies":{"*":{"caps":[],"caps":[]}}}`,
		`{"id":"c","policies":{"*":{"caps":[{"window":"day","window":"hour","limit":1}]}}}`,
		`{"id":"c","features":{"x":{"enabled":true,"enabled":false}}}`,
		`{"id":"c","policies":{"*":{"caps":[{"window":"day","limit":1},]}}}`,
		`{"id":"c","policies":{"*":{"caps":[{"window":"day","limit":1}}}}`,
	} {
		if c, err := d.Decode(OpConfigure, []byte(body), JSON); err == nil || err.Code != actors.ErrInvalidRequest {
			t.Errorf("%s: %+v %v, want invalid_request", body, c, err)
		}
	}
}
