package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/purser-dev/purser/loadtest"
	"github.com/purser-dev/purser/transport/node"
)

type loadtestFlags struct {
	natsFlags
	natsURL, dataDir, scenarios, suite, out string
	cpuProfile                              string
	embedded, json, progress                bool
	cfg                                     loadtest.Config
}

func newLoadtest() *cobra.Command {
	var f loadtestFlags
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive a Purser node with agent-shaped load, measure latency, and audit every credit",
		Long: "Run load scenarios (" + strings.Join(loadtest.Scenarios(), ", ") + ") against a Purser node,\n" +
			"closed loop (--clients workers) or open loop (--rate units/s), with latency in HDR histograms.\n" +
			"Afterwards every wallet's balance and history is audited against the load tester's own ledger\n" +
			"of acknowledged replies; a failed audit exits 1 and lists the first discrepancies. An unknown\n" +
			"scenario or suite, or a setting out of range, exits 2 before any load (or --embedded node) starts.\n" +
			"--suite issue4 runs the Speed figures of issue 4 (echo floor, 50-wide bursts on one wallet,\n" +
			"10,000 wallets × 64 clients, open loop at 20,000 reserves/s, then the bursts and the\n" +
			"10,000 wallets with reserves only, holds left to expire). Scenario-specific zero flags\n" +
			"take the scenario's default shape.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoadtest(cmd.Context(), cmd, f) },
	}
	fl := cmd.Flags()
	c := &f.cfg
	fl.StringVar(&f.natsURL, "nats-url", defaultNATSURL, "NATS URL of the Purser node to load")
	f.natsFlags.register(fl)
	fl.BoolVar(&f.embedded, "embedded", false, "start an in-process node on a temp data dir instead (durable as `purser serve`: every append fsynced before its reply)")
	fl.StringVar(&f.dataDir, "data-dir", "", "with --embedded: data dir to use (default: a temp dir, removed after)")
	fl.StringVar(&f.scenarios, "scenario", "mixed", "comma-separated scenarios: "+strings.Join(loadtest.Scenarios(), ", "))
	fl.StringVar(&f.suite, "suite", "", "run a named suite instead of --scenario: "+strings.Join(loadtest.Suites(), ", "))
	fl.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each scenario starts new work")
	fl.IntVar(&c.Clients, "clients", 0, "closed-loop workers (burst: agents); 0 = scenario default")
	fl.IntVar(&c.Wallets, "wallets", 0, "wallets; 0 = scenario default")
	fl.IntVar(&c.Width, "width", 50, "burst fan-out: parallel reserves per agent tick")
	fl.IntVar(&c.Conns, "conns", 4, "NATS connections the workers share")
	fl.Float64Var(&c.Rate, "rate", 0, "open loop: units of work per second (0 = closed loop)")
	fl.IntVar(&c.MaxOutstanding, "max-outstanding", 10_000, "open loop: units in flight at most")
	fl.Float64Var(&c.OrphanShare, "orphan-share", 0.2, "orphans/mixed: share of holds never settled")
	fl.DurationVar(&c.OrphanTTL, "orphan-ttl", time.Second, "ttl of orphaned holds")
	fl.Int64Var(&c.Credits, "credits", 1_000_000, "first grant of each wallet (and each top-up)")
	fl.Uint64Var(&c.Seed, "seed", 0, "workload seed (0: random, reported)")
	fl.DurationVar(&c.Timeout, "timeout", 5*time.Second, "per request attempt (retries keep the id)")
	fl.StringVar(&c.Prefix, "prefix", "purser", "subject prefix of the API")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON instead of text")
	fl.StringVar(&f.out, "out", "", "also write the JSON report to this file")
	fl.BoolVar(&f.progress, "progress", true, "live progress on stderr (one line per second when not a terminal)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write the load generator's CPU profile (the whole run, audits too) to this file, for go tool pprof")
	return cmd
}

// loadtestReport is the --json / --out document.
type loadtestReport struct {
	Target  string             `json:"target"`
	Passed  bool               `json:"passed"`
	Results []*loadtest.Result `json:"results"`
}

func runLoadtest(ctx context.Context, cmd *cobra.Command, f loadtestFlags) error {
	base := f.cfg
	base.URL = f.natsURL
	opts, err := f.options()
	if err != nil {
		return err
	}
	base.NATSOptions = opts
	if f.progress {
		base.Progress, base.ProgressTTY = os.Stderr, isTerminal(os.Stderr)
	}
	fl := cmd.Flags()
	switch {
	case fl.Changed("suite") && fl.Changed("scenario"):
		return usageError{errors.New("--suite runs its own scenarios: give --suite or --scenario, not both")}
	case fl.Changed("data-dir") && !f.embedded:
		return usageError{errors.New("--data-dir is the --embedded node's: add --embedded, or drop it")}
	}
	runs, err := loadtestRuns(f, base)
	if err != nil {
		return usageError{err}
	}
	if f.embedded {
		stop, url, err := startEmbeddedNode(ctx, f.dataDir)
		if err != nil {
			return err
		}
		defer stop()
		base.URL = url
		for i := range runs {
			runs[i].URL = url
		}
	}
	rep := loadtestReport{Target: base.URL}
	if f.cpuProfile != "" {
		prof, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer prof.Close()
		if err := pprof.StartCPUProfile(prof); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, cfg := range runs {
		res, err := loadtest.Run(ctx, cfg)
		if errors.Is(err, loadtest.ErrNoJournalEcho) && f.suite != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "skipped %s: %v\n", cfg.Scenario, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("loadtest %s: %w", cfg.Scenario, err)
		}
		rep.Results = append(rep.Results, res)
	}
	loadtest.CompareToFloor(rep.Results)
	rep.Passed = loadtest.Passed(rep.Results)
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "target %s\n", rep.Target)
		for _, res := range rep.Results {
			loadtest.WriteText(out, res)
		}
	}
	if f.out != "" {
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.out, append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	if !rep.Passed {
		return errors.New("audit failed: see the discrepancies above")
	}
	return nil
}

// loadtestRuns are the runs the flags ask for, each checked: every error
// is a mistake on the command line.
func loadtestRuns(f loadtestFlags, base loadtest.Config) ([]loadtest.Config, error) {
	var runs []loadtest.Config
	if f.suite != "" {
		var err error
		if runs, err = loadtest.Suite(f.suite, base); err != nil {
			return nil, err
		}
	} else {
		scenarios, err := loadtest.ParseScenarios(f.scenarios)
		if err != nil {
			return nil, err
		}
		for _, sc := range scenarios {
			c := base
			c.Scenario = sc
			runs = append(runs, c)
		}
	}
	for _, c := range runs {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("loadtest %s: %w", c.Scenario, err)
		}
	}
	return runs, nil
}

// startEmbeddedNode runs a node in this process on a random loopback port,
// every append fsynced before its reply (as serve), on dir or a temp dir removed by stop.
func startEmbeddedNode(ctx context.Context, dir string) (stop func(), url string, err error) {
	cleanup := func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "purser-loadtest-"); err != nil {
			return nil, "", err
		}
		cleanup = func() { _ = os.RemoveAll(dir) }
	}
	// The collector as `purser serve` sets it (the load generator in this
	// process runs under it too).
	tuneGC(defaultGCPercent, false, zap.NewNop())
	n, err := node.Start(ctx, node.Config{DataDir: dir, NATSListen: "127.0.0.1:0", JournalEcho: true})
	if err != nil {
		cleanup()
		return nil, "", fmt.Errorf("start the embedded node: %w", err)
	}
	return func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = n.Close(closeCtx)
		cleanup()
	}, n.ClientURL(), nil
}
