package node

// End-to-end tests of a node: a real embedded JetStream server on a random
// loopback port and a temp dir, requests over NATS in JSON and msgpack,
// every error code a client can cause, and proof after each refusal that the
// node still serves and the wallet is unchanged.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"
)

func startNode(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Start(context.Background(), Config{DataDir: dir, NATSListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

func connect(t *testing.T, n *Node) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// client speaks one encoding; bodies are maps so field names are checked.
type client struct {
	t       *testing.T
	nc      *nats.Conn
	msgpack bool
}

type reply struct {
	body   map[string]any
	header nats.Header
}

func (r reply) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		return e["code"].(string)
	}
	return ""
}

// num reads a number field whatever its decoded Go type.
func (r reply) num(field string) int64 {
	switch v := r.body[field].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case uint64:
		return int64(v)
	case int8, int16, int32, uint8, uint16, uint32:
		var n int64
		fmt.Sscan(fmt.Sprint(v), &n)
		return n
	}
	return -1 << 62
}

func (c client) raw(subject string, body []byte) reply {
	c.t.Helper()
	m, err := c.nc.Request(subject, body, 5*time.Second)
	if err != nil {
		c.t.Fatalf("%s: %v", subject, err)
	}
	var out map[string]any
	if len(m.Data) > 0 && m.Data[0] == '{' {
		if c.msgpack {
			c.t.Fatalf("%s: msgpack request answered in JSON: %s", subject, m.Data)
		}
		err = json.Unmarshal(m.Data, &out)
	} else {
		err = msgpack.Unmarshal(m.Data, &out)
	}
	if err != nil {
		c.t.Fatalf("%s: undecodable reply %q: %v", subject, m.Data, err)
	}
	return reply{body: out, header: m.Header}
}

func (c client) do(subject string, req map[string]any) reply {
	c.t.Helper()
	var body []byte
	var err error
	if c.msgpack {
		body, err = msgpack.Marshal(req)
	} else {
		body, err = json.Marshal(req)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return c.raw(subject, body)
}

func (c client) ok(subject string, req map[string]any) reply {
	c.t.Helper()
	r := c.do(subject, req)
	if r.code() != "" {
		c.t.Fatalf("%s %v: %v", subject, req, r.body)
	}
	return r
}

func TestEveryOpRoundTripsInJSONAndMsgpack(t *testing.T) {
	n := startNode(t, t.TempDir())
	nc := connect(t, n)
	for _, mp := range []bool{false, true} {
		c := client{t: t, nc: nc, msgpack: mp}
		w := fmt.Sprintf("acme-%v", mp)
		sub := func(op string) string {
			if op == "grant" || op == "revoke" || op == "configure" || op == "history" {
				return "purser.admin.v1." + op + "." + w
			}
			return "purser.v1." + op + "." + w
		}
		g := c.ok(sub("grant"), map[string]any{"id": "g1", "amount": 10_000, "kind": "paid"})
		if g.num("balance") != 10_000 || g.body["grant"] == nil {
			t.Fatalf("grant: %v", g.body)
		}
		c.ok(sub("grant"), map[string]any{"id": "promo", "amount": 500, "kind": "promotional"})
		if r := c.ok(sub("configure"), map[string]any{"id": "c1", "default_ttl_ms": 30_000}); r.num("default_ttl_ms") != 30_000 {
			t.Fatalf("configure: %v", r.body)
		}
		if r := c.ok(sub("check"), map[string]any{"amount": 100}); r.body["allowed"] != true || r.num("held") != 0 {
			t.Fatalf("check: %v", r.body)
		}
		r := c.ok(sub("reserve"), map[string]any{"id": "r1", "amount": 1500})
		if r.body["allowed"] != true || r.body["hold_id"] != "r1" || r.num("available") != 9000 {
			t.Fatalf("reserve: %v", r.body)
		}
		if r := c.ok(sub("extend"), map[string]any{"id": "e1", "hold_id": "r1", "ttl_ms": 60_000, "amount": 2000}); r.num("amount") != 2000 {
			t.Fatalf("extend: %v", r.body)
		}
		s := c.ok(sub("settle"), map[string]any{"id": "s1", "hold_id": "r1", "actual": 1200})
		if s.num("consumed") != 1200 || s.num("released") != 800 || s.num("available") != 9300 {
			t.Fatalf("settle: %v", s.body)
		}
		allocs := s.body["allocations"].([]any)
		if len(allocs) != 2 { // promo first, then paid
			t.Fatalf("settle allocations: %v", allocs)
		}
		c.ok(sub("reserve"), map[string]any{"id": "r2", "amount": 100})
		if r := c.ok(sub("release"), map[string]any{"id": "l1", "hold_id": "r2"}); r.num("released") != 100 {
			t.Fatalf("release: %v", r.body)
		}
		if r := c.ok(sub("debit"), map[string]any{"id": "d1", "amount": 300}); r.num("consumed") != 300 || r.num("balance") != 9000 {
			t.Fatalf("debit: %v", r.body)
		}
		if r := c.ok(sub("revoke"), map[string]any{"id": "v1", "grant_id": "g1"}); r.num("forfeited") != 9000 {
			t.Fatalf("revoke: %v", r.body)
		}
		b := c.ok(sub("balance"), map[string]any{})
		if b.num("balance") != 0 || b.body["mode"] != "strict" {
			t.Fatalf("balance: %v", b.body)
		}
		h := c.ok(sub("history"), map[string]any{"limit": 3})
		entries := h.body["entries"].([]any)
		if len(entries) != 3 || h.num("next_seq") != 3 {
			t.Fatalf("history page: %v", h.body)
		}
		rest := c.ok(sub("history"), map[string]any{"after_seq": 3})
		types := []string{}
		for _, e := range rest.body["entries"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		want := "held held settled held released debited revoked"
		if strings.Join(types, " ") != want || rest.num("next_seq") != 0 {
			t.Fatalf("history after 3: %v, want %s", types, want)
		}
	}
}

// TestBadInputGetsItsCodeAndChangesNothing sends one bad request per row
// and checks the code, the service error headers, and that the wallet is
// exactly as before while the node keeps answering.
func TestBadInputGetsItsCodeAndChangesNothing(t *testing.T) {
	n := startNode(t, t.TempDir())
	nc := connect(t, n)
	c := client{t: t, nc: nc}
	c.ok("purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 1000, "kind": "paid"})
	c.ok("purser.v1.reserve.acme", map[string]any{"id": "r1", "amount": 100})
	c.ok("purser.v1.settle.acme", map[string]any{"id": "s1", "hold_id": "r1", "actual": 100})
	before := c.ok("purser.v1.balance.acme", map[string]any{}).body

	big := `{"id":"x","amount":1,"meta":{"k":"` + strings.Repeat("a", 70_000) + `"}}`
	rows := []struct{ subject, body, code string }{
		{"purser.v1.reserve.acme", `{"id":`, "invalid_request"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":5,"color":"red"}`, "invalid_request"},
		{"purser.v1.reserve.ac.me", `{"id":"a","amount":5}`, "invalid_request"},
		{"purser.v1.reserve.ac$me", `{"id":"a","amount":5}`, "invalid_wallet"},
		{"purser.v1.nope.acme", `{}`, "invalid_request"},
		{"purser.v1.grant.acme", `{"id":"g2","amount":5,"kind":"paid"}`, "invalid_request"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":0}`, "invalid_amount"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":-5}`, "invalid_amount"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":1.5}`, "invalid_amount"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":"5"}`, "invalid_amount"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":99999999999999999999}`, "invalid_amount"},
		{"purser.v1.reserve.acme", `{"id":"a"}`, "invalid_amount"},
		{"purser.v1.reserve.acme", `{"id":"a","amount":5,"ttl_ms":0}`, "invalid_request"},
		{"purser.admin.v1.grant.acme", `{"id":"g9","amount":9223372036854775000,"kind":"paid"}`, "amount_overflow"},
		{"purser.v1.reserve.ghost", `{"id":"a","amount":5}`, "wallet_not_found"},
		{"purser.v1.settle.acme", `{"id":"s2","hold_id":"nope","actual":1}`, "hold_not_found"},
		{"purser.v1.settle.acme", `{"id":"s3","hold_id":"r1","actual":1}`, "hold_closed"},
		{"purser.admin.v1.revoke.acme", `{"id":"v1","grant_id":"nope"}`, "grant_not_found"},
		{"purser.v1.settle.acme", `{"id":"s1","hold_id":"r1","actual":99}`, "idempotency_conflict"},
		{"purser.v1.debit.acme", `{"id":"r1","amount":5}`, "idempotency_conflict"},
		{"purser.v1.reserve.acme", big, "payload_too_large"},
	}
	for _, row := range rows {
		r := c.raw(row.subject, []byte(row.body))
		if r.code() != row.code {
			t.Errorf("%s %.60s: got %v, want %s", row.subject, row.body, r.body, row.code)
			continue
		}
		if r.header.Get("Nats-Service-Error-Code") == "" || r.header.Get("Nats-Service-Error") == "" {
			t.Errorf("%s: no service error headers: %v", row.code, r.header)
		}
		if after := c.ok("purser.v1.balance.acme", map[string]any{}).body; fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("%s changed the wallet: %v -> %v", row.code, before, after)
		}
	}
	// limit_exceeded: more meta keys than a wallet takes.
	meta := map[string]any{}
	for i := range 17 {
		meta[fmt.Sprint("k", i)] = "v"
	}
	if r := c.do("purser.v1.reserve.acme", map[string]any{"id": "m", "amount": 1, "meta": meta}); r.code() != "limit_exceeded" {
		t.Fatalf("17 meta keys: %v", r.body)
	}
	// msgpack garbage is invalid_request too, answered in msgpack.
	mc := client{t: t, nc: nc, msgpack: true}
	if r := mc.raw("purser.v1.reserve.acme", []byte{0xc1, 0x00, 0xff}); r.code() != "invalid_request" {
		t.Fatalf("msgpack garbage: %v", r.body)
	}
	if !bytes.Equal([]byte(fmt.Sprint(c.ok("purser.v1.balance.acme", map[string]any{}).body)), []byte(fmt.Sprint(before))) {
		t.Fatal("wallet changed")
	}
}

// A node that cannot start says why and leaves nothing running: a bad
// listen address, a data dir another node holds, an unreachable NATS.
func TestAFailedStartIsAnError(t *testing.T) {
	dir := t.TempDir()
	held := startNode(t, dir)
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad port", Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:99999"}, "99999"},
		{"data dir in use", Config{DataDir: dir, NATSListen: "127.0.0.1:0"}, "in use"},
		{"no NATS there", Config{NATSURL: "nats://127.0.0.1:1"}, "127.0.0.1:1"},
	} {
		n, err := Start(context.Background(), c.cfg)
		if err == nil || n != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, %v; want an error naming %q", c.name, n, err, c.want)
		}
	}
	// The node holding the dir still serves.
	client{t: t, nc: connect(t, held)}.ok("purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 5, "kind": "paid"})
}
