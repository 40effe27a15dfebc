package snapshot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/purser-dev/purser/actors"
)

// A Store writes an image's queued ids in segments (segments.go) once the
// image has minSegmented of them: a segment of segRows rows (fewer when
// that many would not fit in segLimit bytes) for each run of queued ids
// that has none yet, and a ref to it from every later image of the same
// actor that still has some of its rows. What the store knows of each
// wallet's segments is below; it lives only in memory: after a restart
// the first images write new segments.
const (
	segmentRows      = 4096
	segmentedMinRows = 2 * segmentRows
	segmentMaxBytes  = 512 << 10
)

// walletSegments is what a Store knows of one wallet's segments. A
// wallet's saves run one at a time (its snapshot worker), but Loads may run
// beside them (a wallet activated again while its last actor's images are
// being saved; see loads): Store.mu guards it.
type walletSegments struct {
	// committed are the slots the wallet's stored image may refer to: the
	// last image this process stored (with, after a put whose outcome is
	// unknown, the attempt's), and those of the image Load read. A new
	// segment never goes in one of them, so a crash between a segment's
	// put and its image's leaves the stored image whole.
	committed []int
	// high is one past the highest slot this process wrote or saw.
	high int
	// loads counts Loads of the wallet in progress (loadBegin). While one
	// is, a stored image's slots join committed rather than replace it,
	// and no segment is deleted: saves beside the load (an actor's last
	// images, which run one at a time) must not reuse or delete a slot of
	// the image the load read, whose segments it is still fetching.
	loads int
	// segs are the segments of id table epoch (IDRows.Origin), in queue
	// order, that the last image referred to.
	epoch uint64
	segs  []*segment
}

// segment is one stored segment: rows [a, b) of an id table's queue.
type segment struct {
	slot            int
	nonce           uint64
	crc             uint32
	a, b            uint64
	firstID, lastID string
}

// holds says whether rows, the first of which is number first of the
// queue, have seg's first and last ids where seg's numbers put them: two
// id compares that guard the arithmetic.
func (seg *segment) holds(rows actors.IDRows, first uint64) bool {
	if seg.a >= first && rows.Answer(int(seg.a-first)).ID != seg.firstID {
		return false
	}
	return rows.Answer(int(seg.b-1-first)).ID == seg.lastID
}

// planSegments decides which of rows (an image's queued ids) the image
// refers to in segments, writing the segments it needs that are not
// stored yet. No refs: the image keeps all its ids.
func (s *Store) planSegments(ctx context.Context, wallet string, rows actors.IDRows) (idPlan, error) {
	epoch, first, ok := rows.Origin()
	if !ok || rows.Len() < s.minSegmented {
		return idPlan{}, nil
	}
	s.mu.Lock()
	if s.unknown[wallet] {
		// Which slots the stored image names is not known (its load
		// failed): any slot might be one of them, so this image holds
		// all its ids. Once it is stored, none is.
		s.mu.Unlock()
		return idPlan{}, nil
	}
	e := s.segs[wallet]
	if e == nil {
		e = &walletSegments{}
		s.segs[wallet] = e
	}
	if e.epoch != epoch {
		e.epoch, e.segs = epoch, nil
	}
	known, taken := e.segs, slices.Clone(e.committed)
	s.mu.Unlock()

	var plan idPlan
	pos, end := first, first+uint64(rows.Len())
	row := func(q uint64) int { return int(q - first) }
	for _, seg := range known {
		if seg.b <= pos {
			continue // evicted
		}
		if seg.a > pos || seg.b > end || !seg.holds(rows, first) {
			break
		}
		plan.refs = append(plan.refs, segmentRef{seg: seg, skip: int(pos - seg.a), rows: rows.Slice(row(pos), row(seg.b))})
		taken = append(taken, seg.slot)
		pos = seg.b
	}
	for end-pos >= uint64(s.segRows) && len(plan.refs) < maxRefs {
		slot := freeSlot(taken)
		if slot >= maxSlot {
			break // failed puts have kept that many slots: the rest stays in the image
		}
		seg, err := s.writeSegment(ctx, wallet, slot, rows.Slice(row(pos), row(pos)+s.segRows), pos)
		if err != nil {
			return idPlan{}, err
		}
		if seg == nil {
			break // its first row alone is too large: the rest stays in the image
		}
		plan.refs = append(plan.refs, segmentRef{seg: seg, rows: rows.Slice(row(seg.a), row(seg.b))})
		taken = append(taken, slot)
		pos = seg.b
	}
	plan.tail = rows.Slice(row(pos), rows.Len())
	return plan, nil
}

// freeSlot returns the lowest slot not taken.
func freeSlot(taken []int) int {
	for slot := 0; ; slot++ {
		if !slices.Contains(taken, slot) {
			return slot
		}
	}
}

// writeSegment stores rows, the first of which is number a of its queue,
// as a segment in slot: as many of them as fit in segLimit, halving; nil
// when not even one does.
func (s *Store) writeSegment(ctx context.Context, wallet string, slot int, rows actors.IDRows, a uint64) (*segment, error) {
	nonce := rand.Uint64()
	for n := rows.Len(); n > 0; n /= 2 {
		part := rows.Slice(0, n)
		data, sum, err := encodeSegment(wallet, nonce, part)
		if err != nil {
			return nil, fmt.Errorf("snapshot: wallet %s: %w", wallet, err)
		}
		if len(data) > s.segLimit {
			continue
		}
		s.mu.Lock()
		if e := s.segs[wallet]; e != nil {
			e.high = max(e.high, slot+1) // before the put: a failed one may have landed
		}
		s.mu.Unlock()
		if err := s.blobs.PutSegment(ctx, wallet, slot, data); err != nil {
			return nil, err
		}
		s.bytes.Add(uint64(len(data)))
		s.segments.Add(1)
		return &segment{slot: slot, nonce: nonce, crc: sum, a: a, b: a + uint64(n),
			firstID: strings.Clone(part.Answer(0).ID), lastID: strings.Clone(part.Answer(n - 1).ID)}, nil
	}
	return nil, nil
}

// settleSegments records what happened to the image plan was made for:
// stored, or not (its put failed, perhaps after landing). When the wallet
// has stopped using segments it returns the slots it knows of, for the
// caller to delete with any others stored (clear true).
func (s *Store) settleSegments(wallet string, plan idPlan, stored bool) (stale []int, clear bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stored {
		delete(s.unknown, wallet)
	}
	e := s.segs[wallet]
	if e == nil {
		return nil, false
	}
	slots := make([]int, 0, len(plan.refs))
	e.segs = e.segs[:0:0]
	for _, ref := range plan.refs {
		slots = append(slots, ref.seg.slot)
		e.segs = append(e.segs, ref.seg)
	}
	if !stored || e.loads > 0 {
		for _, slot := range slots {
			if !slices.Contains(e.committed, slot) {
				e.committed = append(e.committed, slot)
			}
		}
		return nil, false
	}
	e.committed = slots
	if len(slots) > 0 {
		return nil, false
	}
	// The wallet's image keeps all its ids now (it cooled down, or it is
	// a restored wallet's, its ids in columns): every slot goes.
	delete(s.segs, wallet)
	for slot := range e.high {
		stale = append(stale, slot)
	}
	return stale, true
}

// loadBegin notes a Load of wallet in progress until loadEnd (see
// walletSegments.loads).
func (s *Store) loadBegin(wallet string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.segs[wallet]
	if e == nil {
		e = &walletSegments{}
		s.segs[wallet] = e
	}
	e.loads++
}

// loadEnd ends what loadBegin began, forgetting a wallet that has no
// segments, so that loads of the many wallets without any leave nothing.
func (s *Store) loadEnd(wallet string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.segs[wallet]
	if e.loads--; e.loads == 0 && e.high == 0 && len(e.committed) == 0 && len(e.segs) == 0 {
		delete(s.segs, wallet)
	}
}

// clearSegments deletes a wallet's segments once its stored image names
// none: the slots given and any other the blobs list (ones a crashed
// process wrote, which this one never saw). A failure leaves them stored,
// harmlessly: no image names them, and the slots are used again.
func (s *Store) clearSegments(ctx context.Context, wallet string, stale []int) {
	if listed, err := s.blobs.SegmentSlots(ctx, wallet); err == nil {
		for _, slot := range listed {
			if !slices.Contains(stale, slot) {
				stale = append(stale, slot)
			}
		}
	}
	for _, slot := range stale {
		_ = s.blobs.DeleteSegment(ctx, wallet, slot)
	}
}

// joinSegments reads sg's segments and joins them, with its head and
// tail, into the image's id columns. It first marks the slots sg names as
// committed: the image Load read is the wallet's stored one.
func (s *Store) joinSegments(ctx context.Context, wallet string, sg *segmentedIDs) (*actors.IDColumns, error) {
	s.mu.Lock()
	e := s.segs[wallet]
	if e == nil {
		e = &walletSegments{}
		s.segs[wallet] = e
	}
	for _, ref := range sg.refs {
		if !slices.Contains(e.committed, ref.slot) {
			e.committed = append(e.committed, ref.slot)
		}
		e.high = max(e.high, ref.slot+1)
	}
	s.mu.Unlock()

	// A hot wallet's image names ~25 segments: 8 readers fetch them.
	blobs, errs := make([][]byte, len(sg.refs)), make([]error, len(sg.refs))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(8, len(sg.refs)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(sg.refs); i = int(next.Add(1) - 1) {
				blobs[i], errs[i] = s.blobs.GetSegment(ctx, wallet, sg.refs[i].slot)
			}
		})
	}
	wg.Wait()
	parts := make([]joinPart, 0, len(sg.refs)+2)
	add := func(c *actors.IDColumns, from, to int, hold []byte) error {
		if err := c.Check(); err != nil {
			return fmt.Errorf("%w: wallet %s: %v", ErrCorrupt, wallet, err)
		}
		if from < 0 || from > to || to > c.Len() {
			return fmt.Errorf("%w: wallet %s: rows %d to %d of a segment of %d", ErrCorrupt, wallet, from, to, c.Len())
		}
		parts = append(parts, joinPart{c: c, from: from, to: to, hold: hold})
		return nil
	}
	if err := add(sg.head, 0, sg.head.Len(), nil); err != nil {
		return nil, err
	}
	for i, ref := range sg.refs {
		switch {
		case errs[i] != nil:
			return nil, fmt.Errorf("snapshot: wallet %s: segment in slot %d: %w", wallet, ref.slot, errs[i])
		case blobs[i] == nil:
			return nil, fmt.Errorf("%w: wallet %s: segment in slot %d is missing", ErrCorrupt, wallet, ref.slot)
		}
		c, err := decodeSegment(blobs[i], wallet, ref)
		if err != nil {
			return nil, fmt.Errorf("%w (wallet %s)", err, wallet)
		}
		if err := add(c, ref.skip, ref.skip+len(ref.hold), ref.hold); err != nil {
			return nil, err
		}
	}
	if err := add(sg.tail, 0, sg.tail.Len(), nil); err != nil {
		return nil, err
	}
	return joinColumns(parts)
}
