package node

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/embedded"
	"github.com/purser-dev/purser/transport/journal"
	"github.com/purser-dev/purser/transport/wire"
)

// The journal echo is the load test's second floor (Config.JournalEcho,
// `purser serve --bench-journal-echo`, scenario journal-echo): a responder
// that journals each request as one fenced message on its key's subject,
// through a Journal configured as the wallets' is (group sync and its
// fsync with the embedded server), and replies with the request's body
// once that message is durable. It is the node without the node: no
// actor, no decision, no codec of the API. What one journaled message per
// request costs on a machine is this floor against the plain echo; what
// the node adds to its journal is a Purser shape against this floor.
const (
	journalEchoStream = "PURSER_BENCH_JOURNAL_ECHO"
	journalEchoPrefix = "purser.bench.journal-echo"
)

type journalEcho struct {
	js   jetstream.JetStream
	j    *journal.Journal
	sync *embedded.StreamSync // nil unless group sync
	sub  *nats.Subscription

	mu   sync.Mutex
	keys map[string]*echoKey
}

// echoKey is one key's chain: its last position, and the requests waiting
// for it, the first of which is being journaled (one append in flight per
// subject, as an actor has).
type echoKey struct {
	prev  uint64
	seq   uint64
	queue []*nats.Msg
}

// startJournalEcho starts the responder with the wallets' journal
// configuration (jcfg: mode, in-flight bound, batch sizes) on a stream of
// its own. A key's chain does not recover from a failed append (a fence
// by another writer, an unknown outcome): its later requests get errors.
// The load test's keys are new for every run, and a key lives as long as
// the node: a floor for benchmarks, not a service.
func (n *Node) startJournalEcho(ctx context.Context, js jetstream.JetStream, jcfg journal.Config) (err error) {
	e := &journalEcho{js: js, keys: make(map[string]*echoKey)}
	jcfg.Stream, jcfg.Prefix, jcfg.Logger, jcfg.Sync = journalEchoStream, journalEchoPrefix, n.log, nil
	if n.sync != nil {
		e.sync = n.server.StreamSync(journalEchoStream)
		jcfg.Sync = e.sync.Sync
	}
	if e.j, err = journal.New(ctx, js, jcfg); err != nil {
		return err
	}
	n.echo = e
	subjects, err := wire.NewSubjects(n.cfg.Prefix)
	if err != nil {
		return err
	}
	e.sub, err = n.nc.Subscribe(subjects.JournalEcho("*"), e.request)
	return err
}

func (e *journalEcho) request(m *nats.Msg) {
	key := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	if !wire.ValidWallet(key) || m.Reply == "" {
		_ = m.Respond([]byte(wire.JournalEchoError + "bad key or no reply subject"))
		return
	}
	e.mu.Lock()
	k := e.keys[key]
	if k == nil {
		k = &echoKey{}
		e.keys[key] = k
	}
	k.queue = append(k.queue, m)
	first := len(k.queue) == 1
	e.mu.Unlock()
	if first {
		e.append(key, k)
	}
}

// append journals the key's first waiting request, as a reserve would be.
func (e *journalEcho) append(key string, k *echoKey) {
	e.mu.Lock()
	m, prev := k.queue[0], k.prev
	k.seq++
	ev := &actors.HoldPlaced{Head: actors.Head{Seq: k.seq}, Hold: key, Amount: 500,
		Earmarks: []actors.Allocation{{Grant: "g", Amount: 500}}, Answer: actors.Answer{ID: key}}
	e.mu.Unlock()
	e.j.Append(key, prev, []actors.Event{ev}, func(pos uint64, err error) {
		e.mu.Lock()
		k.queue = k.queue[1:]
		if err == nil {
			k.prev = pos
		}
		more := len(k.queue) > 0
		e.mu.Unlock()
		if err != nil {
			_ = m.Respond([]byte(wire.JournalEchoError + err.Error()))
		} else {
			_ = m.Respond(m.Data)
		}
		if more {
			e.append(key, k)
		}
	})
}

// close stops taking requests, waits for the appends in flight, and
// deletes the stream: a floor leaves nothing behind in the data dir.
func (e *journalEcho) close(ctx context.Context) error {
	var errs []error
	if e.sub != nil {
		errs = append(errs, e.sub.Unsubscribe())
	}
	errs = append(errs, e.j.Close(ctx))
	if e.sync != nil {
		errs = append(errs, e.sync.Close())
	}
	if err := e.js.DeleteStream(ctx, journalEchoStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
