package loadtest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// scenarios, in the order `purser loadtest --help` lists them.
var scenarios = [...]string{"burst", "burst-reserve", "uniform", "stream", "orphans", "mixed", "echo", "journal-echo"}

// Scenarios returns the scenario names, in the order `purser loadtest
// --help` lists them (a copy: the set is not the caller's to change).
func Scenarios() []string { return slices.Clone(scenarios[:]) }

// ParseScenarios reads a comma-separated list of scenario names, as
// --scenario takes it, so that a misspelt name is refused before anything
// starts, with the names that would have been accepted.
func ParseScenarios(list string) ([]string, error) {
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(scenarios[:], name) {
			return nil, unknownScenario(name)
		}
		names = append(names, name)
	}
	return names, nil
}

func unknownScenario(name string) error {
	return fmt.Errorf("unknown scenario %q: valid scenarios are %s", name, strings.Join(scenarios[:], ", "))
}

// Config is one scenario run. Zero fields take the scenario's default
// (see withDefaults), so a CLI flag left unset means "the usual shape".
type Config struct {
	URL string // NATS URL of the Purser deployment
	// NATSOptions authenticate to NATS (credentials, nkey, user/password,
	// TLS), as the other client commands do.
	NATSOptions []nats.Option
	Prefix      string        // API subject prefix; default "purser"
	Scenario    string        // one of Scenarios()
	Duration    time.Duration // how long new work is started; default 5s

	// Clients is the closed-loop concurrency: workers (burst: agents, each
	// fanning out Width requests at once).
	Clients int
	Wallets int // wallets the scenario spreads over
	Width   int // burst fan-out; default 50
	Conns   int // NATS connections the workers share; default 4

	// Rate > 0 runs open loop: Rate units of work per second (a unit is a
	// reserve and its settle, a whole burst, a stream, ...), each measured
	// from its intended start, at most MaxOutstanding in flight.
	Rate           float64
	MaxOutstanding int // default 10,000

	OrphanShare float64       // orphans/mixed: share of holds never settled; default 0.2
	OrphanTTL   time.Duration // their ttl; default 1s
	ReapGrace   time.Duration // how long after the last orphan's expiry the audit waits; default 2s

	Credits int64         // initial grant per wallet; default 1,000,000
	TopUp   int64         // grant added when a reserve is denied for credits; default Credits
	Seed    uint64        // workload seed; 0 picks one (reported, so a run can be repeated)
	Timeout time.Duration // per attempt; the client retries with the same id; default 5s

	Progress      io.Writer     // live progress line; nil = none
	ProgressTTY   bool          // rewrite one line (\r) instead of printing one per interval
	ProgressEvery time.Duration // default 1s
	NoAudit       bool          // skip the audit (the echo scenario never audits)

	// BeforeAudit, if set, runs after the load and before the audit with
	// the run's wallet names: fault injection for the audit's own tests.
	BeforeAudit func(ctx context.Context, wallets []string)
}

// maxCredits bounds a wallet's first grant and each top-up.
const maxCredits = 1 << 50

func (c Config) withDefaults() Config {
	type shape struct{ clients, wallets int }
	shapes := map[string]shape{
		"burst": {4, 2}, "burst-reserve": {4, 2}, "uniform": {64, 1000}, "stream": {16, 100},
		"orphans": {16, 50}, "mixed": {32, 200}, "echo": {64, 0},
		"journal-echo": {64, 10_000},
	}
	s := shapes[c.Scenario]
	orDefault(&c.Clients, s.clients)
	orDefault(&c.Wallets, s.wallets)
	orDefault(&c.Width, 50)
	orDefault(&c.Conns, 4)
	orDefault(&c.MaxOutstanding, 10_000)
	orDefault(&c.Duration, 5*time.Second)
	orDefault(&c.OrphanShare, 0.2)
	orDefault(&c.OrphanTTL, time.Second)
	orDefault(&c.ReapGrace, 2*time.Second)
	orDefault(&c.Credits, 1_000_000)
	orDefault(&c.TopUp, c.Credits)
	orDefault(&c.Timeout, 5*time.Second)
	orDefault(&c.ProgressEvery, time.Second)
	if c.Prefix == "" {
		c.Prefix = "purser"
	}
	if floor(c.Scenario) {
		c.NoAudit = true
	}
	return c
}

// floor tells the scenarios that measure NATS rather than Purser: they
// create no wallets and have nothing to audit.
func floor(scenario string) bool { return scenario == "echo" || scenario == "journal-echo" }

// orDefault sets *v to d unless it is positive.
func orDefault[T int | int64 | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Validate reports the first setting of c that Run would refuse, so that
// a command line is checked before anything starts. Zero takes the
// default; a negative setting is refused. The URL is not checked: a caller
// may fill it in later (an embedded node's).
func (c Config) Validate() error {
	for _, s := range []struct {
		name     string
		negative bool
	}{
		{"duration", c.Duration < 0}, {"clients", c.Clients < 0}, {"wallets", c.Wallets < 0},
		{"width", c.Width < 0}, {"conns", c.Conns < 0}, {"rate", c.Rate < 0},
		{"max outstanding", c.MaxOutstanding < 0}, {"orphan share", c.OrphanShare < 0},
		{"orphan ttl", c.OrphanTTL < 0}, {"reap grace", c.ReapGrace < 0}, {"credits", c.Credits < 0},
		{"top-up", c.TopUp < 0}, {"timeout", c.Timeout < 0}, {"progress interval", c.ProgressEvery < 0},
	} {
		if s.negative {
			return fmt.Errorf("negative %s", s.name)
		}
	}
	return c.withDefaults().validateSettings()
}

func (c Config) validateSettings() error {
	switch {
	case !slices.Contains(scenarios[:], c.Scenario):
		return unknownScenario(c.Scenario)
	case c.OrphanShare > 1:
		return fmt.Errorf("orphan share %v is above 1", c.OrphanShare)
	case c.OrphanTTL < time.Millisecond:
		return fmt.Errorf("orphan ttl %v is below 1ms", c.OrphanTTL)
	case c.Credits > maxCredits || c.TopUp > maxCredits:
		// The audit adds grants up in int64: a wallet's top-ups stay far
		// below overflow.
		return fmt.Errorf("credits %d or top-up %d above %d", c.Credits, c.TopUp, int64(maxCredits))
	case c.Width > 10_000:
		return fmt.Errorf("burst width %d is above 10,000", c.Width)
	}
	return nil
}

// suites are named sequences of runs on one deployment.
//
//	issue4: the figures of issue 4's Speed section, in one run — the echo
//	        floor (64 clients), the journal echo (64 clients, 10,000 keys;
//	        skipped unless the node serves it), 50-wide bursts on one wallet, 10,000
//	        wallets × 64 clients, and uniform reserves open loop at
//	        20,000/s on the same 10,000 wallets' shape; then the two closed
//	        loop shapes with reserves only (holds left to expire), the shape
//	        of a check-and-decrement elsewhere.
//	bench:  `make bench`'s short standard suite: the two floors, burst and
//	        uniform.
var suites = [...]string{"issue4", "bench"}

// Suites returns the suite names (a copy).
func Suites() []string { return slices.Clone(suites[:]) }

// Suite returns the runs of the named suite, each base with the suite's
// shape; base's Duration, URL, seed and the like apply to every run.
func Suite(name string, base Config) ([]Config, error) {
	with := func(scenario string, clients, wallets, width int, rate float64) Config {
		c := base
		c.Scenario, c.Clients, c.Wallets, c.Width, c.Rate = scenario, clients, wallets, width, rate
		return c
	}
	// Reserves only: every hold an orphan, and credits for a run's worth of
	// holds held at once, so every reserve is decided on its merits.
	reservesOnly := func(c Config) Config {
		c.OrphanShare, c.Credits, c.TopUp = 1, 1<<40, 1<<40
		return c
	}
	switch name {
	case "issue4":
		return []Config{
			with("echo", 64, 0, 0, 0),
			with("journal-echo", 64, 10_000, 0, 0),
			with("burst", 1, 1, 50, 0),
			with("uniform", 64, 10_000, 0, 0),
			with("uniform", 0, 10_000, 0, 20_000),
			reservesOnly(with("burst-reserve", 1, 1, 50, 0)),
			reservesOnly(with("orphans", 64, 10_000, 0, 0)),
		}, nil
	case "bench":
		return []Config{with("echo", 0, 0, 0, 0), with("journal-echo", 0, 0, 0, 0), with("burst", 0, 0, 0, 0), with("uniform", 0, 0, 0, 0)}, nil
	}
	return nil, fmt.Errorf("unknown suite %q: valid suites are %s", name, strings.Join(suites[:], ", "))
}
