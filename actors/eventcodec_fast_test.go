package actors

// The hand-written event encoder against msgpack/v5's reflective one, which
// defined the journal format before it and is kept here as its reference:
// on random values of every event type (eventcodec_gen_test.go) and on
// batches Decide made, AppendEvents writes the bytes the library writes
// (where those are deterministic: the library writes a map of more than
// one entry in Go's random order), and what it writes decodes as the
// library's bytes do.

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"
)

// appendEventsReflect is AppendEvents as it was: the library by reflection.
func appendEventsReflect(buf []byte, evs []Event) ([]byte, error) {
	b := bytes.NewBuffer(buf)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(b)
	enc.UseCompactInts(true)
	if err := enc.EncodeArrayLen(len(evs) * 2); err != nil {
		return nil, err
	}
	for _, e := range evs {
		if err := enc.EncodeUint8(eventKind(e)); err != nil {
			return nil, err
		}
		if err := enc.Encode(e); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func showEvents(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		if v := reflect.ValueOf(e); !v.IsNil() {
			fmt.Fprintf(&b, "%T %+v\n", e, v.Elem().Interface())
		} else {
			fmt.Fprintf(&b, "%T nil\n", e)
		}
	}
	return b.String()
}

// deterministic: the library writes these events' bytes in one order only.
func deterministic(evs []Event) bool {
	for _, e := range evs {
		v := reflect.ValueOf(e)
		if v.IsNil() {
			continue
		}
		v = v.Elem()
		for _, name := range []string{"Meta", "Governance", "Answer"} {
			f := v.FieldByName(name)
			switch {
			case !f.IsValid():
			case name == "Meta" && f.Len() > 1:
				return false
			case name == "Governance" && !govOrdered(f.Interface().(*Governance)):
				return false
			case name == "Answer" && !govOrdered(f.Interface().(Answer).Gov):
				return false
			}
		}
	}
	return true
}

func govOrdered(g *Governance) bool { return g == nil || len(g.Policies) <= 1 && len(g.Features) <= 1 }

// sameAsLibrary checks AppendEvents against the library on one batch.
func sameAsLibrary(t interface{ Fatalf(string, ...any) }, evs []Event) {
	got, err := AppendEvents(nil, evs)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	want, err := appendEventsReflect(nil, evs)
	if err != nil {
		t.Fatalf("library encoder: %v", err)
	}
	if deterministic(evs) && !bytes.Equal(got, want) {
		t.Fatalf("AppendEvents wrote\n%x\nthe library\n%x", got, want)
	}
	if len(got) != len(want) {
		t.Fatalf("AppendEvents wrote %d bytes, the library %d", len(got), len(want))
	}
	fromGot, err := DecodeEvents(got)
	if err != nil {
		t.Fatalf("DecodeEvents: %v", err)
	}
	fromWant, err := DecodeEvents(want)
	if err != nil {
		t.Fatalf("DecodeEvents: %v", err)
	}
	if !reflect.DeepEqual(fromGot, fromWant) {
		t.Fatalf("AppendEvents' bytes decode to\n%s\nthe library's to\n%s", showEvents(fromGot), showEvents(fromWant))
	}
}

func TestEventCodecMatchesLibrary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sameAsLibrary(t, rapid.SliceOfN(rapid.Custom(genEvent), 0, 20).Draw(t, "events"))
	})
}

// TestEventCodecMatchesLibraryOnRealBatches: events as Decide makes them,
// lists in buf included.
func TestEventCodecMatchesLibraryOnRealBatches(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		for _, evs := range genRealBatches(t) {
			sameAsLibrary(t, evs)
		}
	})
}

// genRealBatches runs random commands on a wallet (with governance) and
// returns each command's events, and now and then a few commands' events
// together, as an actor batch is.
func genRealBatches(t *rapid.T) [][]Event {
	w := NewWallet("w1", genLimits(t))
	g := &genState{now: genStart, gov: true}
	var out [][]Event
	var batch []Event
	for range rapid.IntRange(1, 60).Draw(t, "commands") {
		g.advance(t)
		evs, r, err := w.Execute(g.command(t), g.now, nil)
		if err == nil {
			g.placed(r)
		}
		batch = append(batch, evs...)
		if rapid.IntRange(0, 3).Draw(t, "batch ends") > 0 {
			out, batch = append(out, batch), nil
		}
	}
	return append(out, batch)
}
