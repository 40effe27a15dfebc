package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/purser-dev/purser/actors"
)

// resolve settles every append of a batch that did not get a clean ack —
// refused (an atomic batch fails whole when any fence is stale), timed
// out or cut off — by reading each wallet's last message:
//
//   - its append id is ours: the append landed (an earlier send, or the
//     batch in question); ack it with that position;
//   - its sequence is still prev: it did not land; send it again with the
//     same fence and id, so a late arrival of the first send and the
//     resend can never both land;
//   - anything else: another writer appended after prev. Ours may still be
//     under it (landed, then overwritten by a new owner), so the subject's
//     first message after prev, read with the last one (and retried like
//     it), decides: ours, acked with its position; another's, ErrFenced.
//
// Only the wallets whose fence is stale fail; the others are resent,
// never lost or doubled. The server does not say which message of an
// atomic batch failed its check, hence the read of all of them.
func (j *Journal) resolve(b *batch, cause error) {
	defer j.batchDone() // taken by takeInflight
	j.st.resolutions.Add(1)
	last, ok := j.readLast(b.items)
	if !ok {
		// Closing, and the journal cannot be read: say so, never guess.
		j.release(b.items)
		for _, p := range b.items {
			j.finish(p, 0, ErrOutcomeUnknown)
		}
		return
	}
	var done []outcome
	var again []*pending
	explained := false
	for _, p := range b.items {
		l := last[p.subject]
		switch {
		case l.id == p.id:
			done = append(done, outcome{p, l.seq, nil})
			explained = true
		case l.seq == p.prev:
			again = append(again, p)
		case l.after.id == p.id:
			// Landed, then another writer appended on top of it.
			done = append(done, outcome{p, l.after.seq, nil})
			explained = true
		default:
			done = append(done, outcome{p, 0, actors.ErrFenced})
			explained = true
		}
	}
	var closedErr error
	switch {
	case explained || len(again) == 0:
		// A stale fence or an earlier landing sank the batch: the other
		// appends go again at once.
	case definitive(cause):
		// The server refused the batch for a reason no wallet explains
		// (limits, too many open batches): resend, but not forever.
		keep := again[:0]
		for _, p := range again {
			p.attempts++
			if p.attempts >= j.cfg.MaxAttempts {
				done = append(done, outcome{p, 0, fmt.Errorf("journal: append refused: %w", cause)})
				continue
			}
			keep = append(keep, p)
		}
		again = keep
		if len(again) > 0 {
			j.log.Warn("journal batch refused; resending", zap.Error(cause), zap.Int("appends", len(again)))
		}
		closedErr = ErrClosed // refused, so not written
	default:
		// Unknown and not landed yet: the first send may still be queued
		// in a slow server. Resending at once would pile batches behind
		// it, so back off first; the fence keeps any resend harmless.
		for _, p := range again {
			p.unknown++
		}
		closedErr = ErrOutcomeUnknown
	}
	if len(again) > 0 && closedErr != nil && !j.pause(backoff(again)) {
		for _, p := range again {
			done = append(done, outcome{p, 0, closedErr})
		}
		again = nil
	}
	if j.cfg.Mode == ModeGroupSync {
		// A landed append is answered as an acked one is: after a Sync
		// that began once its landing was seen.
		var landed []acked
		keep := done[:0]
		for _, o := range done {
			if o.err == nil {
				landed = append(landed, acked{o.p, o.pos})
				continue
			}
			keep = append(keep, o)
		}
		done = keep
		j.queueSync(landed)
	}
	finished := make([]*pending, len(done))
	for i, o := range done {
		finished[i] = o.p
	}
	j.requeue(finished, again)
	for _, o := range done {
		j.finish(o.p, o.pos, o.err)
	}
}

// outcome is how resolution settles one append: its position, or why not.
type outcome struct {
	p   *pending
	pos uint64
	err error
}

// requeue frees the wallets of finished appends and puts the others back
// at the head of the queue, ahead of newer work.
func (j *Journal) requeue(done, again []*pending) {
	j.st.requeues.Add(uint64(len(again)))
	j.mu.Lock()
	for _, p := range again {
		delete(j.busy, p.wallet)
	}
	if len(again) > 0 {
		j.queue = append(again[:len(again):len(again)], j.queue...)
	}
	j.mu.Unlock()
	j.release(done)
}

// definitive: the server answered with an error, so the batch was not
// stored; a timeout or a cut connection says nothing.
func definitive(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr)
}

func backoff(ps []*pending) time.Duration {
	n := 1
	for _, p := range ps {
		n = max(n, p.attempts, p.unknown)
	}
	return min(time.Duration(n)*50*time.Millisecond, time.Second)
}

// pause waits d unless the journal stops first.
func (j *Journal) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-j.stop:
		return false
	}
}

// resolveTimeout is the least time resolution's reads get: a short
// AckTimeout must not make the reads that settle it fail too.
const resolveTimeout = 5 * time.Second

// lastMsg is what resolution needs of a subject's last message.
type lastMsg struct {
	seq uint64 // 0: no message
	id  string // its append id
	// after is the subject's first message after the append's fence, read
	// when the last message is neither the append nor its fence: the
	// append is under it if it landed.
	after struct {
		seq uint64
		id  string
	}
}

// readLast reads the last message of each item's subject, retrying until
// it succeeds or the journal stops (reported as false).
func (j *Journal) readLast(ps []*pending) (map[string]lastMsg, bool) {
	for attempt := 1; ; attempt++ {
		last, err := j.readLastOnce(ps)
		if err == nil {
			return last, true
		}
		j.log.Warn("journal: cannot read wallets' last messages; retrying", zap.Error(err), zap.Int("attempt", attempt))
		if !j.pause(min(time.Duration(attempt)*100*time.Millisecond, 2*time.Second)) {
			return nil, false
		}
	}
}

// readLastOnce asks the stream leader (STREAM.MSG.GET, not a direct get,
// which a lagging replica may answer) for each subject's last message,
// a few requests at a time.
func (j *Journal) readLastOnce(ps []*pending) (map[string]lastMsg, error) {
	const parallel = 16
	ctx, cancel := context.WithTimeout(context.Background(), max(j.cfg.AckTimeout, resolveTimeout))
	defer cancel()
	var (
		mu    sync.Mutex
		last  = make(map[string]lastMsg, len(ps))
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, parallel)
	)
	for _, p := range ps {
		wg.Add(1)
		sem <- struct{}{}
		go func(p *pending) {
			defer func() { <-sem; wg.Done() }()
			l, err := j.lastFor(ctx, p.subject)
			if err == nil && l.id != p.id && l.seq != p.prev {
				var a lastMsg
				a, err = j.msgGet(ctx, map[string]any{"seq": p.prev + 1, "next_by_subj": p.subject})
				l.after.seq, l.after.id = a.seq, a.id
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			last[p.subject] = l
		}(p)
	}
	wg.Wait()
	return last, first
}

// msgGetReply is the JetStream API reply to STREAM.MSG.GET.
type msgGetReply struct {
	Error   *jetstream.APIError `json:"error"`
	Message *struct {
		Subject string    `json:"subject"`
		Seq     uint64    `json:"seq"`
		Hdrs    []byte    `json:"hdrs"`
		Data    []byte    `json:"data"`
		Time    time.Time `json:"time"`
	} `json:"message"`
}

func (j *Journal) lastFor(ctx context.Context, subject string) (lastMsg, error) {
	return j.msgGet(ctx, map[string]any{"last_by_subj": subject})
}

// msgGet asks the stream leader (STREAM.MSG.GET) for the message req
// names and returns its sequence and append id (zero: no such message).
func (j *Journal) msgGet(ctx context.Context, req map[string]any) (lastMsg, error) {
	m, err := j.leaderGet(ctx, req)
	if err != nil || m == nil {
		return lastMsg{}, err
	}
	return lastMsg{seq: m.Sequence, id: m.Header.Get(hdrAppendID)}, nil
}

// leaderGet asks the stream leader (STREAM.MSG.GET) for the message req
// names (nil: no such message).
func (j *Journal) leaderGet(ctx context.Context, req map[string]any) (*jetstream.RawStreamMsg, error) {
	body, _ := json.Marshal(req)
	j.st.readRequests.Add(1)
	m, err := j.nc.RequestWithContext(ctx, j.apiSubject("STREAM.MSG.GET."+j.cfg.Stream), body)
	if err != nil {
		return nil, err
	}
	var r msgGetReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("journal: msg get reply: %w", err)
	}
	if r.Error != nil {
		if r.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound { // the subject has no message
			return nil, nil
		}
		return nil, r.Error
	}
	if r.Message == nil {
		return nil, errors.New("journal: empty msg get reply")
	}
	raw := &jetstream.RawStreamMsg{Subject: r.Message.Subject, Sequence: r.Message.Seq,
		Data: r.Message.Data, Time: r.Message.Time}
	if len(r.Message.Hdrs) > 0 {
		if raw.Header, err = nats.DecodeHeadersMsg(r.Message.Hdrs); err != nil {
			return nil, fmt.Errorf("journal: message %d headers: %w", raw.Sequence, err)
		}
	}
	return raw, nil
}

// apiSubject prefixes a JetStream API subject the way the client does.
func (j *Journal) apiSubject(s string) string {
	o := j.js.Options()
	switch {
	case o.APIPrefix != "":
		p := o.APIPrefix
		if p[len(p)-1] != '.' {
			p += "."
		}
		return p + s
	case o.Domain != "":
		return "$JS." + o.Domain + ".API." + s
	}
	return "$JS.API." + s
}
