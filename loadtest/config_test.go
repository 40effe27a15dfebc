package loadtest

// A command line's mistakes are caught by config parsing, before a run
// connects anywhere: an unknown scenario or suite is refused with the names
// that would have been accepted, and settings out of range are refused by
// Validate without needing a URL.

import (
	"slices"
	"strings"
	"testing"
)

func TestParseScenariosAcceptsAListOfKnownNames(t *testing.T) {
	got, err := ParseScenarios(" burst,uniform ,echo")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"burst", "uniform", "echo"}; !slices.Equal(got, want) {
		t.Fatalf("scenarios %v, want %v", got, want)
	}
	for _, sc := range Scenarios() {
		if got, err := ParseScenarios(sc); err != nil || !slices.Equal(got, []string{sc}) {
			t.Errorf("%s: %v %v", sc, got, err)
		}
	}
}

func TestParseScenariosNamesTheTypoAndTheValidScenarios(t *testing.T) {
	for _, row := range []struct{ list, bad string }{
		{"brust", `"brust"`},
		{"burst,mixd", `"mixd"`},
		{"Burst", `"Burst"`},
		{"burst,", `""`},
		{"", `""`},
	} {
		_, err := ParseScenarios(row.list)
		if err == nil {
			t.Errorf("%q was accepted", row.list)
			continue
		}
		wantErrorNaming(t, err, row.bad, Scenarios())
	}
}

// wantErrorNaming checks that err quotes the bad name and lists every
// valid one.
func wantErrorNaming(t *testing.T, err error, bad string, valid []string) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, bad) {
		t.Errorf("%q does not name %s", msg, bad)
	}
	for _, v := range valid {
		if !strings.Contains(msg, v) {
			t.Errorf("%q does not list %s", msg, v)
		}
	}
}

func TestRunRefusesAnUnknownScenarioBeforeConnecting(t *testing.T) {
	// Nothing listens on port 1: an attempt to connect would fail with a
	// connection error instead of naming the scenario.
	_, err := Run(t.Context(), Config{URL: "nats://127.0.0.1:1", Scenario: "brust"})
	if err == nil {
		t.Fatal("an unknown scenario ran")
	}
	wantErrorNaming(t, err, `"brust"`, Scenarios())
}

func TestUnknownSuiteNamesTheValidSuites(t *testing.T) {
	_, err := Suite("issue5", Config{})
	if err == nil {
		t.Fatal("an unknown suite was accepted")
	}
	wantErrorNaming(t, err, `"issue5"`, Suites())
}

func TestValidateChecksSettingsButNotTheURL(t *testing.T) {
	if err := (Config{Scenario: "mixed"}).Validate(); err != nil {
		t.Fatalf("defaults without a URL: %v", err)
	}
	for name, c := range map[string]Config{
		"unknown scenario":    {Scenario: "brust"},
		"orphan share over 1": {Scenario: "orphans", OrphanShare: 1.5},
		"negative rate":       {Scenario: "uniform", Rate: -1},
		"burst width":         {Scenario: "burst", Width: 10_001},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNameListsAreCopies(t *testing.T) {
	Scenarios()[0] = "changed"
	Suites()[0] = "changed"
	if Scenarios()[0] != "burst" || Suites()[0] != "issue4" {
		t.Fatalf("a caller changed the package's names: %v %v", Scenarios(), Suites())
	}
}
