package metrics_test

// The per-request series: every op of the wire API has its latency series
// from the first scrape (so a dashboard never waits for traffic to see an
// op), an op the API does not know is measured as "invalid" rather than
// creating a series per bad subject, and two nodes' collectors in one
// process share nothing.

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/metrics"
	"github.com/purser-dev/purser/transport/wire"
)

const latencySeries = "purser_request_duration_seconds"

// latencyCounts maps each op label of the latency histogram to its
// observation count.
func latencyCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range families {
		if mf.GetName() != latencySeries {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" {
					counts[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return counts
}

// wireOps lists the wire API's ops from the wire package itself, so that an
// op added there without a series here fails this test.
func wireOps() []string {
	var ops []string
	for op := wire.OpReserve; op.String() != ""; op++ {
		ops = append(ops, op.String())
	}
	return ops
}

func TestEveryOpHasALatencySeriesBeforeItsFirstRequest(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg)
	counts := latencyCounts(t, reg)
	want := append(wireOps(), "invalid")
	if len(wireOps()) != 11 {
		t.Fatalf("wire ops %v: SPEC §8 names 11", wireOps())
	}
	for _, op := range want {
		if n, ok := counts[op]; !ok || n != 0 {
			t.Errorf("op %q: series present %v with %d observations, want present and empty", op, ok, n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("latency series %v, want exactly %v", counts, want)
	}
}

func TestUnknownOpIsMeasuredAsInvalid(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Request(api.Outcome{Op: "reserve", Decision: api.Allowed, Latency: time.Millisecond})
	m.Request(api.Outcome{Op: "no-such-op", Decision: api.Error, Reason: "invalid_request", Latency: time.Millisecond})
	counts := latencyCounts(t, reg)
	if counts["reserve"] != 1 || counts["invalid"] != 1 {
		t.Fatalf("latency counts %v: want one reserve and one invalid", counts)
	}
	if _, ok := counts["no-such-op"]; ok {
		t.Fatal("an unknown op created its own latency series")
	}
}

func TestTwoNodesCollectorsAreIndependent(t *testing.T) {
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a := metrics.New(regA)
	metrics.New(regB)
	a.Request(api.Outcome{Op: "debit", Decision: api.Allowed, Latency: time.Millisecond})
	if got := latencyCounts(t, regB)["debit"]; got != 0 {
		t.Fatalf("node B counted node A's request: %d", got)
	}
	if got := latencyCounts(t, regA)["debit"]; got != 1 {
		t.Fatalf("node A counted %d of its one request", got)
	}
}
