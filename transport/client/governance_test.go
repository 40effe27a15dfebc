package client_test

// Governance through the typed client and a real node: configure's
// policies and features round-trip, a cap and a rate refuse with
// denied_by, and balance shows the usage.

import (
	"context"
	"testing"

	"github.com/purser-dev/purser/transport/client"
)

func TestClientGovernance(t *testing.T) {
	c, _ := clientOnANode(t)
	ctx := context.Background()

	if _, err := c.Grant(ctx, "acme", client.GrantRequest{ID: "g1", Amount: 1000, Kind: "paid"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Configure(ctx, "acme", client.ConfigureRequest{ID: "c1",
		Policies: map[string]client.Policy{
			"*":             {Rates: []client.Rate{{Window: "minute", Requests: 2}}},
			"team:r/user:a": {Caps: []client.Cap{{Window: "day", Limit: 100}}},
		},
		Features: map[string]client.Feature{"chat": {Enabled: true, Limit: &client.FeatureLimit{Window: "month", Amount: 500}}},
	})
	if err != nil || len(cfg.Policies) != 2 || cfg.Policies["team:r/user:a"].Caps[0].Limit != 100 ||
		cfg.Features["chat"].Limit.Amount != 500 {
		t.Fatalf("configure: %+v %v", cfg, err)
	}
	r, err := c.Reserve(ctx, "acme", client.ReserveRequest{ID: "r1", Amount: 101, Principal: "team:r/user:a/agent:x", Feature: "chat"})
	if err != nil || r.Allowed || r.Reason != "spend_cap_exceeded" || r.DeniedBy == nil ||
		*r.DeniedBy != (client.DeniedBy{Principal: "team:r/user:a", Window: "day"}) {
		t.Fatalf("reserve over the cap: %+v %v", r, err)
	}
	for _, id := range []string{"r1", "r2"} {
		if r, err := c.Reserve(ctx, "acme", client.ReserveRequest{ID: id, Amount: 40, Principal: "team:r/user:a", Feature: "chat"}); err != nil || !r.Allowed {
			t.Fatalf("reserve %s: %+v %v", id, r, err)
		}
	}
	r, err = c.Reserve(ctx, "acme", client.ReserveRequest{ID: "r3", Amount: 1})
	if err != nil || r.Reason != "rate_limited" || r.RetryAfterMs <= 0 || r.RetryAfterMs > 30_000 || r.DeniedBy.Principal != "*" {
		t.Fatalf("third reserve in a minute: %+v %v", r, err)
	}
	b, err := c.Balance(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if u := b.Policies["team:r/user:a"].Caps[0]; u.Held != 80 || u.Consumed != 0 || u.Limit != 100 || u.ResetsAt.IsZero() {
		t.Fatalf("balance cap usage: %+v", b.Policies)
	}
	if u := b.Policies["*"].Rates[0]; u.Requests != 2 || u.RequestsAvailable != 0 {
		t.Fatalf("balance rate usage: %+v", b.Policies)
	}
	if f := b.Features["chat"]; !f.Enabled || f.Limit == nil || f.Limit.Held != 80 || f.Limit.Amount != 500 {
		t.Fatalf("balance feature usage: %+v", b.Features)
	}
}
