package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purser-dev/purser/transport/journal"
	"github.com/purser-dev/purser/transport/metrics"
)

// The journal's counters are read at scrape time, each under its own name.
func TestJournalCountersReadAtScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := journal.Stats{Batches: 7, Syncs: 3, SyncTime: 1500 * time.Millisecond, Resolutions: 2, Requeues: 5, ReadBack: 11, ReadForward: 13, ReadRequests: 17}
	metrics.Journal(reg, func() journal.Stats { return st })
	want := map[string]float64{
		"purser_journal_durable_writes_total": 7, "purser_journal_fsyncs_total": 3,
		"purser_journal_fsync_seconds_total": 1.5, "purser_journal_resolutions_total": 2,
		"purser_journal_resends_total": 5, "purser_journal_read_back_messages_total": 11,
		"purser_journal_read_forward_messages_total": 13, "purser_journal_read_requests_total": 17,
	}
	check := func() {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range families {
			got[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
		}
		for name, v := range want {
			if got[name] != v {
				t.Errorf("%s = %v, want %v", name, got[name], v)
			}
		}
	}
	check()
	st.Syncs, want["purser_journal_fsyncs_total"] = 10, 10
	check()
}
