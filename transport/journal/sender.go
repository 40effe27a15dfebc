package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"
)

// Atomic batch headers (nats-server >= 2.12, ADR-50).
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
)

// errAckTimeout marks a batch whose ack did not arrive: it may or may not
// have landed.
var errAckTimeout = errors.New("journal: ack timeout")

// batch is one durable write: an atomic batch of appends for distinct
// wallets, or a single fenced publish.
type batch struct {
	id    string
	items []*pending
	timer *time.Timer
}

// sendLoop is the only goroutine that publishes. It sends whatever is
// queued as soon as a pipeline slot is free, so batches form naturally:
// while the server fsyncs one batch, the next one fills.
func (j *Journal) sendLoop() {
	defer j.wg.Done()
	var bs []*batch
	for {
		select {
		case <-j.wake:
		case <-j.stop:
			return
		}
		for {
			bs = j.take(bs[:0])
			if len(bs) == 0 {
				break
			}
			for i, b := range bs {
				j.send(b)
				bs[i] = nil
			}
		}
	}
}

// take moves queued appends into new in-flight batches, appended to bs:
// in ModeBatch one batch of up to MaxBatch appends, at most one per wallet
// and none for a wallet already in flight; otherwise one batch per append,
// as many as free pipeline slots allow. One pass over the queue either
// way: a queue of thousands (an overloaded node) must not be rescanned
// for every append sent.
func (j *Journal) take(bs []*batch) []*batch {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.queue) == 0 || j.slots >= j.cfg.MaxInflight || j.held {
		return bs
	}
	perBatch, batches := j.cfg.MaxBatch, 1
	if j.cfg.Mode != ModeBatch {
		perBatch, batches = 1, j.cfg.MaxInflight-j.slots
	} else if j.eligible(j.cfg.MinBatch) < j.cfg.MinBatch {
		// Too few appends waiting to pay an atomic batch's fixed cost
		// (the server stages each batch in a fresh file store: ~15
		// fsyncs' worth, docs/journal.md); a plain fenced publish is
		// cheaper, and the queue grows into a batch if load rises.
		perBatch = 1
	}
	var items []*pending
	rest := j.queue[:0]
	for _, p := range j.queue {
		if len(bs) == batches {
			rest = append(rest, p)
			continue
		}
		if _, busy := j.busy[p.wallet]; busy {
			rest = append(rest, p)
			continue
		}
		j.busy[p.wallet] = struct{}{}
		items = append(items, p)
		if len(items) == perBatch {
			bs = append(bs, j.inflightBatch(items))
			items = nil
		}
	}
	if len(items) > 0 {
		bs = append(bs, j.inflightBatch(items))
	}
	clear(j.queue[len(rest):])
	j.queue = rest
	return bs
}

// inflightBatch registers items as a batch awaiting its ack. Locked by the
// caller.
func (j *Journal) inflightBatch(items []*pending) *batch {
	b := &batch{id: nuid.Next(), items: items}
	j.inflight[b.id] = b
	j.slots++
	b.timer = time.AfterFunc(j.cfg.AckTimeout, func() { j.onTimeout(b.id) })
	return b
}

// eligible counts queued appends that could join a batch now, up to
// limit. Locked by the caller.
func (j *Journal) eligible(limit int) int {
	n := 0
	seen := make(map[string]struct{}, limit)
	for _, p := range j.queue {
		if n >= limit {
			break
		}
		if _, busy := j.busy[p.wallet]; busy {
			continue
		}
		if _, dup := seen[p.wallet]; dup {
			continue
		}
		seen[p.wallet] = struct{}{}
		n++
	}
	return n
}

// send publishes b. A batch of one is a plain fenced publish: an atomic
// batch would add the server's staging store for nothing.
func (j *Journal) send(b *batch) {
	j.st.batches.Add(1)
	j.st.messages.Add(uint64(len(b.items)))
	n := len(b.items)
	var err error
	for i, p := range b.items {
		m := &nats.Msg{Subject: p.subject, Data: p.data, Header: nats.Header{}}
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.prev, 10))
		m.Header.Set(hdrAppendID, p.id)
		if n > 1 {
			m.Header.Set(hdrBatchID, b.id)
			m.Header.Set(hdrBatchSeq, strconv.Itoa(i+1))
		}
		if i == n-1 {
			if n > 1 {
				m.Header.Set(hdrBatchCommit, "1")
			}
			m.Reply = j.inbox + b.id
		}
		if err = j.nc.PublishMsg(m); err != nil {
			break
		}
	}
	if err != nil {
		// Some messages may have left: the outcome is unknown.
		if b := j.takeInflight(b.id); b != nil {
			go j.resolve(b, err)
		}
	}
}

// takeInflight removes a batch from the ack wait; only the first of the
// reply, the timeout and a publish error gets it, and it MUST then call
// resolve or batchDone: Close waits for every batch taken.
func (j *Journal) takeInflight(id string) *batch {
	j.mu.Lock()
	b := j.inflight[id]
	if b != nil {
		delete(j.inflight, id)
		j.resolvers.Add(1) // under mu, so Close cannot be waiting yet
	}
	j.mu.Unlock()
	if b != nil {
		b.timer.Stop()
	}
	return b
}

// batchDone frees the batch's pipeline slot. A batch keeps its slot while
// it is being resolved, so a slow or stuck server is not flooded with
// resends: the pipeline bounds everything sent and not yet settled.
func (j *Journal) batchDone() {
	j.mu.Lock()
	j.slots--
	j.mu.Unlock()
	j.resolvers.Done()
	j.kick()
}

func (j *Journal) onTimeout(id string) {
	if b := j.takeInflight(id); b != nil {
		j.log.Warn("journal ack timeout; resolving by reading", zap.Int("appends", len(b.items)))
		j.resolve(b, errAckTimeout)
	}
}

// pubAck is the server's reply to a publish or a batch commit.
type pubAck struct {
	Stream string              `json:"stream"`
	Seq    uint64              `json:"seq"`
	Batch  string              `json:"batch"`
	Count  uint64              `json:"count"`
	Error  *jetstream.APIError `json:"error"`
}

// parseAck reads the server's reply to a publish. The common one, a plain
// ack of exactly the shape {"stream":"<name>","seq":<n>}, is read without
// encoding/json's reflection, paid once per append otherwise; anything
// else (a batch ack, an error, a domain) goes through json. FuzzParseAck
// holds the two to the same result.
func parseAck(data []byte) (pubAck, error) {
	const head, mid = `{"stream":"`, `","seq":`
	if rest, ok := bytes.CutPrefix(data, []byte(head)); ok {
		if i := bytes.Index(rest, []byte(mid)); i > 0 && plainName(rest[:i]) {
			digits, ok := bytes.CutSuffix(rest[i+len(mid):], []byte("}"))
			// ParseUint refuses signs, other characters and overflow; JSON
			// also refuses a leading zero.
			if ok && len(digits) > 0 && (digits[0] != '0' || len(digits) == 1) {
				if seq, err := strconv.ParseUint(string(digits), 10, 64); err == nil {
					return pubAck{Stream: string(rest[:i]), Seq: seq}, nil
				}
			}
		}
	}
	var ack pubAck
	err := json.Unmarshal(data, &ack)
	return ack, err
}

// plainName: a stream name that JSON carries verbatim.
func plainName(name []byte) bool {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// onReply handles the ack of a batch. Messages of an atomic batch are
// stored contiguously, the commit last, so item i sits at
// seq - count + 1 + i.
func (j *Journal) onReply(m *nats.Msg) {
	id := m.Subject[len(j.inbox):]
	b := j.takeInflight(id)
	if b == nil {
		return // already timed out and being resolved
	}
	ack, err := parseAck(m.Data)
	if err != nil {
		// No responders or a garbled reply: we cannot tell.
		go j.resolve(b, errAckTimeout)
		return
	}
	if ack.Error != nil {
		go j.resolve(b, ack.Error)
		return
	}
	n := uint64(len(b.items))
	if ack.Seq < n || (n > 1 && (ack.Batch != b.id || ack.Count != n)) {
		go j.resolve(b, errAckTimeout)
		return
	}
	defer j.batchDone()
	first := ack.Seq - n + 1
	if j.cfg.Mode == ModeGroupSync {
		j.awaitSync(b.items, first)
		return
	}
	j.release(b.items)
	for i, p := range b.items {
		j.finish(p, first+uint64(i), nil)
	}
}
