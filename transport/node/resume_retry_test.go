package node

// The start-up sweep's retries, against a wallet table that is really
// full: a restart with room for fewer wallets than have open holds.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/journal"
)

const resumeDone = "resume: wallets activated for their time-driven changes"

// A wallet the table refused on the sweep's first pass is tried again and
// activated once there is room: its hold that fell due during the downtime
// expires with no request to it. The held wallets fill the table (their
// open holds keep them in memory) before the sweep reaches the due ones,
// so every due wallet is refused once; then the held ones' holds are
// released, they leave memory, and only a retry can bring the due ones in.
func TestResumeRetriesTheWalletsAFullTableRefused(t *testing.T) {
	// The first wait between rounds is where the first pass ends: the test
	// acts there, then lets the rounds go on, each a fiftieth of its wait.
	firstPass, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	setRoundWait(t, func(ctx context.Context, d time.Duration) bool {
		first := false
		once.Do(func() { first = true })
		if !first {
			return sleep(ctx, d/50)
		}
		close(firstPass)
		select {
		case <-release:
			return true
		case <-ctx.Done():
			return false
		}
	})
	dir := t.TempDir()
	var now atomic.Int64
	held, due := seedHeldAndDue(t, dir, &now, 2, 3)

	now.Add(int64(2 * time.Minute)) // the due wallets' holds fall due
	logs, n := restartWithRoomFor(t, dir, &now, len(held))
	c := client{t: t, nc: connect(t, n)}
	select {
	case <-firstPass:
	case <-time.After(30 * time.Second): // a bound on failure, not a wait
		t.Fatal("the sweep's first pass did not end")
	}
	if got := n.System().Stats().TicksRefused; got != uint64(len(due)) {
		t.Fatalf("the sweep's first pass: %d refusals, want %d", got, len(due))
	}
	for _, w := range due {
		if types := historyTypes(c, w); slices.Contains(types, "hold_expired") {
			t.Fatalf("%s was refused, yet its hold expired: %v", w, types)
		}
	}
	for _, w := range held {
		c.ok("purser.v1.release."+w, map[string]any{"id": "rel", "hold_id": "r"})
	}
	close(release)

	awaitResumed(t, n)
	for _, w := range due {
		if types := historyTypes(c, w); len(types) != 3 || types[2] != "hold_expired" {
			t.Fatalf("history of %s, refused on the first pass, after the sweep: %v", w, types)
		}
	}
	e := sweepLog(t, logs)
	if e.Level != zapcore.InfoLevel || e.ContextMap()["failed"] != int64(0) || e.ContextMap()["wallets"] != int64(len(held)+len(due)) {
		t.Fatalf("the sweep's log line: %s %v", e.Level, e.ContextMap())
	}
}

// Wallets the table refuses through every round are left, each tried once
// per round, and the sweep says so at error level: their expiries wait
// for a request.
func TestResumeLogsAnErrorForWalletsStillRefusedAfterEveryRound(t *testing.T) {
	setRoundWait(t, func(ctx context.Context, _ time.Duration) bool { return ctx.Err() == nil })
	dir := t.TempDir()
	var now atomic.Int64
	held, due := seedHeldAndDue(t, dir, &now, 1, 2)

	now.Add(int64(2 * time.Minute))
	logs, n := restartWithRoomFor(t, dir, &now, len(held))
	awaitResumed(t, n)
	st := n.System().Stats()
	if got, want := st.TicksRefused, uint64(len(due)*(1+resumeRounds)); got != want {
		t.Fatalf("%d refusals, want %d: each due wallet on the first pass and in each of %d rounds", got, want, resumeRounds)
	}
	if st.Overloaded != 0 {
		t.Fatalf("%d refusals counted as requests' (overloaded); the sweep's are its own", st.Overloaded)
	}
	e := sweepLog(t, logs)
	m := e.ContextMap()
	names, _ := m["failed_first"].([]any)
	if e.Level != zapcore.ErrorLevel || m["failed"] != int64(len(due)) {
		t.Fatalf("the sweep's log line: %s %v", e.Level, m)
	}
	c := client{t: t, nc: connect(t, n)}
	for _, w := range due {
		if types := historyTypes(c, w); slices.Contains(types, "hold_expired") {
			t.Fatalf("%s was refused throughout, yet its hold expired: %v", w, types)
		}
		if !slices.Contains(names, any(w)) {
			t.Fatalf("%s missing from the log's failed_first %v", w, m["failed_first"])
		}
	}
}

// setRoundWait replaces the sweep's waits between rounds for one test.
// The node's Close waits for the sweep, and runs before this cleanup, so
// the sweep never reads it as it changes.
func setRoundWait(t *testing.T, wait func(context.Context, time.Duration) bool) {
	old := roundWait
	roundWait = wait
	t.Cleanup(func() { roundWait = old })
}

// seedHeldAndDue runs a node on dir with the test's clock (set here) and
// the default runtime, and leaves nHeld wallets with a hold open for an
// hour and nDue with one due in a minute. The held wallets are in lower
// partitions than the due ones: the sweep goes a partition at a time, so
// it activates every held wallet before it tries a due one.
func seedHeldAndDue(t *testing.T, dir string, now *atomic.Int64, nHeld, nDue int) (held, due []string) {
	t.Helper()
	now.Store(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixNano())
	rt := actors.DefaultConfig()
	rt.Now = func() time.Time { return time.Unix(0, now.Load()) }
	n, err := Start(context.Background(), Config{DataDir: dir, NATSListen: "127.0.0.1:0", Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	parts := n.Journal().Partitions()
	for i := 0; len(held) < nHeld || len(due) < nDue; i++ {
		w := fmt.Sprintf("w%d", i)
		if p := journal.Partition(w, parts); p < parts/2 && len(held) < nHeld {
			held = append(held, w)
		} else if p >= parts/2 && len(due) < nDue {
			due = append(due, w)
		}
	}
	c := client{t: t, nc: connect(t, n)}
	for _, w := range append(slices.Clone(held), due...) {
		ttl := 60_000
		if slices.Contains(held, w) {
			ttl = 3_600_000
		}
		c.ok("purser.admin.v1.grant."+w, map[string]any{"id": "g", "amount": 100, "kind": "paid"})
		c.ok("purser.v1.reserve."+w, map[string]any{"id": "r", "amount": 30, "ttl_ms": ttl})
	}
	<-n.Resumed()
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return held, due
}

// restartWithRoomFor starts a node on dir whose wallet table holds max
// wallets (under eight: no slot is kept for requests), logging to the
// returned observer. Wallets with nothing open leave memory a moment after
// their last request.
func restartWithRoomFor(t *testing.T, dir string, now *atomic.Int64, max int) (*observer.ObservedLogs, *Node) {
	t.Helper()
	rt := actors.DefaultConfig()
	rt.Now = func() time.Time { return time.Unix(0, now.Load()) }
	rt.MaxActors = max
	rt.IdleAfter = 10 * time.Millisecond
	core, logs := observer.New(zapcore.InfoLevel)
	n, err := Start(context.Background(), Config{DataDir: dir, NATSListen: "127.0.0.1:0", Runtime: rt, Log: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return logs, n
}

func awaitResumed(t *testing.T, n *Node) {
	t.Helper()
	select {
	case <-n.Resumed():
	case <-time.After(30 * time.Second):
		t.Fatal("the start-up sweep did not finish")
	}
}

// sweepLog is the sweep's one closing log line.
func sweepLog(t *testing.T, logs *observer.ObservedLogs) observer.LoggedEntry {
	t.Helper()
	got := logs.FilterMessage(resumeDone).All()
	if len(got) != 1 {
		t.Fatalf("%d log lines %q, want 1", len(got), resumeDone)
	}
	return got[0]
}

// historyTypes reads wallet's history from the journal: no request to the
// wallet's actor.
func historyTypes(c client, wallet string) []string {
	c.t.Helper()
	entries, _ := c.ok("purser.admin.v1.history."+wallet, map[string]any{}).body["entries"].([]any)
	var types []string
	for _, e := range entries {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	return types
}
