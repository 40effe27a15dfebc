package snapshot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"
)

// A paced reader hands out every byte, in order, no faster than its rate
// (time is the bubble's: the test takes none), and stops when its context
// ends.
func TestPacedReaderKeepsItsRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		data := make([]byte, 10<<20+12345)
		for i := range data {
			data[i] = byte(i * 7)
		}
		const rate = 512 << 20
		start := time.Now()
		r := newPacedReader(context.Background(), data, rate)
		var got bytes.Buffer
		chunk := make([]byte, 128<<10)
		for {
			n, err := r.Read(chunk)
			got.Write(chunk[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			// Never ahead of the rate: what it has handed out, but for
			// the last read, took at least its share of time.
			if min := time.Duration(float64(got.Len()-n) / rate * float64(time.Second)); time.Since(start) < min {
				t.Fatalf("%d bytes after %v, want at least %v", got.Len(), time.Since(start), min)
			}
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatal("the bytes read are not the data")
		}
		// 10 MiB at 512 MiB/s: ~20 ms, not (much) more.
		if d := time.Since(start); d < 19*time.Millisecond || d > 21*time.Millisecond {
			t.Fatalf("took %v", d)
		}

		ctx, cancel := context.WithCancel(context.Background())
		r = newPacedReader(ctx, data, 1) // a byte a second: the second read waits
		if _, err := r.Read(chunk); err != nil {
			t.Fatal(err)
		}
		go func() { time.Sleep(time.Second); cancel() }()
		if _, err := r.Read(chunk); !errors.Is(err, context.Canceled) {
			t.Fatalf("read after cancel: %v", err)
		}
	})
}
