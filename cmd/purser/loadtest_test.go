package main

// `purser loadtest` end to end: an embedded node, one short scenario, a
// JSON report whose audit passed, exit 0.

import (
	"encoding/json"
	"testing"
)

func TestLoadtestCommandRunsAndAudits(t *testing.T) {
	out, err := purserCmd("loadtest", "--embedded", "--scenario", "uniform", "--wallets", "20", "--clients", "4",
		"--duration", "1s", "--progress=false", "--json").Output()
	if err != nil {
		t.Fatalf("purser loadtest: %v\n%s", err, out)
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
