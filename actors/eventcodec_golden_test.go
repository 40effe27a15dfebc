package actors

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The journal is the truth, kept forever: a batch written today must
// replay in every later version. testdata/journal/v<N>.batch holds one
// event of every kind with every field of its day set, as msgpack/v5
// wrote it by reflection (go test -run TestGoldenJournalBatch -update
// writes a missing one from the library, never from AppendEvents). The
// files are frozen: a new field or event kind gets a new golden file, and
// the old ones must keep decoding to the same events.
//
//	v1  every field up to 2026-11-27 14:00 UTC
//	v2  Settled.Principal and Feature (a late settle's attribution)
//	v3  Configured.RescaleRates
func TestGoldenJournalBatch(t *testing.T) {
	v1, v2 := goldenEvents(), goldenEvents()
	for _, e := range v1 {
		if s, ok := e.(*Settled); ok {
			s.Principal, s.Feature = "", ""
		}
	}
	for _, evs := range [][]Event{v1, v2} {
		for _, e := range evs {
			if c, ok := e.(*Configured); ok {
				c.RescaleRates = false
			}
		}
	}
	for _, g := range []struct {
		file string
		evs  []Event
	}{{"v1.batch", v1}, {"v2.batch", v2}, {"v3.batch", goldenEvents()}} {
		t.Run(g.file, func(t *testing.T) { checkGoldenBatch(t, g.file, g.evs) })
	}
}

func checkGoldenBatch(t *testing.T, file string, evs []Event) {
	path := filepath.Join("testdata", "journal", file)
	if *updateSeeds {
		if _, err := os.Stat(path); err == nil {
			t.Logf("%s exists: frozen, not rewritten", path)
		} else {
			data, err := appendEventsReflect(nil, evs)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvents(data)
	if err != nil {
		t.Fatalf("the golden batch no longer decodes: %v", err)
	}
	if !reflect.DeepEqual(unbuffered(got), unbuffered(evs)) {
		t.Fatalf("the golden batch decodes to\n%s\nwant\n%s", showEvents(got), showEvents(evs))
	}
	again, err := AppendEvents(nil, evs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("AppendEvents no longer writes the golden batch's bytes:\n%x\nwant\n%x", again, data)
	}
}

// goldenEvents is one event of every kind with every exported field set
// (pointers too, where the library writes them deterministically: a
// governance with one policy and one feature).
func goldenEvents() []Event {
	var evs []Event
	for kind := kindGrantCreated; kind <= kindConfigured; kind++ {
		e := newEvent(kind)
		fillAll(reflect.ValueOf(e).Elem())
		evs = append(evs, e)
	}
	gov := &Governance{
		Policies: map[string]Policy{"team:a": {Caps: []Cap{{Window: WindowDay, Limit: 500}},
			Rates: []Rate{{Window: WindowMinute, Requests: 5, Credits: 50}}}},
		Features: map[string]Feature{"chat": {Enabled: true, Limit: &FeatureLimit{Window: WindowHour, Amount: 90}}},
	}
	c := newEvent(kindConfigured).(*Configured)
	fillAll(reflect.ValueOf(c).Elem())
	c.Governance = gov
	return append(evs, c)
}
