package loadtest

import (
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 5 minutes with three
// significant digits: a reply slower than that is clamped to the top.
const (
	histLowest  = 1
	histHighest = int64(5 * time.Minute / time.Microsecond)
	histDigits  = 3
)

// opStats is one op's histogram and counters. Workers of every scenario
// share it under mu: a lock per recorded reply costs far less than the
// NATS round trip it measures, and keeps "p99 so far" exact.
type opStats struct {
	mu     sync.Mutex
	hist   *hdr.Histogram
	errors int64
}

// recorder collects what a run measured: latencies per op, decisions by
// reason and errors by code. Safe for concurrent use.
type recorder struct {
	mu        sync.Mutex
	ops       map[string]*opStats
	decisions map[string]int64
	errors    map[string]int64
}

func newRecorder() *recorder {
	return &recorder{ops: map[string]*opStats{}, decisions: map[string]int64{}, errors: map[string]int64{}}
}

func (r *recorder) op(name string) *opStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.ops[name]
	if !ok {
		s = &opStats{hist: hdr.New(histLowest, histHighest, histDigits)}
		r.ops[name] = s
	}
	return s
}

// latency records one completed request of op, measured from start (the
// intended send time in open loop, so queueing delay is counted).
func (r *recorder) latency(op string, start time.Time) {
	us := min(max(time.Since(start).Microseconds(), histLowest), histHighest)
	s := r.op(op)
	s.mu.Lock()
	_ = s.hist.RecordValue(us) // in range by the clamp above
	s.mu.Unlock()
}

// failure counts one request of op that ended with an error code.
func (r *recorder) failure(op, code string) {
	s := r.op(op)
	s.mu.Lock()
	s.errors++
	s.mu.Unlock()
	r.mu.Lock()
	r.errors[code]++
	r.mu.Unlock()
}

// decision counts a reserve/extend/check outcome: "allowed" or the reason.
func (r *recorder) decision(reason string) {
	r.mu.Lock()
	r.decisions[reason]++
	r.mu.Unlock()
}

// progress is a consistent view for the live line: total replies, total
// errors and the p99 of op so far.
func (r *recorder) progress(op string) (count, errs int64, p99 time.Duration) {
	r.mu.Lock()
	names := make([]string, 0, len(r.ops))
	for n := range r.ops {
		names = append(names, n)
	}
	r.mu.Unlock()
	for _, n := range names {
		s := r.op(n)
		s.mu.Lock()
		count += s.hist.TotalCount()
		errs += s.errors
		if n == op {
			p99 = time.Duration(s.hist.ValueAtQuantile(99)) * time.Microsecond
		}
		s.mu.Unlock()
	}
	return count, errs, p99
}

// OpReport is one op's figures. Latencies in milliseconds.
type OpReport struct {
	Op     string  `json:"op"`
	Count  int64   `json:"count"`
	Errors int64   `json:"errors"`
	Rate   float64 `json:"per_second"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
	Max    float64 `json:"max_ms"`
}

// report turns the histograms into OpReports, sorted by op name.
func (r *recorder) report(elapsed time.Duration) []OpReport {
	r.mu.Lock()
	names := make([]string, 0, len(r.ops))
	for n := range r.ops {
		names = append(names, n)
	}
	r.mu.Unlock()
	sort.Strings(names)
	out := make([]OpReport, 0, len(names))
	for _, n := range names {
		s := r.op(n)
		s.mu.Lock()
		h := s.hist
		ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
		o := OpReport{Op: n, Count: h.TotalCount(), Errors: s.errors, P50: ms(50), P90: ms(90), P99: ms(99),
			P999: ms(99.9), Max: float64(h.Max()) / 1000}
		s.mu.Unlock()
		if elapsed > 0 {
			o.Rate = float64(o.Count) / elapsed.Seconds()
		}
		out = append(out, o)
	}
	return out
}

func (r *recorder) counts() (decisions, errors map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	decisions, errors = map[string]int64{}, map[string]int64{}
	for k, v := range r.decisions {
		decisions[k] = v
	}
	for k, v := range r.errors {
		errors[k] = v
	}
	return decisions, errors
}
