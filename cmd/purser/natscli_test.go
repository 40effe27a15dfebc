package main

// The stock `nats` CLI (github.com/nats-io/natscli, installed into .bin by
// `make test` at a pinned version) reserves and settles with JSON and sees
// the micro service.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func natsCLI(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PURSER_NATS_CLI"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../.bin/nats")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the nats CLI is missing at %s: `make test` installs it", p)
		}
		t.Skipf("no nats CLI at %s (make test installs it)", p)
	}
	return p
}

func TestStockNatsCLIReservesAndSettles(t *testing.T) {
	cli := natsCLI(t)
	srv := startServe(t, t.TempDir())
	nc := dial(t, srv.url)
	request(t, nc, "purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 10_000, "kind": "paid"})

	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(cli, append([]string{"--server", srv.url}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("nats %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	reply := func(out string) map[string]any {
		t.Helper()
		i := strings.Index(out, "{")
		var m map[string]any
		if i < 0 || json.Unmarshal([]byte(strings.TrimSpace(out[i:])), &m) != nil {
			t.Fatalf("no JSON reply in %q", out)
		}
		return m
	}
	r := reply(run("req", "purser.v1.reserve.acme", `{"id":"r1","amount":1500}`))
	if r["allowed"] != true || r["hold_id"] != "r1" {
		t.Fatalf("reserve via nats CLI: %v", r)
	}
	s := reply(run("req", "purser.v1.settle.acme", `{"id":"s1","hold_id":"r1","actual":1200}`))
	if s["consumed"] != 1200.0 || s["available"] != 8800.0 {
		t.Fatalf("settle via nats CLI: %v", s)
	}
	if out := run("micro", "ls"); !strings.Contains(out, "purser") {
		t.Fatalf("nats micro ls does not list purser:\n%s", out)
	}
}
