package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/snapshot"
	"github.com/purser-dev/purser/transport/journal"
	"github.com/purser-dev/purser/transport/metrics"
)

// counters gathers reg's counters by name (one series each).
func counters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		got[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
	}
	return got
}

func checkCounters(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	got := counters(t, reg)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}

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
	checkCounters(t, reg, want)
	st.Syncs, want["purser_journal_fsyncs_total"] = 10, 10
	checkCounters(t, reg, want)
}

// And the runtime's refusals of its own Ticks.
func TestRuntimeCountersReadAtScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := actors.Stats{TicksRefused: 4, Overloaded: 9}
	metrics.Runtime(reg, func() actors.Stats { return st })
	want := map[string]float64{"purser_runtime_ticks_refused_total": 4}
	checkCounters(t, reg, want)
	st.TicksRefused, want["purser_runtime_ticks_refused_total"] = 6, 6
	checkCounters(t, reg, want)
}

// So are the snapshot workers' and the snapshot store's.
func TestSnapshotCountersReadAtScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := actors.SnapshotStats{Saved: 3, Failed: 1, Skipped: 4, Loaded: 5, Rejected: 2, SaveTime: 2500 * time.Millisecond}
	ss := snapshot.StoreStats{Bytes: 1 << 20, Segments: 7, RowsReferenced: 92_188}
	metrics.Snapshots(reg, func() actors.SnapshotStats { return st })
	metrics.SnapshotStore(reg, func() snapshot.StoreStats { return ss })
	want := map[string]float64{
		"purser_snapshots_saved_total": 3, "purser_snapshots_failed_total": 1, "purser_snapshots_skipped_total": 4,
		"purser_snapshots_loaded_total": 5, "purser_snapshots_rejected_total": 2,
		"purser_snapshot_save_seconds_total": 2.5, "purser_snapshot_bytes_total": 1 << 20,
		"purser_snapshot_segments_written_total": 7, "purser_snapshot_id_rows_referenced_total": 92_188,
	}
	checkCounters(t, reg, want)
	st.SaveTime, ss.Bytes = 3*time.Second, 2<<20
	want["purser_snapshot_save_seconds_total"], want["purser_snapshot_bytes_total"] = 3, 2<<20
	checkCounters(t, reg, want)
}
