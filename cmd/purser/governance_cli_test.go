package main

// Governance from the CLI: configure policies and features as JSON, then a
// rate limit and an entitlement refuse reserves with exit 3 and say why.

import "testing"

func TestCLIConfiguresPoliciesAndFeatures(t *testing.T) {
	url := startServe(t, t.TempDir()).url
	cli(t, url, "wallet", "grant", "acme", "10000", "--kind", "paid", "--id", "g1").want(t, 0)
	cli(t, url, "wallet", "configure", "acme", "--id", "c1",
		"--policies", `{"*":{"caps":[{"window":"day","limit":5000}]},"user:alice":{"rates":[{"window":"minute","requests":2}]}}`,
		"--features", `{"gpt":{"enabled":true}}`).want(t, 0, "policies", "2")
	for _, id := range []string{"a1", "a2"} {
		cli(t, url, "reserve", "acme", "10", "--principal", "user:alice/agent:x", "--feature", "gpt", "--id", id).want(t, 0)
	}
	cli(t, url, "reserve", "acme", "10", "--principal", "user:alice", "--feature", "gpt", "--id", "a3").
		want(t, 3, "rate_limited", "user:alice (minute)")
	cli(t, url, "reserve", "acme", "10", "--feature", "other", "--id", "a4").want(t, 3, "feature_not_entitled")
	cli(t, url, "reserve", "acme", "5001", "--feature", "gpt", "--id", "a5").want(t, 3, "spend_cap_exceeded")
	cli(t, url, "wallet", "configure", "acme", "--policies", `{"*":{"capz":[]}}`).want(t, 2, "unknown field")
	b := cli(t, url, "wallet", "balance", "acme", "--json").want(t, 0).json(t)
	pol, ok := b["policies"].(map[string]any)
	if !ok || pol["*"] == nil || pol["user:alice"] == nil {
		t.Fatalf("balance does not show the policies with usage: %v", b)
	}
}
