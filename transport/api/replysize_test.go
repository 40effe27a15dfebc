package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/wire"
)

// tinyPayload is a server max_payload small enough that a wallet of a few
// hundred grants has replies past it.
const tinyPayload = 32 << 10

// manyGrants gives acme n paid grants of 1 credit with long ids, so that
// a reply listing them (a balance, a settle's allocations) is large.
func manyGrants(t *testing.T, h *harness, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("g%04d-%s", i, strings.Repeat("x", 110))
		h.ok("purser.admin.v1.grant.acme", map[string]any{"id": id, "amount": 1, "kind": "paid"})
		h.outcome()
	}
}

// A reply the server cannot carry (over its max_payload, which it would
// drop, leaving the client to time out) is an error reply instead, in
// either encoding; a change it answers was applied all the same, and its
// retry gets the same answer.
func TestAReplyPastMaxPayloadIsLimitExceeded(t *testing.T) {
	h := start(t, setup{maxPayload: tinyPayload})
	const grants = 300
	manyGrants(t, h, grants)

	for _, enc := range []wire.Encoding{wire.JSON, wire.Msgpack} {
		var a answer
		if enc == wire.JSON {
			a = h.json("purser.v1.balance.acme", map[string]any{})
		} else {
			a = h.msgpack("purser.v1.balance.acme", map[string]any{})
		}
		wantOutcome(t, h.outcome(), "balance", api.Error, "limit_exceeded")
		if a.code() != "limit_exceeded" || a.header.Get("Nats-Service-Error-Code") != "422" ||
			!strings.Contains(string(a.raw), "max_payload") || strings.Contains(string(a.raw), "applied") {
			t.Fatalf("%s balance of %d grants: %s %v", enc, grants, a.raw, a.header)
		}
	}

	h.ok("purser.v1.reserve.acme", map[string]any{"id": "r1", "amount": grants})
	h.outcome()
	settle := map[string]any{"id": "s1", "hold_id": "r1", "actual": grants}
	for range 2 { // the retry gets the same answer
		a := h.json("purser.v1.settle.acme", settle)
		wantOutcome(t, h.outcome(), "settle", api.Error, "limit_exceeded")
		if a.code() != "limit_exceeded" || !strings.Contains(string(a.raw), "applied") {
			t.Fatalf("settle across %d grants: %s", grants, a.raw)
		}
	}
	// The settle was applied: every grant is spent, so the balance lists
	// none and fits again.
	a := h.ok("purser.v1.balance.acme", map[string]any{})
	h.outcome()
	if a.num("balance") != 0 || a.num("held") != 0 || len(a.body["grants"].([]any)) != 0 {
		t.Fatalf("after the settle: %s", a.raw)
	}
}

// A history page that would be past the server's max_payload is cut to
// what fits, and paging on from its next_seq reads every entry once; an
// entry too large alone is limit_exceeded, naming its seq so that a
// client can page past it.
func TestAHistoryPageIsCutToMaxPayload(t *testing.T) {
	h := start(t, setup{maxPayload: tinyPayload})
	const grants = 300
	manyGrants(t, h, grants)

	pages := 0
	after := int64(0)
	for after == 0 || after < grants {
		a := h.ok("purser.admin.v1.history.acme", map[string]any{"after_seq": after, "limit": 1000})
		wantOutcome(t, h.outcome(), "history", api.Allowed, "")
		if len(a.raw) > tinyPayload {
			t.Fatalf("a page of %d bytes", len(a.raw))
		}
		for _, e := range a.body["entries"].([]any) {
			if seq := (answer{body: e.(map[string]any)}).num("seq"); seq != after+1 {
				t.Fatalf("seq %d after %d", seq, after)
			}
			after++
		}
		pages++
		if next := a.num("next_seq"); next != after && !(next == 0 && after == grants) {
			t.Fatalf("next_seq %d after entry %d", next, after)
		}
	}
	if pages < 2 {
		t.Fatalf("%d grants' history came in %d page: the page was not cut", grants, pages)
	}
	if seqs := h.historySeqs(t, 1000); len(seqs) != grants {
		t.Fatalf("paging with cursors read %d entries, want %d", len(seqs), grants)
	}

	// A settle across every grant: its entry alone lists 300 allocations.
	h.ok("purser.v1.reserve.acme", map[string]any{"id": "r1", "amount": grants})
	h.outcome()
	h.json("purser.v1.settle.acme", map[string]any{"id": "s1", "hold_id": "r1", "actual": grants})
	h.outcome()
	a := h.json("purser.admin.v1.history.acme", map[string]any{"after_seq": grants + 1})
	wantOutcome(t, h.outcome(), "history", api.Error, "limit_exceeded")
	if a.code() != "limit_exceeded" || !strings.Contains(string(a.raw), fmt.Sprintf("after_seq %d", grants+2)) {
		t.Fatalf("history from the settle: %s", a.raw)
	}
}
