package main

// `purser loadtest` end to end: an embedded node, one short scenario, a
// JSON report whose audit passed, exit 0; and a mistake on its command line
// exits 2 (usage), not 1 (a failed audit), naming what would be accepted.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/purser-dev/purser/loadtest"
)

func TestLoadtestCommandRunsAndAudits(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	out, err := purserCmd("loadtest", "--embedded", "--scenario", "uniform", "--wallets", "20", "--clients", "4",
		"--duration", "1s", "--progress=false", "--json", "--cpuprofile", prof).Output()
	if err != nil {
		t.Fatalf("purser loadtest: %v\n%s", err, out)
	}
	// A CPU profile is gzip-compressed protobuf: it starts with gzip's magic.
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("--cpuprofile wrote no profile: %v, %d bytes", err, len(b))
	}
	var report map[string]any
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	if report["passed"] != true || !containsPassedAudit(report) {
		t.Fatalf("no passed audit in the report: %s", out)
	}
}

// containsPassedAudit looks for an audit object with passed=true anywhere
// in the report, so the test does not pin the report's exact layout.
func containsPassedAudit(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		if a, ok := v["audit"].(map[string]any); ok && a["passed"] == true {
			return true
		}
		for _, x := range v {
			if containsPassedAudit(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if containsPassedAudit(x) {
				return true
			}
		}
	}
	return false
}

func TestLoadtestCommandLineMistakesAreUsageErrors(t *testing.T) {
	// Nothing listens on port 1: a run that started would fail to connect
	// (exit 1) instead of refusing the command line.
	const nowhere = "nats://127.0.0.1:1"
	scenarios := loadtest.Scenarios()
	for _, row := range []struct {
		name string
		args []string
		want []string
	}{
		{"misspelt scenario", []string{"--scenario", "brust"}, append([]string{`"brust"`}, scenarios...)},
		{"misspelt scenario in a list", []string{"--scenario", "burst,unifrom"}, append([]string{`"unifrom"`}, scenarios...)},
		{"misspelt scenario with --embedded", []string{"--embedded", "--scenario", "brust"}, []string{`"brust"`}},
		{"unknown suite", []string{"--suite", "issue5"}, append([]string{`"issue5"`}, loadtest.Suites()...)},
		{"setting out of range", []string{"--scenario", "orphans", "--orphan-share", "1.5"}, []string{"orphan share"}},
		{"suite and scenario", []string{"--suite", "issue4", "--scenario", "burst"}, []string{"--suite", "--scenario"}},
		{"data dir without --embedded", []string{"--scenario", "burst", "--data-dir", "/tmp/x"}, []string{"--data-dir"}},
		{"negative duration", []string{"--scenario", "uniform", "--duration", "-1s"}, []string{"negative duration"}},
		{"negative clients", []string{"--scenario", "uniform", "--clients", "-4"}, []string{"negative clients"}},
		{"negative credits", []string{"--scenario", "uniform", "--credits", "-5"}, []string{"negative credits"}},
		{"credits past the audit's range", []string{"--scenario", "uniform", "--credits", "9000000000000000000"}, []string{"credits"}},
	} {
		t.Run(row.name, func(t *testing.T) {
			args := append([]string{"loadtest", "--progress=false"}, row.args...)
			r := cli(t, nowhere, args...).want(t, exitUsage, row.want...)
			if strings.Contains(r.stderr, "connect") {
				t.Fatalf("the run started before its command line was checked: %s", r.stderr)
			}
		})
	}
}

// Against a NATS that wants a password, the load tester takes the same
// credential flags as the other commands (and fails without them).
func TestLoadtestAuthenticatesLikeTheOtherCommands(t *testing.T) {
	url := startNATSWith(t, &natsserver.Options{JetStream: true, Username: "ops", Password: "s3cret"})
	startServe(t, t.TempDir(), "--nats-url", url, "--user", "ops", "--password", "s3cret")

	args := []string{"loadtest", "--nats-url", url, "--scenario", "uniform", "--wallets", "5", "--clients", "2",
		"--duration", "300ms", "--progress=false", "--json"}
	if out, err := purserCmd(args...).CombinedOutput(); err == nil || !strings.Contains(string(out), "uthoriz") {
		t.Fatalf("without credentials: %v\n%s", err, out)
	}
	out, err := purserCmd(append(args, "--user", "ops", "--password", "s3cret")...).Output()
	if err != nil {
		t.Fatalf("with credentials: %v\n%s", err, out)
	}
	var report map[string]any
	if err := json.Unmarshal(out, &report); err != nil || report["passed"] != true || !containsPassedAudit(report) {
		t.Fatalf("no passed audit in the report (%v): %s", err, out)
	}
}

// The floors in a suite: a node serving no journal echo has that floor
// skipped with a note, and every result is compared with the echo; one
// serving it (--bench-journal-echo) has every result compared with both.
// Asked for alone, the journal echo of such a node is an error.
func TestLoadtestSuiteComparesWithTheFloorsItCanRun(t *testing.T) {
	plain := startServe(t, t.TempDir())
	bench := startServe(t, t.TempDir(), "--bench-journal-echo")
	for _, tc := range []struct {
		url     string
		skipped bool
	}{{plain.url, true}, {bench.url, false}} {
		cmd := purserCmd("loadtest", "--nats-url", tc.url, "--suite", "bench", "--duration", "300ms", "--progress=false", "--json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("--suite bench: %v\n%s%s", err, out, stderr.String())
		}
		if got := strings.Contains(stderr.String(), "skipped journal-echo"); got != tc.skipped {
			t.Fatalf("journal-echo skipped %v, want %v: %s", got, tc.skipped, stderr.String())
		}
		var report struct {
			Passed  bool               `json:"passed"`
			Results []*loadtest.Result `json:"results"`
		}
		if err := json.Unmarshal(out, &report); err != nil || !report.Passed {
			t.Fatalf("report (%v): %s", err, out)
		}
		var scenarios []string
		for _, res := range report.Results {
			scenarios = append(scenarios, res.Scenario)
			if res.Scenario != "echo" && res.FloorPct <= 0 {
				t.Errorf("%s not compared with the echo floor", res.Scenario)
			}
			if compared := res.JournalFloorPct > 0; res.Scenario != "echo" && res.Scenario != "journal-echo" && compared == tc.skipped {
				t.Errorf("%s compared with the journal echo: %v, want %v", res.Scenario, compared, !tc.skipped)
			}
		}
		want := "echo journal-echo burst uniform"
		if tc.skipped {
			want = "echo burst uniform"
		}
		if got := strings.Join(scenarios, " "); got != want {
			t.Fatalf("scenarios run %q, want %q", got, want)
		}
	}
	out, err := purserCmd("loadtest", "--nats-url", plain.url, "--scenario", "journal-echo", "--duration", "300ms",
		"--progress=false").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--bench-journal-echo") {
		t.Fatalf("journal-echo alone against a node without it: %v\n%s", err, out)
	}
}
