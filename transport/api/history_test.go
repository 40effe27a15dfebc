package api_test

// The history op, which the service serves itself off the subscription
// goroutine: paging returns every entry once, in order, whatever the page
// size (including pages that start from a remembered cursor), and reads
// beyond HistoryReaders are answered overloaded rather than queued.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/wire"
)

func TestHistoryPagesReturnEveryEntryOnceInOrder(t *testing.T) {
	h := start(t, setup{})
	h.grant("acme", 1000)
	const debits = 7
	for i := range debits {
		h.ok("purser.v1.debit.acme", map[string]any{"id": fmt.Sprint("d", i), "amount": 1})
		h.outcome()
	}
	whole := h.historySeqs(t, 0)
	if len(whole) != debits+1 {
		t.Fatalf("history in one page has %d entries, want %d: %v", len(whole), debits+1, whole)
	}
	for _, limit := range []int{1, 2, 3, debits + 1} {
		if got := h.historySeqs(t, limit); fmt.Sprint(got) != fmt.Sprint(whole) {
			t.Errorf("pages of %d: seqs %v, want %v", limit, got, whole)
		}
	}
}

// historySeqs pages through acme's history limit entries at a time (0: one
// default page) and returns the seqs read, checking they have no gaps.
func (h *harness) historySeqs(t *testing.T, limit int) []int64 {
	t.Helper()
	var seqs []int64
	after := int64(0)
	for range 100 {
		req := map[string]any{"after_seq": after}
		if limit > 0 {
			req["limit"] = limit
		}
		a := h.ok("purser.admin.v1.history.acme", req)
		wantOutcome(t, h.outcome(), "history", api.Allowed, "")
		entries, _ := a.body["entries"].([]any)
		if limit > 0 && len(entries) > limit {
			t.Fatalf("a page of limit %d has %d entries", limit, len(entries))
		}
		for _, e := range entries {
			seq := answer{body: e.(map[string]any)}.num("seq")
			if seq != int64(len(seqs))+1 {
				t.Fatalf("pages of %d: seq %d after %v", limit, seq, seqs)
			}
			seqs = append(seqs, seq)
		}
		if after = a.num("next_seq"); after == 0 {
			return seqs
		}
	}
	t.Fatalf("pages of %d never end: %v", limit, seqs)
	return nil
}

// gatedHistory is the real in-memory journal whose reads wait at a gate,
// so that a test can hold a history read in flight.
type gatedHistory struct {
	*actors.MemJournal
	entered chan struct{} // one value per read that reached the gate
	open    chan struct{} // closed to let every read through
}

func (g gatedHistory) ReadPage(ctx context.Context, wallet string, from uint64, batch int, fn func(uint64, []actors.Event) error) (uint64, error) {
	g.entered <- struct{}{}
	select {
	case <-g.open:
	case <-ctx.Done(): // as a journal read does
		return from, ctx.Err()
	}
	return g.MemJournal.ReadPage(ctx, wallet, from, batch, fn)
}

// hold sends a history request for acme and returns, once its read waits
// at the gate, the subscription its reply will come on.
func (g gatedHistory) hold(t *testing.T, h *harness) *nats.Subscription {
	t.Helper()
	inbox := nats.NewInbox()
	reply, err := h.client.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.client.PublishRequest("purser.admin.v1.history.acme", inbox, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.entered:
	case <-time.After(replyTimeout):
		t.Fatal("the history read never reached the journal")
	}
	return reply
}

// Stop does not wait out a history read stalled on the journal: it ends
// the reads in flight (their requests answer unavailable).
func TestStopEndsAHistoryReadInFlight(t *testing.T) {
	journal := actors.NewMemJournal()
	gate := gatedHistory{MemJournal: journal, entered: make(chan struct{}, 4), open: make(chan struct{})}
	h := start(t, setup{journal: journal, history: gate})
	t.Cleanup(sync.OnceFunc(func() { close(gate.open) }))
	h.grant("acme", 1000)
	reply := gate.hold(t, h)
	stopped := make(chan error, 1)
	go func() { stopped <- h.svc.Stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(replyTimeout): // a bound on failure, not a wait
		t.Fatal("Stop waits for a history read stalled on the journal")
	}
	m, err := reply.NextMsg(replyTimeout)
	if err != nil || !strings.Contains(string(m.Data), `"code":"unavailable"`) {
		t.Fatalf("the ended read's answer: %v, %v", m, err)
	}
}

func TestHistoryBeyondItsReadersIsOverloaded(t *testing.T) {
	journal := actors.NewMemJournal()
	gate := gatedHistory{MemJournal: journal, entered: make(chan struct{}, 4), open: make(chan struct{})}
	h := start(t, setup{journal: journal, history: gate, cfg: api.Config{HistoryReaders: 1}})
	// Stop waits for history reads: a failing test must open the gate
	// before the harness's cleanup stops the service.
	openGate := sync.OnceFunc(func() { close(gate.open) })
	t.Cleanup(openGate)
	h.grant("acme", 1000)

	// The first read takes the only reader and waits at the gate.
	first := gate.hold(t, h)

	h.send("purser.admin.v1.history.acme", []byte(`{}`), "", wire.JSON).wantError(t, actors.ErrOverloaded)
	wantOutcome(t, h.outcome(), "history", api.Error, "overloaded")
	// Runtime ops do not wait for history readers.
	if got := h.balance("acme"); got != 1000 {
		t.Fatalf("balance %d while a history read is in flight", got)
	}

	openGate()
	m, err := first.NextMsg(replyTimeout)
	if err != nil {
		t.Fatalf("the held read was never answered: %v", err)
	}
	if m.Header.Get(wire.HeaderError) != "" {
		t.Fatalf("the held read failed: %s", m.Data)
	}
	wantOutcome(t, h.outcome(), "history", api.Allowed, "")
	// Its reader is free again.
	h.ok("purser.admin.v1.history.acme", map[string]any{})
	h.outcome()
}
