package loadtest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one scenario's figures and audit, as printed and as --json.
type Result struct {
	Scenario  string     `json:"scenario"`
	Loop      string     `json:"loop"`                   // "closed" or "open"
	Rate      float64    `json:"rate,omitempty"`         // open loop: units per second asked for
	Clients   int        `json:"clients"`                // closed loop: workers (burst: agents)
	Wallets   int        `json:"wallets"`                // wallets used
	Width     int        `json:"width,omitempty"`        // burst fan-out
	Seed      uint64     `json:"seed"`                   // repeat the workload with --seed
	RunID     string     `json:"run_id"`                 // prefix of its wallets and request ids
	Started   time.Time  `json:"started"`                // wall clock
	Elapsed   float64    `json:"elapsed_s"`              // load phase, until the last unit finished
	Ops       []OpReport `json:"ops"`                    // per op, by name
	Total     int64      `json:"total_ops"`              // answered requests
	PerSecond float64    `json:"ops_per_second"`         // Total / Elapsed
	FloorPct  float64    `json:"floor_percent,omitzero"` // PerSecond as % of the echo floor's, when one ran
	// JournalFloorPct is PerSecond as % of the journal echo's, when one ran.
	JournalFloorPct float64          `json:"journal_floor_percent,omitzero"`
	Decisions       map[string]int64 `json:"decisions"` // "allowed" or the denial reason
	Errors          map[string]int64 `json:"errors"`    // by code; "no_reply" for timeouts
	Audit           *AuditReport     `json:"audit,omitempty"`
}

func (r *run) result(started time.Time, elapsed time.Duration) *Result {
	res := &Result{Scenario: r.cfg.Scenario, Loop: "closed", Clients: r.cfg.Clients, Wallets: len(r.led.wallets),
		Seed: r.seed, RunID: r.runID, Started: started, Elapsed: elapsed.Seconds(), Ops: r.rec.report(elapsed)}
	if r.cfg.Rate > 0 {
		res.Loop, res.Rate, res.Clients = "open", r.cfg.Rate, 0
	}
	if r.keySubjects != nil {
		res.Wallets = len(r.keySubjects) // the journal echo's keys: one journal subject each
	}
	if r.cfg.Scenario == "burst" || r.cfg.Scenario == "burst-reserve" || r.cfg.Scenario == "mixed" {
		res.Width = r.cfg.Width
	}
	for _, o := range res.Ops {
		res.Total += o.Count
	}
	res.PerSecond = float64(res.Total) / elapsed.Seconds()
	res.Decisions, res.Errors = r.rec.counts()
	return res
}

// Op returns the figures of op, or a zero OpReport.
func (res *Result) Op(op string) OpReport {
	for _, o := range res.Ops {
		if o.Op == op {
			return o
		}
	}
	return OpReport{Op: op}
}

// Passed reports whether every audited result passed.
func Passed(results []*Result) bool {
	for _, res := range results {
		if res.Audit != nil && !res.Audit.Passed {
			return false
		}
	}
	return true
}

// CompareToFloor sets FloorPct and JournalFloorPct of every result from
// the echo and journal-echo results among them, if there are.
func CompareToFloor(results []*Result) {
	var echo, journal float64
	for _, res := range results {
		switch res.Scenario {
		case "echo":
			echo = res.PerSecond
		case "journal-echo":
			journal = res.PerSecond
		}
	}
	for _, res := range results {
		if echo > 0 {
			res.FloorPct = 100 * res.PerSecond / echo
		}
		if journal > 0 && res.Scenario != "echo" {
			res.JournalFloorPct = 100 * res.PerSecond / journal
		}
	}
}

// WriteText prints a result for people.
func WriteText(out io.Writer, res *Result) {
	shape := fmt.Sprintf("%d clients", res.Clients)
	if res.Loop == "open" {
		shape = fmt.Sprintf("open loop at %.0f units/s", res.Rate)
	}
	if res.Width > 0 {
		shape += fmt.Sprintf(", %d-wide", res.Width)
	}
	fmt.Fprintf(out, "== %s: %s, %d wallets, %.2fs, seed %d (run %s)\n",
		res.Scenario, shape, res.Wallets, res.Elapsed, res.Seed, res.RunID)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tcount\tper s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\t")
	for _, o := range res.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t\n",
			o.Op, o.Count, o.Rate, o.P50, o.P90, o.P99, o.P999, o.Max, o.Errors)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "total %d ops, %.0f ops/s", res.Total, res.PerSecond)
	var of []string
	if res.FloorPct > 0 && res.Scenario != "echo" {
		of = append(of, fmt.Sprintf("%.0f%% of the echo floor", res.FloorPct))
	}
	if res.JournalFloorPct > 0 && res.Scenario != "journal-echo" {
		of = append(of, fmt.Sprintf("%.0f%% of the journal echo", res.JournalFloorPct))
	}
	if len(of) > 0 {
		fmt.Fprintf(out, " (%s)", strings.Join(of, ", "))
	}
	fmt.Fprintln(out)
	if len(res.Decisions) > 0 {
		fmt.Fprintf(out, "decisions: %s\n", counts(res.Decisions))
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(out, "errors: %s\n", counts(res.Errors))
	}
	a := res.Audit
	if a == nil {
		return
	}
	verdict := "PASSED"
	if !a.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(out, "audit %s in %.1fs: %d wallets, %d acknowledged requests, %d history entries, %d orphans, %d unanswered retried, %d discrepancies\n",
		verdict, a.Seconds, a.Wallets, a.Acknowledged, a.HistoryRows, a.Orphans, a.Retried, a.Discrepancies)
	for _, d := range a.First {
		fmt.Fprintf(out, "  %s\n", d)
	}
}

func counts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
