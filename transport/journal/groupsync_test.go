package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
)

// heldSync opens a group-sync journal whose Sync waits at a gate: each
// Sync that begins sends on entered, and returns (a real fsync) only once
// the gate is closed. open closes the gate; entered has room for 4.
func heldSync(t *testing.T, e *env) (j *Journal, js jetstream.JetStream, entered chan struct{}, open func()) {
	entered = make(chan struct{}, 4)
	gate := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	j, js = e.open(t, Config{Mode: ModeGroupSync, Sync: func() error {
		entered <- struct{}{}
		<-gate
		return e.sync.Sync()
	}})
	return j, js, entered, open
}

// syncBegan waits for a Sync to begin.
func syncBegan(t *testing.T, entered chan struct{}) {
	t.Helper()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no Sync began")
	}
}

// A failed fsync fails the appends it was to cover and every later one,
// even when a later fsync would succeed: the kernel may have dropped the
// writes the failure was about and report the next fsync clean.
func TestGroupSyncFailureIsPermanent(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{groupSync: true})
	var mu sync.Mutex
	fail := false
	syncs := 0
	j, _ := e.open(t, Config{Mode: ModeGroupSync, Sync: func() error {
		mu.Lock()
		defer mu.Unlock()
		syncs++
		if fail {
			return errors.New("EIO")
		}
		return e.sync.Sync()
	}})
	s := newScript("w1")
	pos, err := appendSync(t, j, "w1", 0, s.next(t))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	if _, err := appendSync(t, j, "w1", pos, s.next(t)); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("append under a failing fsync: %v, want ErrNotDurable", err)
	}
	mu.Lock()
	fail = false
	before := syncs
	mu.Unlock()
	// The failed append reached the server: its position is unknown to the
	// caller, so any prev would do; none may be acknowledged now.
	for i := range 3 {
		if _, err := appendSync(t, j, fmt.Sprintf("other%d", i), 0, newScript("o").next(t)); !errors.Is(err, ErrNotDurable) {
			t.Fatalf("append after a failed fsync: %v, want ErrNotDurable", err)
		}
	}
	mu.Lock()
	after := syncs
	mu.Unlock()
	if after != before {
		t.Fatalf("%d more syncs after the failure: appends were sent", after-before)
	}
	// Refused at Append: never sent, so not counted as sent and failed.
	if st := j.Stats(); st.Acked != 1 || st.Failed != 1 || st.Messages != 2 {
		t.Fatalf("stats %+v: want 1 acked, 1 failed, 2 sent", st)
	}
	// Nor is the stream read: a wallet rebuilt from it would answer from
	// appends a power loss may erase.
	if _, err := j.Read(context.Background(), "w1", 0, func(uint64, []actors.Event) error { return nil }); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("read after a failed fsync: %v, want ErrNotDurable", err)
	}
}

// An append that resolution finds landed (its ack was lost) is reported
// like an acked one: only after a Sync that began once it was found.
func TestGroupSyncResolvedLandingWaitsForSync(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{groupSync: true})
	j, js, entered, open := heldSync(t, e)
	ch := make(chan result, 2)
	landed := pendingFor(t, j, "w1", 0, "x.1", ch)
	at := publishAs(t, js, landed)
	resolveNow(j, errAckTimeout, landed)
	syncBegan(t, entered)
	select {
	case r := <-ch:
		t.Fatalf("landed append reported before its Sync returned: %+v", r)
	default:
	}
	open()
	if r := wait(t, ch); r != (result{pos: at}) {
		t.Fatalf("landed append: %+v, want position %d", r, at)
	}
}

// Every append is reported only after a Sync that began after its ack:
// an append is never acknowledged on the server's word alone.
func TestGroupSyncAcksOnlyAfterSync(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{groupSync: true})
	j, _, entered, open := heldSync(t, e)
	ch := appendAsync(t, j, "w1", 0, newScript("w1").next(t))
	// The server acknowledged the append (the syncer only starts a Sync
	// for acknowledged appends), and the Sync is held: not reported yet.
	syncBegan(t, entered)
	if st := j.Stats(); st.Acked != 0 {
		t.Fatalf("stats %+v: acknowledged before its sync returned", st)
	}
	select {
	case r := <-ch:
		t.Fatalf("append reported before its sync returned: %+v", r)
	default:
	}
	open()
	if r := wait(t, ch); r.err != nil || r.pos == 0 {
		t.Fatalf("append: %+v", r)
	}
}

// Group sync is refused where an fsync of the server's files would not
// cover what it acknowledged, or where there is nothing to sync with.
func TestGroupSyncConfigRefused(t *testing.T) {
	sync := func() error { return nil }
	for _, cfg := range []Config{
		{Mode: ModeGroupSync, Sync: sync, Replicas: 3},
		{Mode: ModeGroupSync},
		{Mode: ModeBatch, Sync: sync},
	} {
		if err := cfg.withDefaults().validate(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if err := (Config{Mode: ModeGroupSync, Sync: sync}).withDefaults().validate(); err != nil {
		t.Errorf("single-replica group sync refused: %v", err)
	}
}

// After a failed Sync the journal calls Sync no more: what a later call
// would say is not to be trusted (appends acked before the failure and
// still waiting would otherwise be reported durable).
func TestGroupSyncNotRetriedAfterFailure(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{groupSync: true})
	calls := 0
	j, _ := e.open(t, Config{Mode: ModeGroupSync, Sync: func() error {
		calls++
		if calls == 1 {
			return errors.New("EIO")
		}
		return nil
	}})
	if err := j.sync(); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("first sync: %v", err)
	}
	if err := j.sync(); !errors.Is(err, ErrNotDurable) || calls != 1 {
		t.Fatalf("second sync: %v after %d calls of Sync; want the first failure and no call", err, calls)
	}
}

// An existing stream whose store acks before it writes (async persist) is
// refused in group sync: the journal's fsync would not cover its acks.
func TestGroupSyncRefusesAnAsyncPersistStream(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{groupSync: true})
	nc, err := nats.Connect(e.srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Mode: ModeGroupSync, Sync: e.sync.Sync}.withDefaults()
	sc := streamConfig(cfg)
	sc.PersistMode = jetstream.AsyncPersistMode
	if _, err := js.CreateStream(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), js, cfg); err == nil || !strings.Contains(err.Error(), "does not write before it acks") {
		t.Fatalf("group sync on an async-persist stream: %v", err)
	}
}

// An fsync on a stalled disk may never return: Close stops waiting for it
// when its ctx ends, answers the appends it was to cover as of unknown
// outcome (stored by the server, durable or not) before returning, and
// starts no other fsync.
func TestCloseGivesUpOnAStuckSync(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{groupSync: true})
	j, _, entered, _ := heldSync(t, e) // the stuck Sync's goroutine ends with the test
	ch := appendAsync(t, j, "w1", 0, newScript("w1").next(t))
	syncBegan(t, entered)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := j.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close: %v, want the ctx's error", err)
	}
	select {
	case r := <-ch:
		if !errors.Is(r.err, ErrOutcomeUnknown) {
			t.Fatalf("append under the stuck Sync: %+v, want ErrOutcomeUnknown", r)
		}
	default:
		t.Fatal("append not answered when Close returned")
	}
	if n := len(entered); n != 0 {
		t.Fatalf("%d more Syncs started after Close gave up", n)
	}
}
