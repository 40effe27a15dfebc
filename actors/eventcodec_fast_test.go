package actors

// The hand-written event codec against msgpack/v5's reflective one, which
// defined the journal format before it and is kept here as its reference:
//   - on random values of every event type (eventcodec_gen_test.go) and on
//     batches Decide made, AppendEvents writes the bytes the library writes
//     (where those are deterministic: the library writes a map of more than
//     one entry in Go's random order), and DecodeEvents gives what the
//     library gives, on both encoders' output;
//   - on arbitrary bytes (FuzzDecodeEvents), and on batches in every form
//     the library reads (eventcodec_forms_test.go), the two decoders both
//     refuse or both give equal events.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"

	"github.com/purser-dev/purser/actors/mpack"
)

var updateSeeds = flag.Bool("update", false, "write the FuzzDecodeEvents seeds in testdata/fuzz from real batches")

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

// decodeEventsReflect is DecodeEvents as it was.
func decodeEventsReflect(data []byte) ([]Event, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	n, err := dec.DecodeArrayLen()
	if err != nil || n < 0 || n%2 != 0 || n/2 > MaxBatchEvents || n/2 > len(data) {
		return nil, fmt.Errorf("%w: bad batch header", ErrCorruptBatch)
	}
	evs := make([]Event, 0, n/2)
	for i := 0; i < n/2; i++ {
		kind, err := dec.DecodeUint8()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorruptBatch, err)
		}
		e := newEvent(kind)
		if e == nil {
			return nil, fmt.Errorf("%w: unknown event kind %d", ErrCorruptBatch, kind)
		}
		if err := dec.Decode(e); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorruptBatch, err)
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// unbuffered moves lists that live in an event's buf to arrays of their
// own and clears buf, so that events compare by content: the hand decoder
// uses buf as Decide does, the library cannot see it.
func unbuffered(evs []Event) []Event {
	own := func(s *[]Allocation) {
		if *s != nil {
			*s = append([]Allocation{}, *s...)
		}
	}
	for _, e := range evs {
		switch e := e.(type) {
		case *HoldPlaced:
			own(&e.Earmarks)
			e.buf = [2]Allocation{}
		case *Settled:
			own(&e.FromHold)
			own(&e.FromFree)
			own(&e.Returned)
			e.buf = [6]Allocation{}
		case *Released:
			own(&e.Returned)
			e.buf = [2]Allocation{}
		case *HoldExpired:
			own(&e.Returned)
			e.buf = [2]Allocation{}
		}
	}
	return evs
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

// sameAsLibrary checks AppendEvents and DecodeEvents against the library on
// one batch.
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
	var decoded [][]Event
	for _, data := range [][]byte{got, want} {
		fast, err := DecodeEvents(data)
		if err != nil {
			t.Fatalf("DecodeEvents: %v", err)
		}
		slow, err := decodeEventsReflect(data)
		if err != nil {
			t.Fatalf("library decoder: %v", err)
		}
		if !reflect.DeepEqual(unbuffered(fast), unbuffered(slow)) {
			t.Fatalf("DecodeEvents gave\n%s\nthe library\n%s", showEvents(fast), showEvents(slow))
		}
		decoded = append(decoded, unbuffered(slow))
	}
	// Where the bytes may differ (a Meta's key order), the meaning may not.
	if !reflect.DeepEqual(decoded[0], decoded[1]) {
		t.Fatalf("AppendEvents' batch reads as\n%s\nthe library's as\n%s", showEvents(decoded[0]), showEvents(decoded[1]))
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

// hostileToLibrary: the library sizes a list from its length alone (its
// alloc limit is never applied, v5.4.1 decode_slice.go), so an array32
// header of 2^32−1 asks it for 96 GiB of Allocations and kills the process.
// Lengths over 2^16 anywhere in the input are left out of the comparison
// (the hand decoder must still not panic on them, and refuses any length
// the bytes left cannot hold).
func hostileToLibrary(data []byte) bool {
	for i, c := range data {
		if (c == 0xdd || c == 0xdf) && i+5 <= len(data) && binary.BigEndian.Uint32(data[i+1:]) > 1<<16 {
			return true
		}
	}
	return false
}

// mp writes msgpack for the seeds below: a string as a str, an int as an
// int, a float64 as a double, a byte or []byte as themselves.
func mp(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b = mpack.AppendStr(b, p)
		case int:
			b = mpack.AppendInt(b, int64(p))
		case float64:
			b = binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(p))
		case byte:
			b = append(b, p)
		case []byte:
			b = append(b, p...)
		}
	}
	return b
}

// libraryPaths are batches the encoder never writes but the library reads,
// as seeds: the fuzzer starts from each way in.
var libraryPaths = map[string][]byte{
	"struct as array": mp(byte(0x92), byte(0xcc), kindHoldPlaced, byte(0x9b), 7, 9, "h1", 30, 99, 1, "t:0", "chat",
		byte(0xc0), byte(0x91), byte(0x92), "g1", 30, byte(0x96), "r1", 1, 5, byte(0x92), 1, 2, byte(0x90), byte(0xc0)),
	"empty array and nil structs": mp(byte(0x94), byte(0xcc), kindSettled, byte(0x90), byte(0xcc), kindRevoked,
		byte(0x83), "r", byte(0xc0), "g", "x", "r", byte(0x90)),
	"Head key": mp(byte(0x92), byte(0xcc), kindGrantActivated, byte(0x83), "s", 4, "Head", byte(0x81), "t", 6, "g", "g1"),
	"meta after ext": mp(byte(0x92), byte(0xcc), kindDebited, byte(0x82), "md", byte(0xd4), byte(0x01),
		byte(0x81), "k", "v", "md", byte(0xc7), byte(0x00), byte(0x02), byte(0x81), "k2", byte(0xc0)),
	"repeated lists": mp(byte(0x92), byte(0xcc), kindSettled, byte(0x84),
		"fh", byte(0x92), byte(0x82), "g", "a", "a", 1, byte(0x82), "g", "b", "a", 2,
		"fh", byte(0x91), byte(0x81), "a", 9,
		"fh", byte(0x93), byte(0x80), byte(0x80), byte(0x80),
		"rt", byte(0x90)),
	"repeated answer": mp(byte(0x92), byte(0xcc), kindReleased, byte(0x83),
		"r", byte(0x82), "n", byte(0x93), 1, 2, 3, "i", "x",
		"r", byte(0x82), "n", byte(0xc0), "o", -1,
		"r", byte(0x81), "n", byte(0x91), 7),
	"other encodings": mp(byte(0x92), []byte{0xd1, 0x01, kindHoldExpired}, byte(0x85),
		byte(0xc0), 1,
		"zz", byte(0x93), byte(0x81), "k", []byte{0xd5, 0, 0, 0}, byte(0x92), 1, 1.5, byte(0xc2),
		"h", []byte{0xc4, 2, 'h', '1'}, "s", -1, "t", []byte{0xcf, 0x80, 0, 0, 0, 0, 0, 0, 1}),
	"configured": mp(byte(0x92), byte(0xcc), kindConfigured, byte(0x83),
		"st", byte(0x82), "mo", 1, "ps", byte(0xc3),
		"gv", byte(0x82), "p", byte(0x81), "*", byte(0x81), "c", byte(0x91), byte(0x82), "w", 2, "l", 10,
		"f", byte(0x81), "chat", byte(0x82), "l", byte(0x81), "a", 5, "l", byte(0x81), "w", 3,
		"r", byte(0x81), "gv", byte(0xc0)),
}

// FuzzDecodeEvents: on any bytes, DecodeEvents and the library both refuse
// or both give equal events, which AppendEvents then writes as the library
// does. Refusals are compared as such, not by message (the messages differ;
// every refusal must be ErrCorruptBatch). Both ignore bytes after the batch,
// so trailing bytes change neither answer. Inputs with a length over 2^16
// are not given to the library (hostileToLibrary).
func FuzzDecodeEvents(f *testing.F) {
	for _, name := range slices.Sorted(maps.Keys(libraryPaths)) {
		f.Add(libraryPaths[name])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, err := DecodeEvents(data)
		if err != nil && !errors.Is(err, ErrCorruptBatch) {
			t.Fatalf("DecodeEvents: %v is not ErrCorruptBatch", err)
		}
		if hostileToLibrary(data) {
			return
		}
		slow, slowErr := decodeEventsReflect(data)
		switch {
		case err != nil && slowErr != nil:
			return
		case err != nil || slowErr != nil:
			t.Fatalf("DecodeEvents: %v; the library: %v", err, slowErr)
		}
		if !reflect.DeepEqual(unbuffered(fast), unbuffered(slow)) {
			t.Fatalf("DecodeEvents gave\n%s\nthe library\n%s", showEvents(fast), showEvents(slow))
		}
		sameAsLibrary(t, fast)
	})
}

// TestWriteFuzzDecodeEventsSeeds writes real batches as the fuzz target's
// seeds (go test -run TestWriteFuzzDecodeEventsSeeds -update ./actors/).
func TestWriteFuzzDecodeEventsSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("writes seeds only with -update")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeEvents")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gen := rapid.Custom(genRealBatches)
	var n int
	seen := map[uint8]int{} // batches written per kind: a few of each
	enough := func() bool {
		for k := kindGrantCreated; k <= kindConfigured; k++ {
			if seen[k] < 4 {
				return false
			}
		}
		return true
	}
	for seed := 0; seed < 1000 && !enough(); seed++ {
		for _, evs := range gen.Example(seed) {
			fresh := false
			for _, e := range evs {
				fresh = fresh || seen[eventKind(e)] < 4
			}
			if !fresh {
				continue
			}
			for _, e := range evs {
				seen[eventKind(e)]++
			}
			data, err := AppendEvents(nil, evs)
			if err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("batch-%03d", n)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("%d seeds, batches per kind %v", n, seen)
}

// genRealBatches runs random commands on a wallet (with governance) and
// returns each command's events, and now and then a few commands' events
// together, as an actor batch is.
func genRealBatches(t *rapid.T) [][]Event {
	w := NewWallet("w1", genLimits(t))
	g := newGen(t, true)
	var out [][]Event
	var batch []Event
	for range rapid.IntRange(1, 60).Draw(t, "commands") {
		g.advance(t)
		evs, _, _ := w.Execute(g.command(t, w.Figures()), g.now, nil)
		g.observe(evs)
		batch = append(batch, evs...)
		if rapid.IntRange(0, 3).Draw(t, "batch ends") > 0 {
			out, batch = append(out, batch), nil
		}
	}
	return append(out, batch)
}

// TestEventCodecWritesEveryField: every event type with every exported
// field set (found by reflection, so a field added to an event later is
// covered) encodes as the library encodes it. The hand-written encoder
// lists each type's fields; one it does not list would be lost from the
// journal, and this test would see the library write it.
func TestEventCodecWritesEveryField(t *testing.T) {
	for kind := kindGrantCreated; kind <= kindConfigured; kind++ {
		e := newEvent(kind)
		fillAll(reflect.ValueOf(e).Elem())
		if c, ok := e.(*Configured); ok {
			c.Governance = nil // the library writes Configured's governance; its maps have no order
		}
		sameAsLibrary(t, []Event{e})
	}
}

// fillAll sets every exported field of v to a value that is not zero: one
// element in each list and map, pointers left nil.
func fillAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := range v.Len() {
			fillAll(v.Index(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillAll(s.Index(0))
		v.Set(s)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillAll(k)
		fillAll(e)
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i))
			}
		}
	}
}

// newEvent is an empty event of a kind (the reflective reference decoder's
// target; the hand-written decoder builds its own).
func newEvent(kind uint8) Event {
	switch kind {
	case kindGrantCreated:
		return &GrantCreated{}
	case kindGrantActivated:
		return &GrantActivated{}
	case kindDebtRepaid:
		return &DebtRepaid{}
	case kindHoldPlaced:
		return &HoldPlaced{}
	case kindAuthorized:
		return &Authorized{}
	case kindHoldExtended:
		return &HoldExtended{}
	case kindSettled:
		return &Settled{}
	case kindReleased:
		return &Released{}
	case kindHoldExpired:
		return &HoldExpired{}
	case kindDebited:
		return &Debited{}
	case kindGrantExpired:
		return &GrantExpired{}
	case kindRevoked:
		return &Revoked{}
	case kindConfigured:
		return &Configured{}
	}
	return nil
}
