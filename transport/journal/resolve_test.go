// These tests prove unknown outcomes are resolved by reading, never
// guessed: an append that landed without its ack is acknowledged with its
// real position, one that did not land is sent again (once), a stale one
// is fenced, and even when every ack is lost each append lands exactly
// once.
package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
)

// pendingFor builds an append as Append would, without queueing it.
func pendingFor(tb testing.TB, j *Journal, wallet string, prev uint64, id string, ch chan result) *pending {
	tb.Helper()
	data, err := actors.AppendEvents(nil, newScript(wallet).next(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return &pending{wallet: wallet, subject: j.Subject(wallet), prev: prev, data: data, id: id,
		done: func(pos uint64, err error) { ch <- result{pos, err} }}
}

// publishAs stores p's message the way send would, as if its ack had been
// lost on the way back.
func publishAs(tb testing.TB, js jetstream.JetStream, p *pending) uint64 {
	tb.Helper()
	m := &nats.Msg{Subject: p.subject, Data: p.data, Header: nats.Header{}}
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.prev, 10))
	m.Header.Set(hdrAppendID, p.id)
	ack, err := js.PublishMsg(context.Background(), m)
	if err != nil {
		tb.Fatal(err)
	}
	return ack.Sequence
}

// resolveNow hands a batch to resolution as a lost ack would.
func resolveNow(j *Journal, cause error, ps ...*pending) {
	j.mu.Lock()
	for _, p := range ps {
		j.busy[p.wallet] = struct{}{}
	}
	j.resolvers.Add(1)
	j.slots++
	j.mu.Unlock()
	j.resolve(&batch{id: "lost", items: ps}, cause)
}

func TestResolveUnknownOutcome(t *testing.T) { forSetups(t, allSetups, testResolveUnknownOutcome) }

func testResolveUnknownOutcome(t *testing.T, su setup) {
	e := startEnvSetup(t, t.TempDir(), su)
	j, js := e.open(t, Config{})
	other, _ := e.open(t, Config{})
	chans := map[string]chan result{"landed": make(chan result, 2), "lost": make(chan result, 2), "stale": make(chan result, 2)}

	landed := pendingFor(t, j, "landed", 0, "x.1", chans["landed"])
	landedAt := publishAs(t, js, landed)
	lost := pendingFor(t, j, "lost", 0, "x.2", chans["lost"])
	stale := pendingFor(t, j, "stale", 0, "x.3", chans["stale"])
	if _, err := appendSync(t, other, "stale", 0, newScript("stale").next(t)); err != nil {
		t.Fatal(err)
	}

	resolveNow(j, errAckTimeout, landed, lost, stale)
	got := map[string]result{}
	for name, ch := range chans {
		got[name] = wait(t, ch)
	}
	if got["landed"] != (result{pos: landedAt}) || got["lost"].err != nil || !errors.Is(got["stale"].err, actors.ErrFenced) {
		t.Fatalf("outcomes %+v; landed at %d", got, landedAt)
	}
	// The landed append was acknowledged, not sent again; the lost one
	// was sent once.
	for wallet, want := range map[string]uint64{"landed": landedAt, "lost": got["lost"].pos} {
		if got := readFrom(t, j, wallet, 0, func(actors.Event) {}); fmt.Sprint(got) != fmt.Sprint([]uint64{want}) {
			t.Fatalf("%s journal %v, want [%d]", wallet, got, want)
		}
	}
	if st := j.Stats(); st.Requeues != 1 || st.Messages != 1 {
		t.Fatalf("stats %+v: want exactly the lost append resent", st)
	}
}

// An append that landed, and that a new owner then wrote on top of, is
// acknowledged at its own position — its change is in the journal — not
// reported fenced.
func TestResolveLandedThenOverwritten(t *testing.T) {
	e := startEnvStaged(t, t.TempDir(), false)
	j, js := e.open(t, Config{})
	other, _ := e.open(t, Config{})
	ch := make(chan result, 2)
	ours := pendingFor(t, j, "moved", 0, "x.1", ch)
	at := publishAs(t, js, ours)
	if _, err := appendSync(t, other, "moved", at, newScript("moved").next(t)); err != nil {
		t.Fatal(err)
	}
	resolveNow(j, errAckTimeout, ours)
	if got := wait(t, ch); got != (result{pos: at}) {
		t.Fatalf("outcome %+v, want landed at %d", got, at)
	}
}

// An API refusal no wallet explains is retried MaxAttempts times, then
// reported; the append is known not to have landed.
func TestResolveGivesUpOnRefusal(t *testing.T) {
	e := startEnv(t, t.TempDir())
	j, _ := e.open(t, Config{MaxAttempts: 1})
	ch := make(chan result, 1)
	p := pendingFor(t, j, "w1", 0, "y.1", ch)
	refusal := &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "resources exceeded"}
	resolveNow(j, refusal, p)
	if r := wait(t, ch); !errors.Is(r.err, refusal) {
		t.Fatalf("got %+v, want the refusal", r)
	}
	if got := readFrom(t, j, "w1", 0, func(actors.Event) {}); len(got) != 0 {
		t.Fatalf("refused append in journal: %v", got)
	}
}

// With an ack timeout far below the server's commit time nearly every
// batch's outcome is unknown: each append must still land exactly once, at the
// position reported.
func TestAcksTimingOut(t *testing.T) { forSetups(t, allSetups, testAcksTimingOut) }

func testAcksTimingOut(t *testing.T, su setup) {
	e := startEnvSetup(t, t.TempDir(), su)
	j, _ := e.open(t, Config{AckTimeout: time.Microsecond})
	const wallets, per = 20, 5
	acked := make([][]uint64, wallets)
	var wg sync.WaitGroup
	for i := range wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScript(fmt.Sprintf("w%d", i))
			var prev uint64
			for range per {
				r := wait(t, appendAsync(t, j, s.w.ID(), prev, s.next(t)))
				if r.err != nil {
					t.Errorf("%s: %v", s.w.ID(), r.err)
					return
				}
				acked[i] = append(acked[i], r.pos)
				prev = r.pos
			}
		}()
	}
	wg.Wait()
	for i := range wallets {
		id := fmt.Sprintf("w%d", i)
		if _, got := replay(t, j, id, 0); fmt.Sprint(got) != fmt.Sprint(acked[i]) {
			t.Fatalf("%s journal %v, acked %v", id, got, acked[i])
		}
	}
	st := j.Stats()
	if st.Resolutions == 0 || st.Acked != wallets*per {
		t.Fatalf("stats %+v: want resolutions and every append acked", st)
	}
	t.Logf("stats %+v", st)
}

// Close that gives up waiting still reports every append it accepted,
// including one a resolution puts back in the queue while Close runs.
func TestCloseFinishesWhatResolutionRequeues(t *testing.T) {
	e := startEnv(t, t.TempDir())
	for round := range 10 {
		j, js := e.open(t, Config{})
		landedCh, lostCh := make(chan result, 2), make(chan result, 2)
		landed := pendingFor(t, j, fmt.Sprintf("landed%d", round), 0, "z.1", landedCh)
		publishAs(t, js, landed)
		lost := pendingFor(t, j, fmt.Sprintf("lost%d", round), 0, "z.2", lostCh)
		// landed explains the batch, so lost is requeued without a pause,
		// while Close (its ctx already over) empties the pipeline.
		j.mu.Lock()
		j.busy[landed.wallet], j.busy[lost.wallet] = struct{}{}, struct{}{}
		j.resolvers.Add(1)
		j.slots++
		j.mu.Unlock()
		go j.resolve(&batch{id: "lost", items: []*pending{landed, lost}}, errAckTimeout)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = j.Close(ctx)
		for name, ch := range map[string]chan result{"landed": landedCh, "lost": lostCh} {
			select {
			case <-ch:
			default:
				t.Fatalf("round %d: %s not reported when Close returned", round, name)
			}
		}
	}
}

// An append queued again after an unknown outcome is reported unknown at
// Close, not ErrClosed: its first send may still land.
func TestCloseReportsRequeuedUnknownAsUnknown(t *testing.T) {
	e := startEnv(t, t.TempDir())
	j, _ := e.open(t, Config{})
	j.holdSends(true)
	fresh := appendAsync(t, j, "fresh", 0, newScript("fresh").next(t))
	ch := make(chan result, 2)
	again := pendingFor(t, j, "again", 0, "u.1", ch)
	again.unknown = 1
	j.mu.Lock()
	j.queue = append(j.queue, again)
	j.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = j.Close(ctx)
	if r := wait(t, fresh); !errors.Is(r.err, ErrClosed) {
		t.Fatalf("never-sent append: %v, want ErrClosed", r.err)
	}
	if r := wait(t, ch); !errors.Is(r.err, ErrOutcomeUnknown) {
		t.Fatalf("requeued unknown append: %v, want ErrOutcomeUnknown", r.err)
	}
}
