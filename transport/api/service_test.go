package api_test

// What the service itself decides, request by request: which encoding a
// request is in (and that its reply is in the same), the 64 KiB body limit
// at its exact boundary, the code and service error headers of every
// refusal the service answers before an actor sees the request, errors an
// actor answers later, the Outcome metrics receive — and that the service
// goes on serving after each refusal with the wallet unchanged.

import (
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/wire"
)

func TestServiceAnnouncesItselfForNatsMicro(t *testing.T) {
	h := start(t, setup{cfg: api.Config{Prefix: "acme.billing"}})
	info := h.svc.Info()
	if info.Name != "purser" || info.Version != api.Version {
		t.Fatalf("service %q version %q, want purser %s", info.Name, info.Version, api.Version)
	}
	subjects := map[string]string{}
	for _, e := range info.Endpoints {
		subjects[e.Name] = e.Subject
		if e.QueueGroup != "purser" {
			t.Errorf("endpoint %s in queue group %q, want purser (nodes share traffic)", e.Name, e.QueueGroup)
		}
	}
	if subjects["runtime"] != "acme.billing.v1.>" || subjects["admin"] != "acme.billing.admin.v1.>" {
		t.Fatalf("endpoints %v do not follow the prefix", subjects)
	}
	// The prefix is live: the default prefix's subjects have no responder.
	h.ok("acme.billing.admin.v1.grant.w", map[string]any{"id": "g1", "amount": 10, "kind": "paid"})
	h.ok("acme.billing.v1.balance.w", map[string]any{})
	if _, err := h.client.Request("purser.v1.balance.w", nil, replyTimeout); err == nil {
		t.Fatal("a request under the default prefix was answered")
	}
}

func TestStartRefusesABadPrefix(t *testing.T) {
	if _, err := api.Start(nil, nil, nil, api.Config{Prefix: "purser.>"}); err == nil {
		t.Fatal("a wildcard prefix was accepted")
	}
}

func TestReplyIsInTheRequestsEncoding(t *testing.T) {
	h := start(t, setup{})
	h.grant("acme", 1000)
	msgpackBody, err := msgpack.Marshal(map[string]any{"id": "d-mp", "amount": 1})
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name        string
		subject     string
		body        string
		contentType string
		want        wire.Encoding
	}{
		{"JSON sniffed from its brace", "purser.v1.debit.acme", `{"id":"d-json","amount":1}`, "", wire.JSON},
		{"JSON after leading whitespace", "purser.v1.debit.acme", " \r\n\t{\"id\":\"d-ws\",\"amount\":1}", "", wire.JSON},
		{"msgpack by default", "purser.v1.debit.acme", string(msgpackBody), "", wire.Msgpack},
		{"empty body is msgpack", "purser.v1.balance.acme", "", "", wire.Msgpack},
		{"empty body with a JSON Content-Type", "purser.v1.balance.acme", "", "application/json", wire.JSON},
		{"Content-Type parameters ignored", "purser.v1.balance.acme", "", "Application/JSON; charset=utf-8", wire.JSON},
		{"another Content-Type sniffs", "purser.v1.balance.acme", "", "text/plain", wire.Msgpack},
		{"history follows the same rule", "purser.admin.v1.history.acme", "", "application/json", wire.JSON},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := h.in(t)
			a := h.send(row.subject, []byte(row.body), row.contentType, row.want)
			if code := a.code(); code != "" {
				t.Fatalf("error %s: %s", code, a.raw)
			}
			if _, ok := a.body["balance"]; !ok && !strings.Contains(row.subject, "history") {
				t.Fatalf("reply has no balance: %v", a.body)
			}
			h.outcome()
		})
	}
	if got := h.balance("acme"); got != 997 {
		t.Fatalf("balance %d after three debits of 1 from 1000", got)
	}
}

func TestErrorReplyIsInTheRequestsEncoding(t *testing.T) {
	h := start(t, setup{})
	// The same malformed body, declared JSON by its header, then not: the
	// header alone decides the error reply's encoding.
	body := []byte(`["not", "an", "object"]`)
	h.send("purser.v1.debit.acme", body, "application/json", wire.JSON).wantError(t, actors.ErrInvalidRequest)
	h.send("purser.v1.debit.acme", body, "", wire.Msgpack).wantError(t, actors.ErrInvalidRequest)
}

func TestBodyLimitIs64KiB(t *testing.T) {
	h := start(t, setup{})
	h.grant("acme", 1000)
	debit := func(id string) map[string]any { return map[string]any{"id": id, "amount": 1} }

	atLimit := padJSON(t, debit("d1"), wire.DefaultMaxPayload)
	if a := h.send("purser.v1.debit.acme", atLimit, "", wire.JSON); a.code() != "" {
		t.Fatalf("a body of exactly 64 KiB was refused: %s", a.raw)
	}
	wantOutcome(t, h.outcome(), "debit", api.Allowed, "")

	over := padJSON(t, debit("d2"), wire.DefaultMaxPayload+1)
	h.send("purser.v1.debit.acme", over, "", wire.JSON).wantError(t, actors.ErrPayloadTooLarge)
	wantOutcome(t, h.outcome(), "debit", api.Error, "payload_too_large")

	// msgpack bodies and the history op (decoded on its own path) too.
	bigMsgpack, err := msgpack.Marshal(map[string]any{"id": "d3", "amount": 1,
		"meta": map[string]string{"k": strings.Repeat("a", wire.DefaultMaxPayload)}})
	if err != nil {
		t.Fatal(err)
	}
	h.send("purser.v1.debit.acme", bigMsgpack, "", wire.Msgpack).wantError(t, actors.ErrPayloadTooLarge)
	h.outcome()
	bigHistory := padJSON(t, map[string]any{"limit": 1}, wire.DefaultMaxPayload+1)
	h.send("purser.admin.v1.history.acme", bigHistory, "", wire.JSON).wantError(t, actors.ErrPayloadTooLarge)
	wantOutcome(t, h.outcome(), "history", api.Error, "payload_too_large")

	if got := h.balance("acme"); got != 999 {
		t.Fatalf("balance %d: want 999, only the body at the limit debited", got)
	}
}

func TestBodyLimitIsConfigurable(t *testing.T) {
	h := start(t, setup{cfg: api.Config{MaxPayload: 1024}})
	h.grant("acme", 1000)
	h.send("purser.v1.debit.acme", padJSON(t, map[string]any{"id": "d1", "amount": 1}, 1025), "", wire.JSON).
		wantError(t, actors.ErrPayloadTooLarge)
	h.outcome()
	if a := h.send("purser.v1.debit.acme", padJSON(t, map[string]any{"id": "d2", "amount": 1}, 1024), "", wire.JSON); a.code() != "" {
		t.Fatalf("a body at the configured limit was refused: %s", a.raw)
	}
	h.outcome()
}

// Each row is refused before (or, for wallet_not_found, by) an actor; after
// each the service answers a balance and the wallet is as it was.
func TestBadRequestsAreAnsweredAndServingGoesOn(t *testing.T) {
	h := start(t, setup{})
	h.grant("acme", 1000)
	rows := []struct {
		name    string
		subject string
		body    string
		enc     wire.Encoding
		code    actors.Code
		op      string // Outcome.Op: "invalid" when the subject did not parse
	}{
		{"wallet with a bad character", "purser.v1.debit.ac!me", `{"id":"x","amount":1}`, wire.JSON, actors.ErrInvalidWallet, "invalid"},
		{"wallet over 128 characters", "purser.v1.debit." + strings.Repeat("w", wire.MaxWalletLength+1), `{"id":"x","amount":1}`, wire.JSON, actors.ErrInvalidWallet, "invalid"},
		{"unknown op", "purser.v1.spend.acme", `{"id":"x","amount":1}`, wire.JSON, actors.ErrInvalidRequest, "invalid"},
		{"unknown admin op", "purser.admin.v1.delete.acme", `{}`, wire.JSON, actors.ErrInvalidRequest, "invalid"},
		{"admin op on the runtime path", "purser.v1.grant.acme", `{"id":"g","amount":1,"kind":"paid"}`, wire.JSON, actors.ErrInvalidRequest, "invalid"},
		{"runtime op on the admin path", "purser.admin.v1.debit.acme", `{"id":"x","amount":1}`, wire.JSON, actors.ErrInvalidRequest, "invalid"},
		{"no wallet token", "purser.v1.debit", `{"id":"x","amount":1}`, wire.JSON, actors.ErrInvalidRequest, "invalid"},
		{"a token after the wallet", "purser.v1.debit.acme.extra", `{"id":"x","amount":1}`, wire.JSON, actors.ErrInvalidRequest, "invalid"},
		{"truncated JSON", "purser.v1.debit.acme", `{"id":"x","amount":`, wire.JSON, actors.ErrInvalidRequest, "debit"},
		{"JSON field of the wrong type", "purser.v1.debit.acme", `{"id":7,"amount":1}`, wire.JSON, actors.ErrInvalidRequest, "debit"},
		{"unknown JSON field", "purser.v1.debit.acme", `{"id":"x","amount":1,"colour":"red"}`, wire.JSON, actors.ErrInvalidRequest, "debit"},
		{"msgpack garbage", "purser.v1.debit.acme", "\xc1\x00\xff", wire.Msgpack, actors.ErrInvalidRequest, "debit"},
		{"msgpack that is not a map", "purser.v1.debit.acme", "\x93\x01\x02\x03", wire.Msgpack, actors.ErrInvalidRequest, "debit"},
		{"malformed history request", "purser.admin.v1.history.acme", `{"limit":"ten"}`, wire.JSON, actors.ErrInvalidRequest, "history"},
		{"amount beyond int64", "purser.v1.debit.acme", `{"id":"x","amount":99999999999999999999}`, wire.JSON, actors.ErrInvalidAmount, "debit"},
		{"unknown wallet (answered by its actor)", "purser.v1.debit.ghost", `{"id":"x","amount":1}`, wire.JSON, actors.ErrWalletNotFound, "debit"},
		{"unknown wallet's history", "purser.admin.v1.history.ghost", `{}`, wire.JSON, actors.ErrWalletNotFound, "history"},
		// A malformed request is malformed whatever its wallet: the body is
		// judged before the wallet is looked up (docs/api.md).
		{"unknown wallet, release without ids", "purser.v1.release.ghost", `{}`, wire.JSON, actors.ErrInvalidRequest, "release"},
		{"unknown wallet, settle without a hold id", "purser.v1.settle.ghost", `{"id":"s","actual":1}`, wire.JSON, actors.ErrInvalidRequest, "settle"},
		{"unknown wallet, reserve without an amount", "purser.v1.reserve.ghost", `{"id":"r"}`, wire.JSON, actors.ErrInvalidAmount, "reserve"},
		{"known wallet, release without ids", "purser.v1.release.acme", `{}`, wire.JSON, actors.ErrInvalidRequest, "release"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := h.in(t)
			h.send(row.subject, []byte(row.body), "", row.enc).wantError(t, row.code)
			wantOutcome(t, h.outcome(), row.op, api.Error, row.code.String())
			if got := h.balance("acme"); got != 1000 {
				t.Fatalf("balance %d after a refused request, want 1000", got)
			}
		})
	}
}

func TestUnavailableJournalIsAnsweredAndTheRetryLands(t *testing.T) {
	// Every second append fails: the grant lands, the first debit does
	// not, its retry with the same id does.
	journal := actors.NewMemJournal()
	journal.FailEvery = 2
	h := start(t, setup{journal: journal})
	h.grant("acme", 1000)

	debit := map[string]any{"id": "d1", "amount": 10}
	h.msgpack("purser.v1.debit.acme", debit).wantError(t, actors.ErrUnavailable)
	wantOutcome(t, h.outcome(), "debit", api.Error, "unavailable")

	if a := h.msgpack("purser.v1.debit.acme", debit); a.code() != "" || a.num("balance") != 990 {
		t.Fatalf("retry of the debit: %v", a.body)
	}
	wantOutcome(t, h.outcome(), "debit", api.Allowed, "")
}

func TestDenialIsObservedAsDenied(t *testing.T) {
	h := start(t, setup{})
	h.grant("acme", 100)
	a := h.json("purser.v1.reserve.acme", map[string]any{"id": "r1", "amount": 500})
	if a.code() != "" || a.body["allowed"] != false {
		t.Fatalf("reserve beyond the balance: %s", a.raw)
	}
	if a.header.Get(wire.HeaderError) != "" {
		t.Fatalf("a denial is a reply, not a service error: %v", a.header)
	}
	reason, _ := a.body["reason"].(string)
	wantOutcome(t, h.outcome(), "reserve", api.Denied, reason)
	if reason == "" {
		t.Fatal("denial without a reason")
	}
}
