package api_test

// The harness every test of this package uses: a real embedded NATS server
// on a random loopback port and a temp dir, a real actors.System on an
// in-memory journal, the Service under test, and a separate client
// connection — nothing we ship is replaced by a mock.

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/embedded"
	"github.com/purser-dev/purser/transport/wire"
)

// replyTimeout bounds each request: the service answers every request, so
// reaching it is a failure, not a retry.
const replyTimeout = 5 * time.Second

type harness struct {
	t        *testing.T
	svc      *api.Service
	client   *nats.Conn
	outcomes chan api.Outcome
}

// setup is what a test may change before the service starts.
type setup struct {
	cfg     api.Config
	journal *actors.MemJournal // the System's journal; default a fresh one
	history api.History        // default the journal
	// maxPayload is the server's max_payload; default the embedded
	// server's.
	maxPayload int32
}

func start(t *testing.T, s setup) *harness {
	t.Helper()
	srv, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Port: embedded.RandomPort, MaxPayload: s.maxPayload})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	serviceConn := dial(t, srv.ClientURL())
	if s.journal == nil {
		s.journal = actors.NewMemJournal()
	}
	if s.history == nil {
		s.history = s.journal
	}
	sys, err := actors.NewSystem(actors.DefaultConfig(), s.journal)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sys.Close(context.Background()); err != nil {
			t.Errorf("close the actor system: %v", err)
		}
	})
	// Buffered well beyond any test's request count: Observe runs on an
	// actor's goroutine and must never block it.
	h := &harness{t: t, outcomes: make(chan api.Outcome, 1024)}
	s.cfg.Observe = func(o api.Outcome) { h.outcomes <- o }
	h.svc, err = api.Start(serviceConn, sys, s.history, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Start's subscriptions are buffered on the connection: a round trip
	// makes sure the server has them before the first request.
	if err := serviceConn.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.svc.Stop(); err != nil {
			t.Errorf("stop the service: %v", err)
		}
	})
	h.client = dial(t, srv.ClientURL())
	return h
}

// in is h reporting to t (a subtest), so that a failure ends the subtest.
func (h *harness) in(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func dial(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// answer is one reply, decoded in the encoding the test expected.
type answer struct {
	raw    []byte
	body   map[string]any
	header nats.Header
}

// send sends body as is, with a Content-Type header when contentType is
// set, and decodes the reply in enc; a reply in the other encoding fails
// the test.
func (h *harness) send(subject string, body []byte, contentType string, enc wire.Encoding) answer {
	h.t.Helper()
	msg := &nats.Msg{Subject: subject, Data: body}
	if contentType != "" {
		msg.Header = nats.Header{"Content-Type": {contentType}}
	}
	m, err := h.client.RequestMsg(msg, replyTimeout)
	if err != nil {
		h.t.Fatalf("%s: %v", subject, err)
	}
	a := answer{raw: m.Data, header: m.Header}
	if enc == wire.JSON {
		err = json.Unmarshal(m.Data, &a.body)
	} else {
		// A JSON reply is no msgpack map, and msgpack never parses as JSON
		// (its map header is a byte ≥ 0x80): check both ways.
		if json.Valid(m.Data) {
			h.t.Fatalf("%s: wanted a msgpack reply, got JSON %s", subject, m.Data)
		}
		err = msgpack.Unmarshal(m.Data, &a.body)
	}
	if err != nil {
		h.t.Fatalf("%s: reply is not %s: %v (% x)", subject, enc, err, m.Data)
	}
	return a
}

// json sends a JSON request (sniffed from its '{', no header).
func (h *harness) json(subject string, req map[string]any) answer {
	h.t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.send(subject, body, "", wire.JSON)
}

// msgpack sends a msgpack request.
func (h *harness) msgpack(subject string, req map[string]any) answer {
	h.t.Helper()
	body, err := msgpack.Marshal(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.send(subject, body, "", wire.Msgpack)
}

// ok sends a JSON request that must succeed.
func (h *harness) ok(subject string, req map[string]any) answer {
	h.t.Helper()
	a := h.json(subject, req)
	if code := a.code(); code != "" {
		h.t.Fatalf("%s %v: error %s: %s", subject, req, code, a.raw)
	}
	return a
}

// grant creates wallet with amount paid credits.
func (h *harness) grant(wallet string, amount int64) {
	h.t.Helper()
	h.ok("purser.admin.v1.grant."+wallet, map[string]any{"id": "grant-" + wallet, "amount": amount, "kind": "paid"})
	h.outcome()
}

// balance reads wallet's balance over the API: proof that the service
// still serves, and of what the wallet holds.
func (h *harness) balance(wallet string) int64 {
	h.t.Helper()
	a := h.ok("purser.v1.balance."+wallet, map[string]any{})
	h.outcome()
	return a.num("balance")
}

// outcome is the next request's Outcome. Observe runs after the reply is
// handed to NATS, so it may come after the reply the test already read.
func (h *harness) outcome() api.Outcome {
	h.t.Helper()
	select {
	case o := <-h.outcomes:
		return o
	case <-time.After(replyTimeout):
		h.t.Fatal("no Outcome observed")
		return api.Outcome{}
	}
}

func (a answer) code() string {
	if e, ok := a.body["error"].(map[string]any); ok {
		code, _ := e["code"].(string)
		return code
	}
	return ""
}

// num reads an integer field whichever integer type the decoder chose.
func (a answer) num(field string) int64 {
	switch v := a.body[field].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case uint64:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	}
	return -1 << 62
}

// wantError checks an error reply: its code, and the NATS service error
// headers generic tooling reads (a message, and the code's status).
func (a answer) wantError(t *testing.T, code actors.Code) {
	t.Helper()
	if got := a.code(); got != code.String() {
		t.Fatalf("code %q, want %q: %s", got, code, a.raw)
	}
	if got, want := a.header.Get(wire.HeaderErrorCode), strconv.Itoa(wire.Status(code)); got != want {
		t.Fatalf("%s: %s %q, want %q", code, wire.HeaderErrorCode, got, want)
	}
	if a.header.Get(wire.HeaderError) == "" {
		t.Fatalf("%s: no %s header", code, wire.HeaderError)
	}
}

// wantOutcome checks what the service reported to metrics.
func wantOutcome(t *testing.T, got api.Outcome, op string, d api.Decision, reason string) {
	t.Helper()
	if got.Op != op || got.Decision != d || got.Reason != reason {
		t.Fatalf("outcome %+v, want op %q decision %q reason %q", got, op, d, reason)
	}
	if got.Latency <= 0 {
		t.Fatalf("outcome %+v has no latency", got)
	}
}

// padJSON pads a JSON object with spaces before its closing brace to
// exactly size bytes.
func padJSON(t *testing.T, req map[string]any, size int) []byte {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > size {
		t.Fatalf("request is already %d bytes", len(body))
	}
	pad := bytes.Repeat([]byte{' '}, size-len(body))
	return append(append(body[:len(body)-1:len(body)-1], pad...), '}')
}
