package main

// End-to-end tests of the client commands: a real `purser serve` on random
// ports, then every subcommand as its own process, in human and --json
// output, checking exit codes (0 ok, 1 error, 2 usage, 3 denied), that a
// retry with the same --id gets the same reply, and that errors say what
// to do.

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// cliResult is one finished `purser …` process.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cli runs `purser args...` against the node at url (through the
// environment, as an operator's shell would).
func cli(t *testing.T, url string, args ...string) cliResult {
	t.Helper()
	cmd := purserCmd(args...)
	// The race detector sleeps 1s at exit by default; dozens of short
	// processes don't need it.
	cmd.Env = append(cmd.Env, "PURSER_NATS_URL="+url, "PURSER_TIMEOUT=5s", "GORACE=atexit_sleep_ms=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("purser %v: %v", args, err)
	}
	return cliResult{out.String(), errb.String(), code}
}

// want checks the exit code and that stdout+stderr contain every string.
func (r cliResult) want(t *testing.T, code int, contains ...string) cliResult {
	t.Helper()
	all := r.stdout + r.stderr
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range contains {
		if !strings.Contains(all, s) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
	return r
}

// json decodes stdout as one JSON object.
func (r cliResult) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	return m
}

// step is one command run twice with the same --id: human output, then
// --json (a retry, which must get the same reply).
type step struct {
	args  []string
	code  int
	human []string       // substrings of the human output
	json  map[string]any // fields of the JSON reply
}

func TestCLIEveryCommandBothOutputModes(t *testing.T) {
	srv := startServe(t, t.TempDir())
	steps := []step{
		{args: []string{"wallet", "grant", "acme", "10000", "--kind", "paid", "--id", "g1", "--meta", "order=42"}, code: 0,
			human: []string{"grant         g1", "amount        10,000", "available     10,000", "request id    g1"},
			json:  map[string]any{"request_id": "g1", "available": 10000.0}},
		{args: []string{"wallet", "grant", "acme", "500", "--kind", "promotional", "--expires-at", "2099-01-01T00:00:00Z", "--id", "g2"}, code: 0,
			human: []string{"priority      10", "expires at"}, json: map[string]any{"available": 10500.0}},
		{args: []string{"reserve", "acme", "1,500", "--id", "r1", "--ttl", "10m"}, code: 0,
			human: []string{"allowed     yes", "hold        r1", "held        1,500", "available   9,000"},
			json:  map[string]any{"allowed": true, "hold_id": "r1", "held": 1500.0}},
		{args: []string{"reserve", "acme", "1000000", "--id", "r-big"}, code: exitDenied,
			human: []string{"allowed     no", "reason      insufficient_credits"},
			json:  map[string]any{"allowed": false, "reason": "insufficient_credits"}},
		{args: []string{"check", "acme", "100"}, code: 0, human: []string{"allowed    yes"}, json: map[string]any{"allowed": true}},
		{args: []string{"check", "acme", "99999999"}, code: exitDenied, human: []string{"insufficient_credits"},
			json: map[string]any{"allowed": false}},
		{args: []string{"extend", "acme", "r1", "--ttl", "20m", "--amount", "2000", "--id", "x1"}, code: 0,
			human: []string{"allowed     yes", "amount      2,000"}, json: map[string]any{"allowed": true, "amount": 2000.0}},
		{args: []string{"settle", "acme", "r1", "1200", "--id", "s1"}, code: 0,
			human: []string{"consumed    1,200", "released    800", "paid by     g2:500 g1:700"},
			json:  map[string]any{"consumed": 1200.0, "released": 800.0, "available": 9300.0}},
		{args: []string{"settle", "acme", "r1", "5", "--id", "s2"}, code: exitError, human: []string{"hold_closed"}},
		{args: []string{"reserve", "acme", "300", "--id", "r2"}, code: 0, json: map[string]any{"hold_id": "r2"}},
		{args: []string{"release", "acme", "r2", "--id", "rel2"}, code: 0, human: []string{"released    300"},
			json: map[string]any{"released": 300.0}},
		{args: []string{"release", "acme", "nope", "--id", "rel3"}, code: exitError, human: []string{"hold_not_found"}},
		{args: []string{"debit", "acme", "300", "--id", "d1", "--principal", "team:a", "--meta", "model=x"}, code: 0,
			human: []string{"consumed    300", "available   9,000"}, json: map[string]any{"consumed": 300.0, "debt": 0.0}},
		{args: []string{"wallet", "revoke", "acme", "g1", "--id", "v1"}, code: 0, human: []string{"forfeited   9,000"},
			json: map[string]any{"forfeited": 9000.0, "balance": 0.0}},
		{args: []string{"wallet", "revoke", "acme", "g-missing", "--id", "v2"}, code: exitError, human: []string{"grant_not_found"}},
		{args: []string{"wallet", "grant", "acme", "700", "--kind", "included", "--id", "g3"}, code: 0,
			human: []string{"priority      50"}, json: map[string]any{"available": 700.0}},
		{args: []string{"wallet", "configure", "acme", "--mode", "optimistic", "--overdraft-limit", "1000", "--id", "c1"}, code: 0,
			human: []string{"mode         optimistic", "overdraft    1,000"}, json: map[string]any{"mode": "optimistic", "overdraft_limit": 1000.0}},
		{args: []string{"reserve", "acme", "50", "--id", "r3"}, code: 0, human: []string{"allowed     yes"}, json: map[string]any{"allowed": true}},
		{args: []string{"wallet", "balance", "globex"}, code: exitError, human: []string{"wallet_not_found"}},
	}
	for _, s := range steps {
		// Each step depends on the ones before: stop at the first failure.
		ok := t.Run(strings.Join(s.args[:2], "_"), func(t *testing.T) {
			cli(t, srv.url, s.args...).want(t, s.code, s.human...)
			r := cli(t, srv.url, append(s.args, "--json")...).want(t, s.code)
			m := r.json(t)
			if s.code == exitError {
				if e, _ := m["error"].(map[string]any); e["code"] == nil {
					t.Fatalf("--json error output has no error.code: %v", m)
				}
				return
			}
			for k, v := range s.json {
				if m[k] != v {
					t.Fatalf("--json %s = %v, want %v\n%s", k, m[k], v, r.stdout)
				}
			}
		})
		if !ok {
			t.FailNow()
		}
	}

	bal := cli(t, srv.url, "wallet", "balance", "acme").want(t, 0, "mode        optimistic", "available   700", "GRANT", "g3")
	if strings.Contains(bal.stdout, "g1 ") {
		t.Fatalf("revoked grant g1 still listed:\n%s", bal.stdout)
	}
	b := cli(t, srv.url, "wallet", "balance", "acme", "--json").want(t, 0).json(t)
	if b["mode"] != "optimistic" || b["available"] != 700.0 || len(b["grants"].([]any)) != 1 {
		t.Fatalf("balance --json: %v", b)
	}
}

func TestCLIHistoryPages(t *testing.T) {
	srv := startServe(t, t.TempDir())
	cli(t, srv.url, "wallet", "grant", "acme", "100000", "--id", "g1").want(t, 0)
	for i := range 6 {
		cli(t, srv.url, "debit", "acme", "10", "--id", "d"+strconv.Itoa(i)).want(t, 0)
	}
	// 7 entries: one page of 3 points to the next; --all follows next_seq.
	cli(t, srv.url, "wallet", "history", "acme", "--limit", "3").
		want(t, 0, "SEQ", "granted", "100,000", "more: purser wallet history acme --after 3")
	page := cli(t, srv.url, "wallet", "history", "acme", "--limit", "3", "--after", "3", "--json").want(t, 0).json(t)
	if n := len(page["entries"].([]any)); n != 3 || page["next_seq"] != 6.0 {
		t.Fatalf("page after 3: %d entries, next_seq %v", n, page["next_seq"])
	}
	all := cli(t, srv.url, "wallet", "history", "acme", "--limit", "2", "--all", "--json").want(t, 0).json(t)
	entries := all["entries"].([]any)
	if len(entries) != 7 || all["next_seq"] != 0.0 {
		t.Fatalf("--all: %d entries, next_seq %v", len(entries), all["next_seq"])
	}
	for i, e := range entries {
		if e.(map[string]any)["seq"] != float64(i+1) {
			t.Fatalf("entry %d has seq %v", i, e.(map[string]any)["seq"])
		}
	}
	human := cli(t, srv.url, "wallet", "history", "acme", "--all", "--limit", "2").want(t, 0, "debited")
	if strings.Contains(human.stdout, "more:") {
		t.Fatalf("--all still offers more:\n%s", human.stdout)
	}
	cli(t, srv.url, "wallet", "history", "nobody").want(t, exitError, "wallet_not_found")
}

func TestCLIUsageErrorsExit2(t *testing.T) {
	// No node is needed: each is refused before connecting.
	const url = "nats://127.0.0.1:1"
	for _, args := range [][]string{
		{"reserve", "acme"},
		{"reserve", "acme", "1.5"},
		{"reserve", "acme", "0"},
		{"settle", "acme", "h1", "-1"},
		{"reserve", "acme", "10", "--no-such-flag"},
		{"no-such-command"},
		{"wallet", "frobnicate"},
		{"wallet"},
		{"wallet", "configure", "acme"},
		{"wallet", "grant", "acme", "10", "--expires-at", "next tuesday"},
		{"wallet", "grant", "acme", "10", "--meta", "novalue"},
		{"extend", "acme", "h1"},
		{"wallet", "history", "acme", "--limit", "0"},
		{"reserve", "acme", "10", "--timeout", "0s"},
		{"serve", "--log-format", "xml", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"serve", "--journal-inflight", "-1", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"serve", "--journal-min-batch", "-1", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"serve", "--tick-delay", "600ms", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"reserve", "acme", "10", "--ttl", "500us"},
		{"reserve", "acme", "10", "--ttl", "1500us"},
		{"wallet", "configure", "acme", "--default-ttl", "1500us"},
		{"wallet", "balance", ""},
		{"wallet", "balance", "a b"},
		{"reserve", "bad.wallet", "10"},
		{"serve", "--shutdown-timeout", "-1s", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"serve", "--relax-fsync", "--server-fsync", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"serve", "--prefix", "", "--http-listen", "", "--data-dir", "/nonexistent/never"},
		{"serve", "--prefix", "a.*", "--http-listen", "", "--data-dir", "/nonexistent/never"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			r := cli(t, url, args...).want(t, exitUsage)
			if !strings.HasPrefix(r.stderr, "purser: ") {
				t.Fatalf("usage error not explained on stderr: %q", r.stderr)
			}
		})
	}
}

func TestCLIConnectionErrorsAreHelpful(t *testing.T) {
	// Nothing listens on this port.
	down := "nats://127.0.0.1:" + strconv.Itoa(freePort(t))
	cli(t, down, "wallet", "balance", "acme").want(t, exitError, "cannot connect to NATS at "+down, "is `purser serve` running?")

	// A NATS server with no Purser node on it.
	url := startBareNATS(t)
	cli(t, url, "reserve", "acme", "10", "--id", "r1").
		want(t, exitError, "no Purser node answered on purser.v1.> at "+url, "is `purser serve` running?")
	cli(t, url, "wallet", "grant", "acme", "10", "--prefix", "billing").
		want(t, exitError, "no Purser node answered on billing.admin.v1.>")
}
