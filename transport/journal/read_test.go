package journal

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
)

// Reads walk a wallet's chain back and read forwards what the walk
// leaves; whichever way a tail goes, a read returns exactly the wallet's
// messages after its start, in order.
func TestReadFollowsTheChain(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{name: "groupsync", groupSync: true})
	j, js := e.open(t, Config{})
	j.walk = walkLimits{max: 16, maxBytes: 4 << 20, dense: 8, probe: 4}

	// One stream, laid out by a seeded shuffle: a sparse wallet (long
	// gaps, more messages than one walk takes), a dense one (a run of
	// consecutive messages at the end), one whose messages carry no fence
	// header (written by something other than this journal), and fillers.
	rng := rand.New(rand.NewPCG(4, 4))
	var order []string
	for i := range 40 {
		order = append(order, "sparse")
		for range 10 + rng.IntN(40) {
			order = append(order, "f"+strconv.Itoa(rng.IntN(20)))
		}
		if i%4 == 0 {
			order = append(order, "headless")
		}
	}
	for range 30 {
		order = append(order, "dense")
	}
	positions := map[string][]uint64{}
	scripts := map[string]*walletScript{}
	for _, w := range order {
		s := scripts[w]
		if s == nil {
			s = newScript(w)
			scripts[w] = s
		}
		h := nats.Header{}
		if w != "headless" {
			prev := uint64(0)
			if p := positions[w]; len(p) > 0 {
				prev = p[len(p)-1]
			}
			h = fenceOn(prev)
		}
		positions[w] = append(positions[w], publishNext(t, js, j.Subject(w), s, h))
	}

	// Reads as on one server, then as on a replicated stream, where the
	// leader's answer for the subject's end seeds the walk (forced here:
	// one server is its own leader). Either way a read makes the same
	// round trips: the leader's answer is not fetched again.
	type ways struct{ back, forward, requests uint64 }
	for _, replicated := range []bool{false, true} {
		j.replicated = replicated
		read := func(w string, from uint64) ways {
			t.Helper()
			before := j.Stats()
			var want []uint64
			for _, p := range positions[w] {
				if p > from {
					want = append(want, p)
				}
			}
			got := readFrom(t, j, w, from, func(actors.Event) {})
			if !slices.Equal(got, want) {
				t.Fatalf("replicated %v: %s from %d: read %v, want %v", replicated, w, from, got, want)
			}
			after := j.Stats()
			return ways{after.ReadBack - before.ReadBack, after.ReadForward - before.ReadForward,
				after.ReadRequests - before.ReadRequests}
		}
		for w, ps := range positions {
			for _, from := range []uint64{0, ps[0], ps[len(ps)/2], ps[len(ps)-2], ps[len(ps)-1]} {
				read(w, from)
			}
		}
		sp := positions["sparse"]
		for _, c := range []struct {
			what, wallet string
			from         uint64
			want         ways
		}{
			{"sparse tail of 10: all walked back", "sparse", sp[len(sp)-11], ways{10, 0, 10}},
			{"sparse history of 40: a walk of 16, then 24 forwards in one page", "sparse", 0, ways{16, 24, 17}},
			{"dense run of 30: 4 walked back, then 26 forwards", "dense", 0, ways{4, 26, 5}},
			{"headless wallet of 10: all forwards (its last message is no link)", "headless", 0, ways{0, 10, 2}},
			{"sparse, nothing new: one look at its end", "sparse", sp[len(sp)-1], ways{0, 0, 1}},
			{"unknown wallet: one look", "nobody", 0, ways{0, 0, 1}},
		} {
			if got := read(c.wallet, c.from); got != c.want {
				t.Errorf("replicated %v: %s: read %+v, want %+v", replicated, c.what, got, c.want)
			}
		}
	}
}

// A walk that stopped on a link the forward read does not reach (a
// replica that lags, or a stream that lost a message) must not hand its
// tail over across the gap: on one server the read fails; on a
// replicated stream it ends where the forward read did, and Read retries.
func TestReadRefusesAGapInTheChain(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{name: "groupsync", groupSync: true})
	j, js := e.open(t, Config{})
	s := newScript("w")
	ctx := context.Background()
	var seqs []uint64
	prev := uint64(0)
	for range 3 {
		prev = publishNext(t, js, j.Subject("w"), s, fenceOn(prev))
		seqs = append(seqs, prev)
	}
	w, err := j.walkBack(ctx, j.Subject("w"), 0, nil)
	if err != nil || w.stopped || len(w.tail) != 3 {
		t.Fatalf("walk of 3: %d messages, stopped %v, err %v", len(w.tail), w.stopped, err)
	}
	// Keep only the newest and say it follows a message the stream does
	// not hold between the first two and it.
	gap := walk{tail: w.tail[:1], stopped: true, link: seqs[1] + 1000}
	var got []uint64
	collect := func(pos uint64, _ []actors.Event) error { got = append(got, pos); return nil }
	if _, err := j.finishRead(ctx, "w", j.Subject("w"), 0, false, gap, collect); err == nil {
		t.Fatalf("a read across a gap passed, delivering %v", got)
	}
	got = nil
	last, err := j.finishRead(ctx, "w", j.Subject("w"), 0, true, gap, collect)
	if err != nil || last != seqs[1] || !slices.Equal(got, seqs[:2]) {
		t.Fatalf("replicated read across a gap: last %d, delivered %v, err %v; want to stop at %d", last, got, err, seqs[1])
	}
	// The same walk with its true link hands the whole wallet over.
	got = nil
	whole := walk{tail: w.tail[:1], stopped: true, link: seqs[1]}
	if last, err := j.finishRead(ctx, "w", j.Subject("w"), 0, false, whole, collect); err != nil || last != seqs[2] || !slices.Equal(got, seqs) {
		t.Fatalf("read: last %d, delivered %v, err %v", last, got, err)
	}
}

// A message fenced against another subject is not a link of its own
// subject's chain: the walk stops there and the forward read finds what
// came before it.
func TestReadStopsAtAForeignFence(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{name: "groupsync", groupSync: true})
	j, js := e.open(t, Config{})
	s := newScript("w")
	first := publishNext(t, js, j.Subject("w"), s, fenceOn(0))
	// Fenced on an empty other subject: 0 passes, yet w has a message.
	foreign := fenceOn(0)
	foreign.Set(jetstream.ExpectedLastSubjSeqSubjHeader, j.Subject("other"))
	second := publishNext(t, js, j.Subject("w"), s, foreign)
	if got := readFrom(t, j, "w", 0, func(actors.Event) {}); !slices.Equal(got, []uint64{first, second}) {
		t.Fatalf("read %v, want %v", got, []uint64{first, second})
	}
}

// publishNext publishes s's next batch on subject with header h, not
// through the journal (tests lay out chains it would not write), and
// returns its stream sequence.
func publishNext(t *testing.T, js jetstream.JetStream, subject string, s *walletScript, h nats.Header) uint64 {
	t.Helper()
	data, err := actors.AppendEvents(nil, s.next(t))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: subject, Data: data, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// fenceOn is the header of a message that follows prev on its subject.
func fenceOn(prev uint64) nats.Header {
	return nats.Header{jetstream.ExpectedLastSubjSeqHeader: {strconv.FormatUint(prev, 10)}}
}

// ReadPage asks the stream for batch messages a round trip, not 512: a
// reader that stops after batch messages has received no more than those
// and the batch's end, each once (a batched read's inbox is its own, not
// under the connection's response mux, which would get a copy of each).
func TestReadPageAsksForItsBatch(t *testing.T) {
	e := startEnvSetup(t, t.TempDir(), setup{name: "groupsync", groupSync: true})
	writer, _ := e.open(t, Config{})
	s := newScript("w")
	var pos uint64
	for range 40 {
		var err error
		if pos, err = appendSync(t, writer, "w", pos, s.next(t)); err != nil {
			t.Fatal(err)
		}
	}
	reader, js := e.open(t, Config{}) // a connection of its own: only the read arrives on it
	const batch = 5
	stop := errors.New("page full")
	in, n := js.Conn().Stats().InMsgs, 0
	if _, err := reader.ReadPage(context.Background(), "w", 0, batch, func(uint64, []actors.Event) error {
		if n++; n == batch {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) {
		t.Fatal(err)
	}
	// After a round trip with the server, everything it sent for the read
	// has arrived.
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	if got := js.Conn().Stats().InMsgs - in; got > batch+1 {
		t.Fatalf("%d messages received for a page of %d", got, batch)
	}
}
