package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"
	"go.uber.org/zap"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/wire"
)

// serveHistory reads the journal off the subscription goroutine, bounded
// by HistoryReaders. A page reads from where the previous page of the same
// wallet ended (cursors) and stops as soon as it has its entries, so paging
// through a long history reads each journal batch about once, not once per
// page.
func (s *Service) serveHistory(req micro.Request, enc wire.Encoding, wallet string, body []byte, t tracker) {
	h, aerr := s.decoder.DecodeHistory(body, enc)
	if aerr != nil {
		t.fail(req, enc, aerr)
		return
	}
	select {
	case s.readers <- struct{}{}:
	default:
		t.fail(req, enc, &actors.Error{Code: actors.ErrOverloaded, Message: "too many history reads at once; retry later"})
		return
	}
	to := req.Reply()
	s.wg.Go(func() {
		// The reader is freed once the journal is read, before the reply
		// leaves: a client that pages on at once must not find its slot
		// still taken by its own last page.
		entries, next, start, found, err := func() ([]wire.Entry, uint64, uint64, bool, error) {
			defer func() { <-s.readers }()
			return s.page(wallet, h)
		}()
		switch {
		case err != nil:
			s.log.Warn("history read failed", zap.String("wallet", wallet), zap.Error(err))
			t.failLater(to, enc, &actors.Error{Code: actors.ErrUnavailable, Message: "the journal could not be read; retry"})
		case !found:
			t.failLater(to, enc, &actors.Error{Code: actors.ErrWalletNotFound, Message: "wallet " + wallet + " has no history"})
		default:
			// History entries are unbounded in number, and each may list
			// up to a grant bound's allocations: a page is cut to what the
			// server's max_payload carries, and is still a page.
			room := int(min(s.nc.MaxPayload()-replyRoom, math.MaxInt32))
			out, kept := wire.AppendHistoryFitting(nil, enc, entries, next, room)
			switch {
			case len(out) > room:
				// Cut to its first entry, which alone is too large: the
				// client may page past it.
				e := s.replyTooLarge(wire.OpHistory, len(out))
				e.Message += fmt.Sprintf(": entry %d alone is that large; ask with after_seq %d to page past it",
					entries[0].Seq, entries[0].Seq)
				t.failLater(to, enc, e)
				return
			case kept < len(entries):
				// The next page starts inside this one's read: from
				// where this one started.
				s.cursors.put(wallet, entries[kept-1].Seq, start)
			}
			s.publish(to, out, nil)
			t.done(Allowed, "")
		}
	})
}

var errPageFull = errors.New("history page full")

// historyReadTimeout bounds one page's journal read, so that a read whose
// reply was lost cannot hold a reader slot for good.
const historyReadTimeout = 30 * time.Second

// page reads one page of wallet's history after h.AfterSeq, from journal
// position start.
func (s *Service) page(wallet string, h wire.History) (entries []wire.Entry, next, start uint64, found bool, err error) {
	limit := h.Limit
	if limit < 1 {
		limit = wire.DefaultHistoryLimit
	}
	limit = min(limit, wire.MaxHistoryLimit)
	from := s.cursors.get(wallet, h.AfterSeq)
	start, found = from, from > 0
	// evs keeps only the events the page can show (seq > AfterSeq; hidden
	// events have seq 0), so that a read from the start of a long history
	// holds one page in memory, not the history before it. The one past
	// limit tells Entries there is a next page.
	var evs []actors.Event
	before := from    // journal position before the batch being read
	var resume uint64 // position before the batch holding entry limit+1
	// A page reads forwards, limit+1 messages a round trip: a journal
	// message holds at least one entry but for time-driven batches, so
	// most pages take one.
	ctx, cancel := context.WithTimeout(s.stopping, historyReadTimeout)
	defer cancel()
	_, err = s.history.ReadPage(ctx, wallet, from, limit+1, func(pos uint64, batch []actors.Event) error {
		found = true
		for _, e := range batch {
			if actors.EventSeq(e) <= h.AfterSeq {
				continue
			}
			if evs = append(evs, e); len(evs) > limit {
				resume = before
				return errPageFull
			}
		}
		before = pos
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, 0, 0, false, err
	}
	entries, next = wire.Entries(evs, h.AfterSeq, limit)
	if next != 0 {
		s.cursors.put(wallet, next, resume)
	}
	return entries, next, start, found, nil
}

// cursors maps (wallet, seq) to the journal position a page after seq can
// start reading from. Bounded; the oldest cursor is forgotten first (a
// forgotten cursor only costs a read from the start).
type cursors struct {
	mu   sync.Mutex
	pos  map[cursorKey]uint64
	fifo []cursorKey
	max  int
}

type cursorKey struct {
	wallet string
	seq    uint64
}

func newCursors(max int) *cursors { return &cursors{pos: make(map[cursorKey]uint64), max: max} }

func (c *cursors) get(wallet string, seq uint64) uint64 {
	if seq == 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[cursorKey{wallet, seq}]
}

func (c *cursors) put(wallet string, seq, pos uint64) {
	if pos == 0 {
		return
	}
	k := cursorKey{wallet, seq}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pos[k]; !ok {
		c.fifo = append(c.fifo, k)
	}
	c.pos[k] = pos
	for len(c.fifo) > c.max {
		delete(c.pos, c.fifo[0])
		c.fifo = c.fifo[1:]
	}
}
