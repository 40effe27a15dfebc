// Package api serves Purser's request-reply API (SPEC §8) on NATS: it
// parses the subject, decodes the body, hands the command to the wallet's
// actor and replies when the actor answers. No goroutine blocks per
// request: the NATS subscription goroutine only decodes and enqueues; the
// reply is published from the actor's goroutine after the journal ack.
package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/zap"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/wire"
)

// Version is reported by `nats micro info purser`: the version of this
// API, not of the binary (micro requires semver; builds are named "dev").
const Version = "0.1.0"

// History reads a wallet's journal for the history op: forwards from
// position from, in order, about batch messages a round trip, until fn
// stops it (journal.Journal; actors.MemJournal in tests).
type History interface {
	ReadPage(ctx context.Context, wallet string, from uint64, batch int, fn func(pos uint64, events []actors.Event) error) (uint64, error)
}

// Config configures a Service.
type Config struct {
	Prefix     string // subject prefix, default "purser"
	MaxPayload int    // request body limit in bytes, default 64 KiB
	// HistoryReaders bounds concurrent history reads (each a journal
	// read); beyond it history answers overloaded. Default 8.
	HistoryReaders int
	Log            *zap.Logger
	// Observe, when set, is called once per request after its reply was
	// handed to NATS, with the time from receipt to reply. It runs on the
	// goroutine that replied (often an actor's): it must not block.
	Observe func(Outcome)
}

// Outcome describes one answered request for metrics.
type Outcome struct {
	Op       string // the subject's op; "invalid" when the subject did not parse
	Decision Decision
	Reason   string // the denial reason or the error code; empty when allowed
	Latency  time.Duration
}

// Decision classifies a reply: Allowed is every accepted request
// (including ops that decide nothing, like settle or balance).
type Decision string

const (
	Allowed Decision = "allowed"
	Denied  Decision = "denied"
	Error   Decision = "error"
)

// Service is the NATS micro service "purser".
type Service struct {
	nc       *nats.Conn // late answers are published on it (tracker.failLater)
	svc      micro.Service
	sys      *actors.System
	history  History
	subjects wire.Subjects
	decoder  wire.Decoder
	readers  chan struct{}
	cursors  *cursors
	// stopping ends the history reads in flight when Stop is called, so
	// that a read stalled on the journal does not hold Stop for its whole
	// timeout.
	stopping    context.Context
	stopReading context.CancelFunc
	wg          sync.WaitGroup
	log         *zap.Logger
	observe     func(Outcome)
}

// Start registers the service on nc: one endpoint for the runtime subjects
// and one for the admin subjects, in queue group "purser" so that several
// nodes share the traffic.
func Start(nc *nats.Conn, sys *actors.System, history History, cfg Config) (*Service, error) {
	subjects, err := wire.NewSubjects(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	if cfg.HistoryReaders <= 0 {
		cfg.HistoryReaders = 8
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	s := &Service{nc: nc, sys: sys, history: history, subjects: subjects, decoder: wire.Decoder{MaxPayload: cfg.MaxPayload},
		readers: make(chan struct{}, cfg.HistoryReaders), cursors: newCursors(10_000), log: cfg.Log, observe: cfg.Observe}
	s.stopping, s.stopReading = context.WithCancel(context.Background())
	if s.observe == nil {
		s.observe = func(Outcome) {}
	}
	s.svc, err = micro.AddService(nc, micro.Config{
		Name:        "purser",
		Version:     Version,
		Description: "Purser usage runtime: credits, holds and spend decisions",
		QueueGroup:  "purser",
	})
	if err != nil {
		return nil, err
	}
	handler := micro.HandlerFunc(s.handle)
	if err := s.svc.AddEndpoint("runtime", handler, micro.WithEndpointSubject(subjects.RuntimeWildcard())); err != nil {
		_ = s.svc.Stop()
		return nil, err
	}
	if err := s.svc.AddEndpoint("admin", handler, micro.WithEndpointSubject(subjects.AdminWildcard())); err != nil {
		_ = s.svc.Stop()
		return nil, err
	}
	return s, nil
}

// Stop unsubscribes: no new request is taken. Requests already handed to
// actors are still answered (the actor system drains them on Close).
func (s *Service) Stop() error {
	err := s.svc.Stop()
	s.stopReading()
	s.wg.Wait()
	return err
}

// Info is the micro service's identity and endpoints.
func (s *Service) Info() micro.Info { return s.svc.Info() }

func (s *Service) handle(req micro.Request) {
	t := tracker{s: s, start: time.Now(), op: "invalid"}
	body := req.Data()
	enc := wire.Detect(body, req.Headers().Get("Content-Type"))
	route, aerr := s.subjects.Parse(req.Subject())
	if aerr != nil {
		t.fail(req, enc, aerr)
		return
	}
	t.op = route.Op.String()
	if route.Op == wire.OpHistory {
		s.serveHistory(req, enc, route.Wallet, body, t)
		return
	}
	cmd, aerr := s.decoder.Decode(route.Op, body, enc)
	if aerr != nil {
		t.fail(req, enc, aerr)
		return
	}
	to := req.Reply()
	s.sys.Send(route.Wallet, cmd, func(r actors.Reply, err *actors.Error) {
		if err != nil {
			t.failLater(to, enc, err)
			return
		}
		out, encErr := wire.AppendReply(make([]byte, 0, replyCap), enc, r)
		if encErr != nil {
			s.log.Error("reply has no wire shape", zap.Error(encErr), zap.String("wallet", route.Wallet))
			t.failLater(to, enc, &actors.Error{Code: actors.ErrUnavailable, Message: "internal error encoding the reply"})
			return
		}
		if !s.fits(len(out)) {
			t.failLater(to, enc, s.replyTooLarge(route.Op, len(out)))
			return
		}
		s.publish(to, out, nil)
		t.done(decisionOf(r))
	})
}

// replyRoom is what a reply's headers may take beside its body under the
// server's max_payload, which counts both.
const replyRoom = 1 << 10

// fits says whether a reply body of n bytes can be sent: the server drops
// a message over its max_payload, and a client would wait for an answer
// that never comes (SPEC §8: never a dropped request). A reply of a few KiB
// (nearly all) fits any server: it is not compared, because MaxPayload
// takes the connection's lock, which its flusher holds while it writes.
func (s *Service) fits(n int) bool {
	return n <= smallReply || int64(n) <= s.nc.MaxPayload()-replyRoom
}

// smallReply is a reply size every NATS server carries (a max_payload
// below 8 KiB would refuse most requests the API takes).
const smallReply = 4 << 10

// replyTooLarge is the error sent instead of a reply the server cannot
// carry. Within the wallet's default bounds only a balance (every grant
// with its meta) or a history page (cut to fit before this) gets there on
// the embedded server, whose max_payload is raised for it; an external
// server's may be smaller. A change was applied all the same: its retry
// gets this answer again, and the history holds its result
// (docs/api.md, "Replies larger than max_payload").
func (s *Service) replyTooLarge(op wire.Op, n int) *actors.Error {
	limit := s.nc.MaxPayload()
	// Rare, and the operator's to fix (max_payload, or the wallet's size):
	// worth a line each time.
	s.log.Warn("a reply is larger than the NATS server's max_payload; answered limit_exceeded",
		zap.Stringer("op", op), zap.Int("bytes", n), zap.Int64("max_payload", limit))
	msg := fmt.Sprintf("the %s reply is %d bytes, more than the NATS server's max_payload (%d bytes) carries", op, n, limit)
	if op != wire.OpBalance && op != wire.OpCheck && op != wire.OpHistory {
		msg += "; the request was applied: its result is in the wallet's history"
	}
	return &actors.Error{Code: actors.ErrLimitExceeded, Message: msg}
}

// replyCap sizes a reply buffer so that a typical reply (a few fields of
// JSON or msgpack) is encoded into one allocation rather than grown from
// nil by doubling.
const replyCap = 256

// tracker measures one request from receipt to reply.
type tracker struct {
	s     *Service
	start time.Time
	op    string
}

// fail answers from within the handler, through micro's request (which
// then counts the error in the service's stats).
func (t tracker) fail(req micro.Request, enc wire.Encoding, e *actors.Error) {
	t.s.fail(req, enc, e)
	t.done(Error, e.Code.String())
}

// failLater answers after the handler returned (from an actor or a history
// reader): straight to the reply subject, because micro reads its request
// object once Handle returns and must not race a late writer.
func (t tracker) failLater(to string, enc wire.Encoding, e *actors.Error) {
	t.s.publish(to, wire.AppendError(make([]byte, 0, replyCap), enc, e), nats.Header(wire.ErrorHeaders(e)))
	t.done(Error, e.Code.String())
}

func (t tracker) done(d Decision, reason string) {
	t.s.observe(Outcome{Op: t.op, Decision: d, Reason: reason, Latency: time.Since(t.start)})
}

// decisionOf reads a denial out of the replies that can carry one.
func decisionOf(r actors.Reply) (Decision, string) {
	switch r := r.(type) {
	case actors.ReserveReply:
		if !r.Allowed {
			return Denied, r.Reason.String()
		}
	case actors.ExtendReply:
		if !r.Allowed {
			return Denied, r.Reason.String()
		}
	}
	return Allowed, ""
}

// publish sends a late answer to the request's reply subject.
func (s *Service) publish(to string, data []byte, hdr nats.Header) {
	if to == "" { // a publish without a reply subject wants no answer
		return
	}
	if err := s.nc.PublishMsg(&nats.Msg{Subject: to, Data: data, Header: hdr}); err != nil &&
		!errors.Is(err, nats.ErrConnectionClosed) {
		s.log.Debug("reply not sent", zap.Error(err))
	}
}

// fail answers with an error body in the request's encoding and the NATS
// service error headers.
func (s *Service) fail(req micro.Request, enc wire.Encoding, e *actors.Error) {
	out := wire.AppendError(make([]byte, 0, replyCap), enc, e)
	if err := req.Error(strconv.Itoa(wire.Status(e.Code)), e.Message, out); err != nil &&
		!errors.Is(err, nats.ErrConnectionClosed) {
		s.log.Debug("error reply not sent", zap.Error(err))
	}
}
