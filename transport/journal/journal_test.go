// These tests prove the JetStream journal keeps the actors.Journal
// contract on a real embedded server with fsync always: batches read back
// exactly as appended, fences refuse stale writers (and only them, even
// inside a shared atomic batch), concurrent wallets are coalesced into
// fewer durable writes, and nothing is lost across a restart.
package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
)

func TestRoundTrip(t *testing.T) { forSetups(t, allSetups, testRoundTrip) }

func testRoundTrip(t *testing.T, su setup) {
	for _, mode := range su.modes() {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			e := startEnvSetup(t, t.TempDir(), su)
			j, _ := e.open(t, Config{Mode: mode})
			// Opening probes the route to the stream with a publish the
			// stream refuses: nothing may be stored by it.
			info, err := j.stream.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != 0 {
				t.Fatalf("a fresh journal's stream holds %d messages", info.State.Msgs)
			}
			s := newScript("w1")
			var prev uint64
			var acked []uint64
			for range 5 {
				pos, err := appendSync(t, j, "w1", prev, s.next(t))
				if err != nil {
					t.Fatal(err)
				}
				if pos <= prev {
					t.Fatalf("position %d after %d", pos, prev)
				}
				acked = append(acked, pos)
				prev = pos
			}
			// Another wallet's messages interleave in the stream but not in
			// w1's replay.
			if _, err := appendSync(t, j, "w2", 0, newScript("w2").next(t)); err != nil {
				t.Fatal(err)
			}
			w, positions := replay(t, j, "w1", 0)
			if fmt.Sprint(positions) != fmt.Sprint(acked) {
				t.Fatalf("replayed positions %v, acked %v", positions, acked)
			}
			if w.Seq() != s.w.Seq() || w.Figures() != s.w.Figures() || w.OpenHolds() != 4 {
				t.Fatalf("replayed seq %d figures %+v holds %d; want seq %d figures %+v holds 4",
					w.Seq(), w.Figures(), w.OpenHolds(), s.w.Seq(), s.w.Figures())
			}
			// From a middle position only the later batches come back.
			var tailEvents int
			tail := readFrom(t, j, "w1", acked[2], func(actors.Event) { tailEvents++ })
			if fmt.Sprint(tail) != fmt.Sprint(acked[3:]) {
				t.Fatalf("read from %d: %v, want %v", acked[2], tail, acked[3:])
			}
			if tailEvents == 0 {
				t.Fatal("tail read decoded no events")
			}
			_, none := replay(t, j, "nobody", 0)
			if len(none) != 0 {
				t.Fatalf("unknown wallet read %v", none)
			}
		})
	}
}

func TestFenceStaleWriter(t *testing.T) { forSetups(t, allSetups, testFenceStaleWriter) }

func testFenceStaleWriter(t *testing.T, su setup) {
	for _, mode := range su.modes() {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			e := startEnvSetup(t, t.TempDir(), su)
			a, _ := e.open(t, Config{Mode: mode})
			b, _ := e.open(t, Config{Mode: mode})
			s := newScript("w1")
			evs := s.next(t)
			p1, err := appendSync(t, a, "w1", 0, evs)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := appendSync(t, b, "w1", 0, evs); !errors.Is(err, actors.ErrFenced) {
				t.Fatalf("stale writer: %v, want ErrFenced", err)
			}
			p2, err := appendSync(t, b, "w1", p1, s.next(t))
			if err != nil {
				t.Fatalf("new owner: %v", err)
			}
			if _, err := appendSync(t, a, "w1", p1, s.next(t)); !errors.Is(err, actors.ErrFenced) {
				t.Fatalf("old owner after takeover: %v, want ErrFenced", err)
			}
			if _, got := replay(t, a, "w1", 0); fmt.Sprint(got) != fmt.Sprint([]uint64{p1, p2}) {
				t.Fatalf("journal %v, want [%d %d]", got, p1, p2)
			}
		})
	}
}

// A stale fence inside one atomic batch makes the server refuse the whole
// batch; only its wallet may fail, the others must land exactly once.
func TestFenceInSharedBatch(t *testing.T) { forSetups(t, batchSetups, testFenceInSharedBatch) }

func testFenceInSharedBatch(t *testing.T, su setup) {
	e := startEnvSetup(t, t.TempDir(), su)
	owner, _ := e.open(t, Config{})
	j, _ := e.open(t, Config{MinBatch: 1}) // seven appends make a batch
	stale := newScript("stale")
	taken, err := appendSync(t, owner, "stale", 0, stale.next(t))
	if err != nil {
		t.Fatal(err)
	}

	// Queue the stale append in the middle of six good ones, then let
	// the sender take all seven at once.
	j.holdSends(true)
	const others = 6
	chans := make([]<-chan result, others)
	var staleCh <-chan result
	for i := range others {
		if i == others/2 {
			staleCh = appendAsync(t, j, "stale", 0, newScript("stale").next(t))
		}
		id := fmt.Sprintf("w%d", i)
		chans[i] = appendAsync(t, j, id, 0, newScript(id).next(t))
	}
	j.holdSends(false)

	if r := wait(t, staleCh); !errors.Is(r.err, actors.ErrFenced) {
		t.Fatalf("stale wallet: %+v, want ErrFenced", r)
	}
	for i := range others {
		id := fmt.Sprintf("w%d", i)
		r := wait(t, chans[i])
		if r.err != nil {
			t.Fatalf("%s: %v", id, r.err)
		}
		if _, got := replay(t, j, id, 0); fmt.Sprint(got) != fmt.Sprint([]uint64{r.pos}) {
			t.Fatalf("%s journal %v, want exactly [%d]", id, got, r.pos)
		}
	}
	if _, got := replay(t, j, "stale", 0); fmt.Sprint(got) != fmt.Sprint([]uint64{taken}) {
		t.Fatalf("stale wallet journal %v, want only the owner's %d", got, taken)
	}
	st := j.Stats()
	// One refused batch of 7, one resolution, one resent batch of 6.
	if st.Batches != 2 || st.Resolutions != 1 || st.Requeues != others || st.Fenced != 1 || st.Acked != others {
		t.Fatalf("stats %+v", st)
	}
}

// Many wallets appending at once, each like an actor (one append in
// flight, the next fenced on the last position), are coalesced into far
// fewer durable writes, and every batch lands once, in order.
func TestConcurrentWalletsCoalesced(t *testing.T) {
	forSetups(t, allSetups, testConcurrentWalletsCoalesced)
}

func testConcurrentWalletsCoalesced(t *testing.T, su setup) {
	e := startEnvSetup(t, t.TempDir(), su)
	j, _ := e.open(t, Config{})
	const wallets, per = 200, 15
	acked := make([][]uint64, wallets)
	scripts := make([]*walletScript, wallets)
	var wg sync.WaitGroup
	errs := make(chan error, wallets)
	for i := range wallets {
		scripts[i] = newScript(fmt.Sprintf("w%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := scripts[i]
			var prev uint64
			for range per {
				r := wait(t, appendAsync(t, j, s.w.ID(), prev, s.next(t)))
				if r.err != nil {
					errs <- fmt.Errorf("%s: %w", s.w.ID(), r.err)
					return
				}
				acked[i] = append(acked[i], r.pos)
				prev = r.pos
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every message keeps its fence header, atomic batches included, so
	// each replay walks its wallet's whole chain back (with the density
	// rule off: how dense a wallet's messages are here is up to timing).
	j.walk.dense = 0
	for i, s := range scripts {
		w, got := replay(t, j, s.w.ID(), 0)
		if fmt.Sprint(got) != fmt.Sprint(acked[i]) {
			t.Fatalf("%s journal %v, acked %v", s.w.ID(), got, acked[i])
		}
		if w.Seq() != s.w.Seq() || w.Figures() != s.w.Figures() {
			t.Fatalf("%s replay seq %d, want %d", s.w.ID(), w.Seq(), s.w.Seq())
		}
	}
	st := j.Stats()
	// A replica that lags can stop a walk on a cluster.
	if !su.cluster && (st.ReadBack != wallets*per || st.ReadForward != 0) {
		t.Fatalf("replays read %d messages back and %d forwards; want all %d back", st.ReadBack, st.ReadForward, wallets*per)
	}
	if st.Acked != wallets*per || st.Messages != wallets*per {
		t.Fatalf("stats %+v: want %d acked, each sent once", st, wallets*per)
	}
	writes := st.Batches
	if su.groupSync {
		writes = st.Syncs
	}
	if writes*4 > st.Appends {
		t.Fatalf("%d durable writes for %d appends: not coalesced", writes, st.Appends)
	}
	t.Logf("%d appends in %d durable writes", st.Appends, writes)
}

func TestRestartKeepsEverything(t *testing.T) { forSetups(t, allSetups, testRestartKeepsEverything) }

func testRestartKeepsEverything(t *testing.T, su setup) {
	dir := t.TempDir()
	e := startEnvSetup(t, dir, su)
	j, _ := e.open(t, Config{Partitions: 16})
	s := newScript("w1")
	var acked []uint64
	var prev uint64
	for range 3 {
		pos, err := appendSync(t, j, "w1", prev, s.next(t))
		if err != nil {
			t.Fatal(err)
		}
		acked, prev = append(acked, pos), pos
	}
	subject := j.Subject("w1")
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.restart(t)
	// A different P on reopen must not move wallets: the stream's wins.
	j, _ = e.open(t, Config{Partitions: 999})
	if j.Partitions() != 16 || j.Subject("w1") != subject {
		t.Fatalf("reopened with P=%d subject %s, want 16 and %s", j.Partitions(), j.Subject("w1"), subject)
	}
	w, got := replay(t, j, "w1", 0)
	if fmt.Sprint(got) != fmt.Sprint(acked) || w.Figures() != s.w.Figures() {
		t.Fatalf("after restart %v %+v, want %v %+v", got, w.Figures(), acked, s.w.Figures())
	}
	if _, err := appendSync(t, j, "w1", prev, s.next(t)); err != nil {
		t.Fatalf("append after restart: %v", err)
	}
	if _, err := appendSync(t, j, "w1", acked[0], s.next(t)); !errors.Is(err, actors.ErrFenced) {
		t.Fatalf("stale append after restart: %v", err)
	}
}

func TestDeletesAndPurgesRefused(t *testing.T) {
	e := startEnv(t, t.TempDir())
	j, js := e.open(t, Config{})
	pos, err := appendSync(t, j, "w1", 0, newScript("w1").next(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, pos); err == nil {
		t.Error("delete allowed")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("purge allowed")
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(j.Subject("w1"))); err == nil {
		t.Error("subject purge allowed")
	}
	if _, got := replay(t, j, "w1", 0); len(got) != 1 {
		t.Fatalf("journal after refused deletes: %v", got)
	}
}

func TestStreamChecked(t *testing.T) {
	e := startEnv(t, t.TempDir())
	_, js := e.open(t, Config{Stream: "OTHER", Prefix: "other"})
	ctx := context.Background()
	// A stream that allows purges must not be used as a journal.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LOOSE", Subjects: []string{"loose.*.*"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, js, Config{Stream: "LOOSE", Prefix: "loose"}); err == nil {
		t.Fatal("journal opened on a purgeable stream")
	}
	if _, err := New(ctx, js, Config{MaxBatch: 5000}); err == nil {
		t.Fatal("MaxBatch above the server limit accepted")
	}
}

func TestAppendRefusals(t *testing.T) {
	e := startEnv(t, t.TempDir())
	j, _ := e.open(t, Config{})
	evs := newScript("w1").next(t)
	for _, bad := range []string{"", "a.b", "a*", string(make([]byte, 129))} {
		if _, err := appendSync(t, j, bad, 0, evs); !errors.Is(err, ErrBadWallet) {
			t.Errorf("wallet %q: %v", bad, err)
		}
	}
	if _, err := j.Read(context.Background(), "a>b", 0, nil); !errors.Is(err, ErrBadWallet) {
		t.Errorf("read bad wallet: %v", err)
	}
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := appendSync(t, j, "w1", 0, evs); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

func TestOverloadedWhenQueueFull(t *testing.T) {
	e := startEnv(t, t.TempDir())
	j, _ := e.open(t, Config{MaxPending: 2})
	j.holdSends(true)
	evs := newScript("w1").next(t)
	a := appendAsync(t, j, "a", 0, evs)
	b := appendAsync(t, j, "b", 0, evs)
	if r := wait(t, appendAsync(t, j, "c", 0, evs)); !errors.Is(r.err, ErrOverloaded) {
		t.Fatalf("third append: %+v, want ErrOverloaded", r)
	}
	j.holdSends(false)
	for _, ch := range []<-chan result{a, b} {
		if r := wait(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
}

func TestPartitionStable(t *testing.T) {
	// FNV-1a 32 of "w1" is 0x10473805; pinned so a change of hash
	// (which would orphan every wallet's journal) fails here.
	if got := Partition("w1", 256); got != 5 {
		t.Fatalf("Partition(w1, 256) = %d, want 5", got)
	}
	seen := map[uint32]bool{}
	for i := range 1000 {
		p := Partition(fmt.Sprintf("wallet-%d", i), 256)
		if p >= 256 {
			t.Fatalf("partition %d out of range", p)
		}
		seen[p] = true
	}
	if len(seen) < 200 {
		t.Fatalf("1000 wallets hit only %d of 256 partitions", len(seen))
	}
}
