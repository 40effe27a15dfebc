package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/purser-dev/purser/actors"
)

// checkedStore is a Store that checks each snapshot it saves against
// Encode of the same image, while the image is fresh from its actor.
type checkedStore struct {
	*Store
	blobs *MemBlobs
	mu    sync.Mutex
	bad   []string
}

func (s *checkedStore) Save(ctx context.Context, img *actors.Image) error {
	if err := s.Store.Save(ctx, img); err != nil {
		return err
	}
	want, err := Encode(img)
	if err != nil {
		return err
	}
	if got := s.blobs.Raw(img.Wallet); !bytes.Equal(got, want) {
		s.mu.Lock()
		s.bad = append(s.bad, fmt.Sprintf("%s at %d: %d bytes saved, Encode gives %d", img.Wallet, img.Pos, len(got), len(want)))
		s.mu.Unlock()
	}
	return nil
}

// A snapshot saved with the previous one's id columns to copy from is
// byte for byte the snapshot Encode writes, whatever happened between the
// two: ids queued and evicted, holds closed, lapsed and settled late (a
// status change in a row the cache holds), a restart (each wallet back
// from its snapshot, in another id table, its oldest ids in columns), more
// wallets than the store caches.
func TestCachedEncodingIsEncode(t *testing.T) {
	var copied atomic.Uint64
	rapid.Check(t, func(rt *rapid.T) {
		store, blobs := NewMemStore()
		store.minCached = 1
		cs := &checkedStore{Store: store, blobs: blobs}
		var now atomic.Int64
		now.Store(t0.UnixNano())
		cfg := actors.DefaultConfig()
		cfg.Now = func() time.Time { return time.Unix(0, now.Add(int64(time.Millisecond))) }
		cfg.Snapshots = cs
		cfg.SnapshotEvery = 1
		cfg.Limits.MaxRememberedIDs = rapid.IntRange(1, 40).Draw(rt, "max_ids")
		j := actors.NewMemJournal()
		start := func() *actors.System {
			s, err := actors.NewSystem(cfg, j)
			if err != nil {
				rt.Fatal(err)
			}
			return s
		}
		s := start()
		wallets := rapid.IntRange(1, cachedWallets+2).Draw(rt, "wallets")
		ask := func(w int, cmd actors.Command) {
			_, _ = s.Ask(context.Background(), fmt.Sprintf("w%d", w), cmd)
		}
		for w := range wallets {
			ask(w, actors.Grant{ID: "g", Amount: 1 << 40, Kind: "paid"})
		}
		reserved := make([][]string, wallets)
		for i := range rapid.IntRange(1, 300).Draw(rt, "steps") {
			w := rapid.IntRange(0, wallets-1).Draw(rt, "wallet")
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 1, 2, 3:
				id := fmt.Sprintf("r%d", i)
				ttl := rapid.SampledFrom([]int64{5, 3_600_000}).Draw(rt, "ttl_ms")
				ask(w, actors.Reserve{ID: id, Amount: 10, TTLms: ttl})
				reserved[w] = append(reserved[w], id)
			case 4, 5, 6:
				if len(reserved[w]) > 0 {
					// Any hold reserved so far: open, closed, or lapsed
					// (a late settle closes a row that may be cached).
					hold := rapid.SampledFrom(reserved[w]).Draw(rt, "hold")
					ask(w, actors.Settle{ID: fmt.Sprintf("s%d", i), HoldID: hold, Actual: 5, Final: true})
				}
			case 7:
				ask(w, actors.Debit{ID: fmt.Sprintf("d%d", i), Amount: 1})
			case 8:
				now.Add(int64(10 * time.Millisecond)) // short holds lapse
			case 9:
				// A restart: every wallet comes back from its snapshot
				// (ids in columns, then queued) in another id table.
				if err := s.Close(context.Background()); err != nil {
					rt.Fatal(err)
				}
				s = start()
			}
		}
		if err := s.Close(context.Background()); err != nil {
			rt.Fatal(err)
		}
		if len(cs.bad) > 0 {
			rt.Fatalf("%d snapshots differ from Encode's, first: %s", len(cs.bad), cs.bad[0])
		}
		copied.Add(store.Stats().RowsCopied)
	})
	t.Logf("rows copied from the cache: %d", copied.Load())
	if copied.Load() == 0 {
		t.Fatal("no snapshot copied a row from the cache: the test proves nothing")
	}
}

// The hot wallet's two images (the benchmark's): the second, encoded with
// the first's columns to copy from, is Encode's, and most rows are copied.
func TestCachedEncodingOfTheHotWallet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wallet of 125,000 entries")
	}
	imgs := hotImages()
	prev, l, err := encode(imgs[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	got, l, err := encode(imgs[1], l.cache(prev))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Encode(imgs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("cached encoding of %d bytes differs from Encode's %d", len(got), len(want))
	}
	if rows := imgs[1].IDRows().Len(); l.reused < rows*9/10 {
		t.Fatalf("copied %d of %d rows", l.reused, rows)
	}
}
