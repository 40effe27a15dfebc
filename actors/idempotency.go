package actors

import (
	"sync/atomic"
	"unsafe"
)

// holdStatus is what an idempotency record knows about the hold its reserve
// created. Closed holds are known only through their reserve's record, so a
// hold is forgotten (hold_not_found) when that record is.
type holdStatus uint8

const (
	noHold     holdStatus = iota
	holdOpen              // pinned: not in the eviction queue
	holdClosed            // settled, released, captured or late-settled
	holdLapsed            // expired and released: one late settle allowed
)

// record is one remembered request id. The fields an index probe and a
// hold lookup read come first, on the line the probe's id compare loads.
type record struct {
	hold holdStatus
	// pos says where the record is. While its hold is open: the slot
	// (Wallet.holdSlab) the record is pinned in; the id index is how a
	// hold is found, so finding one costs the same single probe as
	// checking an id. Once queued: the low 32 bits of its number in the
	// queue, so that closeLate finds its entry at once.
	pos    uint32
	h      uint64 // hash of answer.ID, set by idIndex.set (not state)
	at     int64  // when it entered the eviction queue (unix ns)
	answer Answer
}

// idTable remembers request ids with compact replies (SPEC §6). Records
// enter a FIFO queue in the order their requests were applied (an open
// hold's record enters when the hold closes) and leave it oldest first, when
// the queue is over its bound or a record is older than the retention.
// Eviction happens only in Apply, as a function of the applied events, so
// replay rebuilds the same table.
type idTable struct {
	byID  idIndex
	queue []queued // FIFO; queue[head:] is live
	head  int
	// evictedYoung counts records forgotten before their retention ended:
	// operators size MaxRememberedIDs from it.
	evictedYoung uint64
	// sink keeps warm's loads from being optimized away, and memo keeps
	// the hashes it computed for the request's ids (neither is state).
	sink uint64
	memo [2]hashMemo
	// ahead keeps the hashes prefetch computed, for warm to take instead
	// of hashing the ids again (not state). Two generations: when warm
	// runs for a request, prefetch has already hashed the one after it.
	ahead    [4]hashMemo
	aheadGen uint8
	// prefetchAny prefetches whatever the index's size (tests: the
	// property tests' wallets are far below prefetchSlots).
	prefetchAny bool
	// slab hands out records from chunks, one allocation per recordSlab
	// requests. Records leave in FIFO order, so a chunk is freed soon after
	// its last record is evicted.
	slab []record
	// allocs holds remembered answers' allocation lists, in chunks like
	// slab, so a record never points into the event that produced it.
	allocs []Allocation
	// frozen, when set, holds the oldest records as a snapshot's columns
	// (idfrozen.go): all of them leave the queue before queue[head].
	frozen *frozenIDs
	// epoch names this table among all a process makes, and enqueued
	// counts the records its queue has taken: queue[i] is the
	// (enqueued-len(queue)+i)-th. Together they let a snapshot store
	// recognise the rows it stored in segments for an earlier image
	// (IDRows.Origin), and closeLate find a record's entry. Neither is
	// state.
	epoch, enqueued uint64
}

// tableEpochs numbers id tables.
var tableEpochs atomic.Uint64

// queued is an eviction queue entry. It repeats its record's hash and
// time so that evicting the oldest record, and prefetching the index slots
// the next evictions will free, read no record: at a hot wallet's bound
// the oldest records are the coldest memory it has, and reading one first
// was a cache miss the slot's load then waited for. It repeats the
// record's hold status too, so that an image (lazyImage) copies the
// statuses of 100,000 queued records without reading one: that read was
// most of the actor's part of a hot wallet's image. closeLate keeps the
// two equal (record.pos finds the entry). The entry grew from 24 to 32
// bytes for it: a remembered id cost ~293 bytes, was ~277; Answer.Attr
// (a lapsed hold's attribution) made it ~303
// (TestRememberedIDsDoNotKeepEventsAlive).
type queued struct {
	r    *record
	h    uint64 // the hash of r's id (r.h, when r is indexed)
	at   int64  // r.at
	hold holdStatus
}

const recordSlab = 64

func (t *idTable) newRecord() *record {
	if len(t.slab) == cap(t.slab) {
		// Chunks double up to recordSlab: a wallet with a few ids pays for
		// a few records, not 64 (records never move: the index points at
		// them).
		t.slab = make([]record, 0, min(max(2*cap(t.slab), 4), recordSlab))
	}
	t.slab = t.slab[:len(t.slab)+1]
	return &t.slab[len(t.slab)-1]
}

// keepAllocs copies an answer's allocations into the table's own chunks.
// An event's lists live in the event's allocation (Settled.buf and the
// like): a remembered reply pointing there would keep the whole event —
// several hundred bytes — alive for every remembered id, and the collector
// marking it on every cycle.
func (t *idTable) keepAllocs(as []Allocation) []Allocation {
	if len(as) == 0 {
		return nil
	}
	if cap(t.allocs)-len(t.allocs) < len(as) {
		// Doubling up to allocsChunk, as the record chunks do.
		t.allocs = make([]Allocation, 0, max(min(max(2*cap(t.allocs), 8), allocsChunk), len(as)))
	}
	off := len(t.allocs)
	t.allocs = append(t.allocs, as...)
	return t.allocs[off:len(t.allocs):len(t.allocs)]
}

const allocsChunk = 256

func newIDTable() idTable { return idTable{byID: newIDIndex(0), epoch: tableEpochs.Add(1)} }

// lookup returns the record for id if it still answers for it at now.
func (t *idTable) lookup(id string, now int64, retention int64) *record {
	r := t.find(id)
	if r == nil {
		return nil
	}
	if r.hold != holdOpen && now-r.at >= retention {
		return nil
	}
	return r
}

// pin stores an open hold's record (kept outside the queue).
func (t *idTable) pin(hd *hold) {
	r := &hd.rec
	r.hold, r.pos = holdOpen, hd.slot
	t.index(r)
}

// remember queues r at time at, then evicts what is over the bound. A
// closing hold's record is in the map already (pinned): it only joins the
// queue, sparing a map write on a cold bucket.
func (t *idTable) remember(r *record, at int64, max int, retention int64) {
	r.at = at
	if r.hold == noHold {
		t.index(r)
	}
	r.pos = uint32(t.enqueued)
	t.queue = append(t.queue, queued{r, r.h, at, r.hold})
	t.enqueued++
	for t.remembered() > max {
		t.evictHead(at, retention)
	}
}

// closeLate closes r, the record of a lapsed hold settled late, and its
// queue entry, if it is queued (a frozen row's promoted record is not).
// queue[i] is the (enqueued-len(queue)+i)-th record queued and r.pos the
// low 32 bits of r's number, so modulo 2^32 their difference is r's index
// (a queue is far shorter than 2^32); the entry's pointer confirms it.
func (t *idTable) closeLate(r *record) {
	r.hold = holdClosed
	i := int(r.pos - uint32(t.enqueued-uint64(len(t.queue))))
	if i >= t.head && i < len(t.queue) && t.queue[i].r == r {
		t.queue[i].hold = holdClosed
	}
}

// expire evicts records older than the retention at time at.
func (t *idTable) expire(at int64, retention int64) {
	for t.frozen != nil && at-t.frozen.cols.At[t.frozen.head] >= retention {
		t.evictHead(at, retention)
	}
	for t.head < len(t.queue) && at-t.queue[t.head].at >= retention {
		t.evictHead(at, retention)
	}
}

func (t *idTable) evictHead(at, retention int64) {
	if t.frozen != nil {
		if current, queuedAt := t.evictFrozen(); current && at-queuedAt < retention {
			t.evictedYoung++
		}
		return
	}
	q := t.queue[t.head]
	t.queue[t.head] = queued{}
	t.head++
	if t.byID.remove(q.r, q.h) { // false: a reused id (after retention) replaced it
		if at-q.at < retention {
			t.evictedYoung++
		}
	}
	// Compact once the dead prefix dominates, keeping appends amortized O(1).
	if t.head > 1024 && t.head*2 > len(t.queue) {
		n := copy(t.queue, t.queue[t.head:])
		clear(t.queue[n:])
		t.queue = t.queue[:n]
		t.head = 0
	}
}

// remembered is the number of ids in the queue (open holds' ids excluded).
func (t *idTable) remembered() int {
	n := len(t.queue) - t.head
	if t.frozen != nil {
		n += t.frozen.live()
	}
	return n
}

// warm loads the index slots of id, of hold (if any) and of the next two
// ids the queue would evict, with no load depending on another (see
// Wallet.warm).
func (t *idTable) warm(id, hold string) {
	slots := t.byID.slots
	if f := t.frozen; f != nil {
		// Restored from columns: the request's ids are probed in both
		// indexes. Eviction candidates are frozen rows; not warmed. No
		// prefetch ran (see prefetch), so the ids are hashed here.
		t.memo[0] = hashMemo{id, hashID(id)}
		s := f.touch(t.memo[0].h)
		if hold != "" {
			t.memo[1] = hashMemo{hold, hashID(hold)}
			s ^= f.touch(t.memo[1].h)
		}
		if len(slots) > 0 {
			s ^= slots[t.memo[0].h&uint64(len(slots)-1)].h
		}
		t.sink = s
		return
	}
	if len(t.queue)-t.head < 2 || len(slots) == 0 {
		return
	}
	mask := uint64(len(slots) - 1)
	t.memo[0] = t.hashAhead(id)
	t.memo[1] = t.hashAhead(hold)
	s := slots[t.memo[0].h&mask].h
	s ^= slots[t.queue[t.head].h&mask].h
	s ^= slots[t.queue[t.head+1].h&mask].h
	if hold != "" {
		s ^= slots[t.memo[1].h&mask].h
	}
	t.sink = s
}

// prefetch asks for the index slots warm will load for the next request
// (its ids', and those of the four oldest ids, which the current and the
// next request may evict) and returns at once: unlike warm's loads, a
// prefetch does not hold the CPU until the line arrives, so the lines come
// in while the current request is decided. At a hot wallet's bound the
// index is megabytes and each of these is a miss to memory.
func (t *idTable) prefetch(id, hold string) {
	slots := t.byID.slots
	// With frozen rows left, the next evictions are frozen rows, not
	// queue[head:], and the request's ids are probed in two indexes: not
	// worth the hints (a restored wallet prefetches once they are gone).
	if t.frozen != nil || len(slots) < prefetchSlots && !t.prefetchAny || len(slots) == 0 {
		return
	}
	mask := uint64(len(slots) - 1)
	g := t.ahead[2*(t.aheadGen&1):][:2]
	t.aheadGen++
	g[0], g[1] = hashMemo{id, hashID(id)}, hashMemo{}
	prefetch(unsafe.Pointer(&slots[g[0].h&mask]))
	if hold != "" {
		g[1] = hashMemo{hold, hashID(hold)}
		prefetch(unsafe.Pointer(&slots[g[1].h&mask]))
	}
	for _, q := range t.queue[t.head:min(t.head+4, len(t.queue))] {
		prefetch(unsafe.Pointer(&slots[q.h&mask]))
		// Eviction shifts the slots after it back into the hole: the next
		// line of the probe run (4 slots a line) is read too.
		prefetch(unsafe.Pointer(&slots[((q.h|3)+1)&mask]))
	}
}

// prefetchSlots is the smallest index worth prefetching from: 256 KiB of
// slots, past what a core's own caches keep; a smaller one is in cache
// already, and the hashing and hints would only cost.
const prefetchSlots = 1 << 14

// hashAhead is id's hash memo, prefetch's when it hashed id already.
func (t *idTable) hashAhead(id string) hashMemo {
	for _, m := range t.ahead {
		if m.id == id && id != "" {
			return m
		}
	}
	return hashMemo{id, hashID(id)}
}

type hashMemo struct {
	id string
	h  uint64
}

// hashOf is id's index hash, computed once per request: warm memoizes the
// request's ids, and a string compare of the same string is a pointer test.
func (t *idTable) hashOf(id string) uint64 {
	for i := range t.memo {
		if m := &t.memo[i]; m.id == id {
			return m.h
		}
	}
	return hashID(id)
}

// find returns id's record, or nil. A frozen record found is promoted
// into the live index (idfrozen.go).
func (t *idTable) find(id string) *record {
	h := t.hashOf(id)
	r := t.byID.get(id, h)
	if r != nil || t.frozen == nil {
		return r
	}
	if i := t.frozen.row(id, h); i >= 0 {
		return t.promote(i, h)
	}
	return nil
}

// index makes r its id's record in the index.
func (t *idTable) index(r *record) { t.byID.set(r, t.hashOf(r.answer.ID)) }
