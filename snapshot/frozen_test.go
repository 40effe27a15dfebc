package snapshot

// A wallet restored from a v3 snapshot keeps its remembered ids as the
// snapshot's columns (actors.IDColumns) and decodes an answer only when a
// request needs it. Over random histories, through the real codec:
// restoring at a cut and going on gives the same replies and the same
// state as the wallet that never stopped, and so does restoring that
// restored wallet's own snapshot (columns shared, part evicted, statuses
// changed).

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/purser-dev/purser/actors"
)

type histGen struct {
	now   time.Time
	holds []string
}

func (g *histGen) id(t *rapid.T) string {
	return fmt.Sprintf("r%d", rapid.IntRange(0, 30).Draw(t, "id"))
}

func (g *histGen) hold(t *rapid.T) string {
	if len(g.holds) == 0 || rapid.IntRange(0, 9).Draw(t, "stray") == 0 {
		return g.id(t)
	}
	return g.holds[rapid.IntRange(0, len(g.holds)-1).Draw(t, "hold")]
}

func (g *histGen) command(t *rapid.T) actors.Command {
	if rapid.IntRange(0, 3).Draw(t, "later") == 0 {
		g.now = g.now.Add(time.Duration(rapid.IntRange(1, 400).Draw(t, "seconds")) * time.Second)
	}
	amount := rapid.Int64Range(1, 300).Draw(t, "amount")
	switch rapid.IntRange(0, 7).Draw(t, "op") {
	case 0:
		return actors.Grant{ID: g.id(t), Amount: 10 * amount, Kind: "paid"}
	case 1, 2:
		c := actors.Reserve{ID: g.id(t), Amount: amount, TTLms: rapid.Int64Range(1, 300).Draw(t, "ttl_s") * 1000}
		g.holds = append(g.holds, c.ID)
		return c
	case 3, 4:
		return actors.Settle{ID: g.id(t), HoldID: g.hold(t), Actual: amount, Final: rapid.Bool().Draw(t, "final")}
	case 5:
		return actors.Release{ID: g.id(t), HoldID: g.hold(t)}
	case 6:
		return actors.Debit{ID: g.id(t), Amount: amount}
	}
	return actors.Tick{}
}

type result struct {
	Evs   []actors.Event
	Reply actors.Reply
	Err   *actors.Error
}

func run(w *actors.Wallet, c actors.Command, now time.Time) result {
	evs, r, err := w.Execute(c, now, nil)
	return result{evs, r, err}
}

// flat is img with its ids as records and its holds in id order.
func flat(t *rapid.T, img *actors.Image) *actors.Image {
	c := *norm(img)
	slices.SortFunc(c.Holds, func(a, b actors.HoldImage) int { return strings.Compare(a.ID, b.ID) })
	if c.IDCols != nil {
		t.Fatal("columns that do not decode")
	}
	return &c
}

func roundTrip(t *rapid.T, w *actors.Wallet, pos uint64, limits actors.Limits) *actors.Wallet {
	data, err := Encode(w.Image(pos))
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := actors.FromImage(img, limits)
	if err != nil {
		t.Fatalf("FromImage: %v", err)
	}
	return r
}

func TestRestoredFromColumnsBehavesAsTheOriginal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limits := actors.DefaultLimits()
		limits.MaxRememberedIDs = rapid.IntRange(1, 25).Draw(t, "max_ids")
		limits.IDRetention = time.Duration(rapid.IntRange(1, 30).Draw(t, "retention_min")) * time.Minute
		g := &histGen{now: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
		orig := actors.NewWallet("w", limits)
		var restored *actors.Wallet
		steps := rapid.IntRange(1, 150).Draw(t, "steps")
		cuts := rapid.SliceOfN(rapid.IntRange(0, steps-1), 1, 3).Draw(t, "cuts")
		for i := range steps {
			if slices.Contains(cuts, i) {
				// Restore from the original the first time, from the
				// restored wallet (columns and all) after that.
				from := orig
				if restored != nil {
					from = restored
				}
				restored = roundTrip(t, from, uint64(i+1), limits)
				if a, b := flat(t, restored.Image(1)), flat(t, orig.Image(1)); !reflect.DeepEqual(a, b) {
					t.Fatalf("step %d: restored image differs:\n got  %+v\n want %+v", i, a, b)
				}
			}
			c := g.command(t)
			a := run(orig, c, g.now)
			if restored != nil {
				if b := run(restored, c, g.now); !reflect.DeepEqual(a, b) {
					t.Fatalf("step %d (%s): original %+v, restored %+v", i, c.Op(), a, b)
				}
			}
		}
		if restored != nil {
			if a, b := flat(t, restored.Image(1)), flat(t, orig.Image(1)); !reflect.DeepEqual(a, b) {
				t.Fatalf("at the end: restored image differs:\n got  %+v\n want %+v", a, b)
			}
		}
	})
}

// TestColumnsDecodeAtAnyAlignment: the decoder uses the fixed-width
// columns in place when they are 8-aligned in memory and copies them when
// not; both give the same image.
func TestColumnsDecodeAtAnyAlignment(t *testing.T) {
	// Every hold settled: the ids are most of the snapshot, so the decoder
	// shares its bytes rather than copying the columns out.
	w := bigWallet(t, 10)
	now := time.Date(2026, 6, 1, 0, 0, 1, 0, time.UTC)
	for i := range 10 {
		id := fmt.Sprintf("hold-%07d", i)
		if _, _, err := w.Execute(actors.Settle{ID: "s" + id, HoldID: id, Actual: 5, Final: true}, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	data, err := Encode(w.Image(3))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if want.IDCols == nil || want.IDCols.Len() == 0 {
		t.Fatal("no id columns to decode")
	}
	inPlace := 0
	for shift := range 8 {
		buf := make([]byte, shift+len(data))
		copy(buf[shift:], data)
		got, err := Decode(buf[shift:])
		if err != nil || !reflect.DeepEqual(norm(got), norm(want)) {
			t.Fatalf("shifted by %d: %v", shift, err)
		}
		at := uintptr(unsafe.Pointer(unsafe.SliceData(got.IDCols.At)))
		if start := uintptr(unsafe.Pointer(&buf[0])); at >= start && at < start+uintptr(len(buf)) {
			inPlace++
		}
	}
	if littleEndian && inPlace != 1 {
		t.Fatalf("times used in place at %d of 8 alignments, want 1", inPlace)
	}
}

// TestColumnsLeaveTheRestOfASnapshot: when a snapshot is mostly open holds,
// the decoded id columns are copied out of it (the restored wallet keeps
// them, not the whole snapshot), and read the same.
func TestColumnsLeaveTheRestOfASnapshot(t *testing.T) {
	w := bigWallet(t, 1000)
	now := time.Date(2026, 6, 1, 0, 0, 1, 0, time.UTC)
	for i := range 10 {
		id := fmt.Sprintf("hold-%07d", i)
		if _, _, err := w.Execute(actors.Settle{ID: "s" + id, HoldID: id, Actual: 5}, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	data, err := Encode(w.Image(3))
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	start, end := uintptr(unsafe.Pointer(&data[0])), uintptr(unsafe.Pointer(&data[0]))+uintptr(len(data))
	for name, p := range map[string]uintptr{
		"ids":   uintptr(unsafe.Pointer(unsafe.SliceData(img.IDCols.IDs))),
		"times": uintptr(unsafe.Pointer(unsafe.SliceData(img.IDCols.At))),
	} {
		if p >= start && p < end {
			t.Errorf("%s still point into the snapshot", name)
		}
	}
	if !reflect.DeepEqual(norm(img), norm(w.Image(3))) {
		t.Fatal("copied columns read differently")
	}
}
