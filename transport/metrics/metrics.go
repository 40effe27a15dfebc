// Package metrics exposes a Purser node's measurements to Prometheus. It
// implements actors.Observer (what the runtime measures: batches, journal
// appends and the events they carry, activations, panics) and the API's
// per-request hook (api.Config.Observe). Every method runs on a hot path —
// an actor's goroutine or the goroutine that replied — so each is a few
// atomic operations on pre-registered collectors and never blocks.
//
// The series (all prefixed purser_) are listed in docs/operations.md; a
// change here is a change there.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/snapshot"
	"github.com/purser-dev/purser/transport/api"
	"github.com/purser-dev/purser/transport/journal"
	"github.com/purser-dev/purser/transport/wire"
)

// latencyOps are the API's ops (SPEC §8, as the wire package names them)
// plus "invalid" (a subject that did not parse); latency histograms are
// created for each up front so that a dashboard sees every op from the
// first scrape.
func latencyOps() []string {
	var ops []string
	for op := wire.OpReserve; op.String() != ""; op++ {
		ops = append(ops, op.String())
	}
	return append(ops, "invalid")
}

// Metrics holds the collectors of one node. Create it with New.
type Metrics struct {
	requests       *prometheus.CounterVec
	latency        map[string]prometheus.Observer
	otherLatency   prometheus.Observer
	batchSize      prometheus.Histogram
	mailboxDepth   prometheus.Histogram
	appendLatency  prometheus.Histogram
	appendFailures prometheus.Counter
	events         prometheus.Counter
	liveWallets    prometheus.Gauge
	openHolds      prometheus.Gauge
	holdsExpired   *prometheus.CounterVec
	overage        prometheus.Counter
	debt           prometheus.Counter
	panics         prometheus.Counter
	forgotYoung    prometheus.Counter
	replayed       *prometheus.HistogramVec
	activation     *prometheus.HistogramVec
}

var _ actors.Observer = (*Metrics)(nil)

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := factory{reg}
	m := &Metrics{
		requests: f.counterVec("purser_requests_total",
			"Requests answered, by op, decision (allowed, denied, error) and reason (the denial reason or error code).",
			"op", "decision", "reason"),
		batchSize: f.histogram("purser_batch_size",
			"Requests decided per actor batch (one journal append per batch).", prometheus.ExponentialBuckets(1, 2, 11)),
		mailboxDepth: f.histogram("purser_mailbox_depth",
			"Requests still queued in a wallet's mailbox when a batch was taken.", append([]float64{0}, prometheus.ExponentialBuckets(1, 4, 8)...)),
		appendLatency: f.histogram("purser_journal_append_duration_seconds",
			"Time from a batch's journal append to its durable acknowledgement.", prometheus.ExponentialBuckets(0.0001, 2, 16)),
		appendFailures: f.counter("purser_journal_append_failures_total",
			"Journal appends that failed (the batch was answered unavailable or not_owner)."),
		events:      f.counter("purser_journal_events_total", "Events durably appended to the journal."),
		liveWallets: f.gauge("purser_live_wallets", "Wallet actors in memory."),
		openHolds:   f.gauge("purser_open_holds", "Open holds of the wallets in memory (a wallet with open holds stays in memory)."),
		holdsExpired: f.counterVec("purser_holds_expired_total",
			"Holds closed by the runtime at their expiry, by on_expiry (release or capture).", "on_expiry"),
		overage: f.counter("purser_overage_credits_total",
			"Credits settled beyond their hold (actual − hold), paid from free credits or added to debt."),
		debt: f.counter("purser_debt_created_credits_total",
			"Credits of usage that no credit paid and became debt (over-settles, late settles, debits)."),
		panics: f.counter("purser_panics_total", "Batches whose decision panicked (a bug; the batch was refused)."),
		forgotYoung: f.counter("purser_ids_forgotten_young_total",
			"Request ids forgotten before their 24h retention because of the remembered-ids bound: raise the bound if this grows."),
		replayed: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "purser_activation_replayed_events",
			Help:    "Journal events replayed to rebuild a wallet (after its snapshot: the snapshot's age in events), by source (snapshot or journal).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 12)}, []string{"source"}),
		activation: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "purser_activation_duration_seconds",
			Help:    "Time to rebuild a wallet on activation, by source (snapshot or journal).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)}, []string{"source"}),
	}
	reg.MustRegister(m.replayed, m.activation)
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "purser_request_duration_seconds",
		Help:    "Time from a request's receipt to its reply, by op (includes the durable journal append).",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
	}, []string{"op"})
	reg.MustRegister(lat)
	ops := latencyOps()
	m.latency = make(map[string]prometheus.Observer, len(ops))
	for _, op := range ops {
		m.latency[op] = lat.WithLabelValues(op)
	}
	m.otherLatency = m.latency["invalid"]
	for _, oe := range []string{"release", "capture"} {
		m.holdsExpired.WithLabelValues(oe)
	}
	return m
}

// Request records one answered request (api.Config.Observe).
func (m *Metrics) Request(o api.Outcome) {
	m.requests.WithLabelValues(o.Op, string(o.Decision), o.Reason).Inc()
	obs, ok := m.latency[o.Op]
	if !ok {
		obs = m.otherLatency
	}
	obs.Observe(o.Latency.Seconds())
}

// Batch implements actors.Observer.
func (m *Metrics) Batch(size, depth int) {
	m.batchSize.Observe(float64(size))
	m.mailboxDepth.Observe(float64(depth))
}

// Appended implements actors.Observer: the events of a landed append say
// what changed (holds opened and closed, expiries, overage, debt).
func (m *Metrics) Appended(d time.Duration, events []actors.Event, err error) {
	m.appendLatency.Observe(d.Seconds())
	if err != nil {
		m.appendFailures.Inc()
		return
	}
	m.events.Add(float64(len(events)))
	var holds float64
	for _, ev := range events {
		switch e := ev.(type) {
		case *actors.HoldPlaced:
			holds++
		case *actors.Released:
			holds--
		case *actors.HoldExpired:
			if e.Capture {
				// The Settled event that follows consumes and closes it.
				m.holdsExpired.WithLabelValues("capture").Inc()
			} else {
				m.holdsExpired.WithLabelValues("release").Inc()
				holds--
			}
		case *actors.Settled:
			if e.Closes && !e.Late {
				holds--
			}
			if !e.Late {
				// Beyond the hold: what free credits paid plus what became debt.
				m.overage.Add(float64(sumAllocations(e.FromFree) + e.DebtAdded))
			}
			m.debt.Add(float64(e.DebtAdded))
		case *actors.Debited:
			m.debt.Add(float64(e.DebtAdded))
		}
	}
	if holds != 0 {
		m.openHolds.Add(holds)
	}
}

// Activated implements actors.Observer.
func (m *Metrics) Activated(openHolds int) {
	m.liveWallets.Inc()
	m.openHolds.Add(float64(openHolds))
}

// Passivated implements actors.Observer.
func (m *Metrics) Passivated(openHolds int) {
	m.liveWallets.Dec()
	m.openHolds.Sub(float64(openHolds))
}

// Panicked implements actors.Observer.
func (m *Metrics) Panicked() { m.panics.Inc() }

// ForgotYoungIDs implements actors.Observer.
func (m *Metrics) ForgotYoungIDs(n uint64) { m.forgotYoung.Add(float64(n)) }

// Loaded records a wallet's activation (actors.Observer).
func (m *Metrics) Loaded(replayed int, took time.Duration, fromSnapshot bool) {
	source := "journal"
	if fromSnapshot {
		source = "snapshot"
	}
	m.replayed.WithLabelValues(source).Observe(float64(replayed))
	m.activation.WithLabelValues(source).Observe(took.Seconds())
}

// Snapshots exports the runtime's snapshot counters, read at scrape time.
func Snapshots(reg prometheus.Registerer, stats func() actors.SnapshotStats) {
	for name, read := range map[string]func(actors.SnapshotStats) uint64{
		"saved":    func(s actors.SnapshotStats) uint64 { return s.Saved },
		"failed":   func(s actors.SnapshotStats) uint64 { return s.Failed },
		"skipped":  func(s actors.SnapshotStats) uint64 { return s.Skipped },
		"loaded":   func(s actors.SnapshotStats) uint64 { return s.Loaded },
		"rejected": func(s actors.SnapshotStats) uint64 { return s.Rejected },
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_snapshots_" + name + "_total",
			Help: "Wallet snapshots " + name + " (see docs/operations.md, Snapshots)."},
			func() float64 { return float64(read(stats())) }))
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_snapshot_save_seconds_total",
		Help: "Time the snapshot workers spent saving images (encoding and writing), failed saves included."},
		func() float64 { return stats().SaveTime.Seconds() }))
}

// Runtime exports the runtime's own refusals, read at scrape time: Ticks
// the runtime sent itself (the start-up sweep, the wake-up list) and a full
// wallet table refused. Requests refused show in purser_requests_total.
func Runtime(reg prometheus.Registerer, stats func() actors.Stats) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_runtime_ticks_refused_total",
		Help: "Time-driven activations (start-up sweep, wake-ups of wallets out of memory) refused for a full wallet table; retried."},
		func() float64 { return float64(stats().TicksRefused) }))
}

// SnapshotStore exports what the snapshot store wrote, read at scrape time.
func SnapshotStore(reg prometheus.Registerer, stats func() snapshot.StoreStats) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_snapshot_bytes_total",
		Help: "Bytes of encoded snapshots and id segments stored (failed puts not counted)."},
		func() float64 { return float64(stats().Bytes) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_snapshot_segments_written_total",
		Help: "Segments of remembered ids written (wallets with 8,192 or more queued ids; docs/snapshots.md)."},
		func() float64 { return float64(stats().Segments) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_snapshot_id_rows_referenced_total",
		Help: "Remembered ids stored snapshots referred to in segments instead of holding them."},
		func() float64 { return float64(stats().RowsReferenced) }))
}

// Journal exports the JetStream journal's counters, read at scrape time:
// how appends reach the disk (durable writes, fsyncs and their time) and
// how often an outcome had to be resolved by reading.
func Journal(reg prometheus.Registerer, stats func() journal.Stats) {
	for _, c := range []struct {
		name, help string
		read       func(journal.Stats) float64
	}{
		{"durable_writes", "Atomic batches or single publishes sent to JetStream (resends included).",
			func(s journal.Stats) float64 { return float64(s.Batches) }},
		{"fsyncs", "Group commits: fsyncs of the journal stream made by Purser (default with the embedded server).",
			func(s journal.Stats) float64 { return float64(s.Syncs) }},
		{"fsync_seconds", "Time spent in those fsyncs.",
			func(s journal.Stats) float64 { return s.SyncTime.Seconds() }},
		{"resolutions", "Durable writes without a clean ack (refused, timed out, cut off), resolved by reading the wallets' last messages.",
			func(s journal.Stats) float64 { return float64(s.Resolutions) }},
		{"resends", "Appends sent again after their durable write failed without landing.",
			func(s journal.Stats) float64 { return float64(s.Requeues) }},
		{"read_back_messages", "Journal messages handed to activations by walking a wallet's chain back from its end.",
			func(s journal.Stats) float64 { return float64(s.ReadBack) }},
		{"read_forward_messages", "Journal messages handed over read forwards by subject: history pages, and a dense or long tail an activation's walk left.",
			func(s journal.Stats) float64 { return float64(s.ReadForward) }},
		{"read_requests", "Round trips the journal's reads made to the stream (activations, history, resolving unknown outcomes): direct gets, pages of batched ones, the leader's answers for a subject's last message.",
			func(s journal.Stats) float64 { return float64(s.ReadRequests) }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "purser_journal_" + c.name + "_total",
			Help: c.help}, func() float64 { return c.read(stats()) }))
	}
}

func sumAllocations(as []actors.Allocation) int64 {
	var s int64
	for _, a := range as {
		s += a.Amount
	}
	return s
}

// factory creates and registers collectors in one step.
type factory struct{ reg prometheus.Registerer }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}
