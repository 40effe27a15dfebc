package snapshot

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// goldenV4 is where the v4 golden files are: the image, its segments
// (s<slot>), and whole.snap, the same image in format v3.
var goldenV4 = filepath.Join("testdata", "v4")

// writeGoldenV4 writes the v4 golden files, once: afterwards they stand
// for the snapshots stored in that format, and -update must not replace
// them. The image is the shutdown image of history (runtime_test.go), its
// queued ids in segments of 4.
func writeGoldenV4(t *testing.T) {
	if _, err := os.Stat(goldenV4); !*update || !errors.Is(err, fs.ErrNotExist) {
		return
	}
	store, blobs := NewMemStore()
	store.segRows, store.minSegmented = 4, 4
	var whole []byte
	s := newSystem(t, actors.NewMemJournal(), saveHook{Store: store, see: func(img *actors.Image) {
		var err error
		if whole, err = Encode(img); err != nil {
			t.Error(err)
		}
	}}, nil)
	history(t, s, "w", 0, historyLen)
	closeSystem(t, s)
	if err := os.MkdirAll(goldenV4, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"image.snap": blobs.Raw("w"), "whole.snap": whole}
	for _, key := range blobs.Segments() {
		slot, _ := strings.CutPrefix(key, "w.")
		files[slot] = blobs.segments[key]
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(goldenV4, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// saveHook is a store that shows each image to see before saving it, and
// calls after (if set) once it is saved.
type saveHook struct {
	*Store
	see   func(*actors.Image)
	after func()
}

func (h saveHook) Save(ctx context.Context, img *actors.Image) error {
	h.see(img)
	err := h.Store.Save(ctx, img)
	if h.after != nil {
		h.after()
	}
	return err
}

// goldenV4Blobs returns the golden image and segments as a store holds
// them, and the image in format v3.
func goldenV4Blobs(t testing.TB) (*MemBlobs, []byte) {
	_, blobs := NewMemStore()
	entries, err := os.ReadDir(goldenV4)
	if err != nil {
		t.Fatal(err)
	}
	var whole []byte
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(goldenV4, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch name := e.Name(); {
		case name == "image.snap":
			blobs.SetRaw("w", data)
		case name == "whole.snap":
			whole = data
		case strings.HasPrefix(name, "s"):
			slot, err := strconv.Atoi(name[1:])
			if err != nil {
				t.Fatalf("golden file %s", name)
			}
			blobs.SetSegment("w", slot, data)
		}
	}
	return blobs, whole
}

// TestGoldenV4Loads: the v4 image and its segments, written by an earlier
// build, load as the same image in format v3, and restore.
func TestGoldenV4Loads(t *testing.T) {
	writeGoldenV4(t)
	blobs, whole := goldenV4Blobs(t)
	if len(blobs.Segments()) < 2 {
		t.Fatalf("the golden image has %d segments", len(blobs.Segments()))
	}
	if _, err := Decode(blobs.Raw("w")); !errors.Is(err, ErrSegmented) {
		t.Fatalf("Decode of a v4 image with segments: %v, want ErrSegmented", err)
	}
	got, err := NewStore(blobs).Load(context.Background(), "w")
	if err != nil {
		t.Fatalf("the v4 golden files no longer load: %v", err)
	}
	want, err := Decode(whole)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(norm(got), norm(want)) {
		t.Fatal("the v4 golden image loads as another image than its v3 twin")
	}
	if _, _, err := actors.FromImage(got, actors.DefaultLimits()); err != nil {
		t.Fatalf("the v4 golden image does not restore: %v", err)
	}
}

// FuzzSegment: no segment makes a load panic, whatever its id columns
// hold and whichever of its rows the image names; what loads restores or
// is refused. The input is the segment's id columns, under a valid header
// and nonce, which the image names with the right CRC (mutations of a
// whole segment would only meet its checksum).
func FuzzSegment(f *testing.F) {
	blobs, _ := goldenV4Blobs(f)
	seg, err := blobs.GetSegment(context.Background(), "w", 0)
	if err != nil || seg == nil {
		f.Fatalf("golden segment: %v", err)
	}
	h, err := unseal(seg, segmentMagic, segmentVersion)
	if err != nil {
		f.Fatal(err)
	}
	r := &reader{Reader: mpack.Reader{B: h.body, Short: errShort}}
	r.fields(segmentFields, "segment")
	r.uint()
	f.Add(r.B[len(r.B)-r.Left():], uint8(0), uint8(4))
	f.Add(r.B[len(r.B)-r.Left():], uint8(3), uint8(2))
	f.Add([]byte{0x97, 0x01}, uint8(0), uint8(1))
	img := goldenWallet(f).Image(42)
	c, rows, err := idSource(img)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cols []byte, skip, n uint8) {
		body := mpack.AppendUint(mpack.AppendArrayLen(nil, segmentFields), 7)
		body = append(body, cols...)
		blob := seal(append(make([]byte, headerFixed+1), body...), segmentMagic, segmentVersion, "w")
		hold := make([]actors.RecordImage, n)
		plan := idPlan{refs: []segmentRef{{seg: &segment{slot: 0, nonce: 7, crc: crc(body)}, skip: int(skip),
			rows: actors.RowsOf(hold)}}, tail: rows}
		img := *img
		img.Wallet = "w"
		data, err := encode(&img, c, actors.IDRows{}, plan)
		if err != nil {
			t.Fatal(err)
		}
		store, blobs := NewMemStore()
		blobs.SetRaw("w", data)
		blobs.SetSegment("w", 0, blob)
		got, err := store.Load(context.Background(), "w")
		if err != nil {
			return
		}
		_, _, _ = actors.FromImage(got, actors.DefaultLimits()) // must not panic
	})
}
