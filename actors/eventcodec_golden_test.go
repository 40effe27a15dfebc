package actors

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The journal is the truth, kept forever: a batch written today must
// replay in every later version. testdata/journal/v1.batch holds one event
// of every kind with every field set, as msgpack/v5 wrote it by reflection
// before the codec was hand-written (go test -run TestGoldenJournalBatch
// -update writes it from the library, never from AppendEvents). The file
// is frozen: a new field or event kind gets a new golden file, and this
// one must keep decoding to the same events.
func TestGoldenJournalBatch(t *testing.T) {
	evs := goldenEvents()
	path := filepath.Join("testdata", "journal", "v1.batch")
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
