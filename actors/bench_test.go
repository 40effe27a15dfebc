package actors

// Benchmarks of the decision path (issue 2, "Speed"): reserve, settle and
// reserve+settle through Execute, on a wallet with 10 grants and 10, 1,000
// or 100,000 open holds. The figures are flat in the number of open holds
// when nothing scans them. Ids are made before the clock runs; the events
// slice is reused (evs[:0]) as the runtime does.
//
// Reserve and settle keep the hold count near its nominal value by closing
// (or opening) holds between timed stretches. They time those stretches
// themselves (opMeter) rather than with b.StopTimer, whose ReadMemStats
// stops the world: every 10 ops at 10 holds, that added ~200 ns to each.
// Their allocations are counted over a separate stretch before the clock.
//
//	go test -run '^$' -bench . -benchmem ./actors/

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// opMeter times the measured stretches of a benchmark only, and reports
// them as its ns/op, with B/op and allocs/op counted exactly (ReadMemStats)
// over a separate stretch of the same operation.
type opMeter struct {
	t0            time.Time
	spent         time.Duration
	allocs, bytes float64
}

func (m *opMeter) start() { m.t0 = time.Now() }
func (m *opMeter) stop()  { m.spent += time.Since(m.t0) }

// count runs op(i) for i in [0, n) between two ReadMemStats and keeps the
// allocations per op.
func (m *opMeter) count(n int, op func(i int)) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		op(i)
	}
	runtime.ReadMemStats(&after)
	m.allocs = float64(after.Mallocs-before.Mallocs) / float64(n)
	m.bytes = float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// countOps is the length of the stretch allocations are counted over: long
// enough that the chunked allocations (records, allocation lists) average
// out.
const countOps = 4096

func (m *opMeter) report(b *testing.B) {
	b.ReportMetric(float64(m.spent.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(m.bytes, "B/op")
	b.ReportMetric(m.allocs, "allocs/op")
}

var benchHolds = []int{10, 1_000, 100_000}

// benchWallet has 10 grants of ample credit and open holds that won't
// expire during the benchmark.
func benchWallet(b *testing.B, holds int) (*Wallet, time.Time) {
	b.Helper()
	w := NewWallet("bench", DefaultLimits())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := []string{"promotional", "paid", "included"}
	var evs []Event
	for i := 0; i < 10; i++ {
		var err *Error
		evs, _, err = w.Execute(Grant{ID: "g" + strconv.Itoa(i), Amount: 1 << 50, Kind: kinds[i%3]}, now, evs[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < holds; i++ {
		var err *Error
		evs, _, err = w.Execute(Reserve{ID: "base" + strconv.Itoa(i), Amount: 3, TTLms: MaxTTL.Milliseconds()}, now, evs[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	return w, now
}

// benchIDs are n request ids, prefix + a fixed-width number, in one byte
// arena. A []string of b.N ids would be millions of live strings the
// collector marks on every cycle — a cost the benchmark's harness would
// add to each op that a node, whose request ids die with their requests
// unless a record keeps them, never pays.
type benchIDs struct {
	arena []byte
	width int
}

func newBenchIDs(prefix string, n int) benchIDs {
	width := len(prefix) + len(strconv.Itoa(max(n-1, 0)))
	arena := make([]byte, 0, n*width)
	for i := range n {
		arena = append(arena, prefix...)
		num := strconv.Itoa(i)
		for range width - len(prefix) - len(num) {
			arena = append(arena, '0')
		}
		arena = append(arena, num...)
	}
	return benchIDs{arena: arena, width: width}
}

// at is id i, a string over the arena (never written after it is built).
func (ids benchIDs) at(i int) string {
	return unsafe.String(&ids.arena[i*ids.width], ids.width)
}

// benchBatch bounds how many holds a benchmark adds before it closes them
// again (off the meter), so the count stays near the nominal one.
func benchBatch(holds int) int { return min(max(holds, 10), 1000) }

func BenchmarkReserve(b *testing.B) {
	for _, n := range benchHolds {
		b.Run(fmt.Sprintf("holds=%d", n), func(b *testing.B) {
			w, now := benchWallet(b, n)
			rids, xids := newBenchIDs("r", b.N), newBenchIDs("x", b.N)
			evs := make([]Event, 0, 16)
			k, m := benchBatch(n), &opMeter{}
			cr, cx := newBenchIDs("cr", countOps), newBenchIDs("cx", countOps)
			m.count(countOps, func(i int) { evs, _, _ = w.Execute(Reserve{ID: cr.at(i), Amount: 7}, now, evs[:0]) })
			for i := range countOps {
				evs, _, _ = w.Execute(Release{ID: cx.at(i), HoldID: cr.at(i)}, now, evs[:0])
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += k {
				at := now.Add(time.Duration(i) * time.Microsecond)
				end := min(i+k, b.N)
				m.start()
				for j := i; j < end; j++ {
					evs, _, _ = w.Execute(Reserve{ID: rids.at(j), Amount: 7}, at, evs[:0])
				}
				m.stop()
				for j := i; j < end; j++ {
					evs, _, _ = w.Execute(Release{ID: xids.at(j), HoldID: rids.at(j)}, at, evs[:0])
				}
			}
			b.StopTimer()
			m.report(b)
			if w.OpenHolds() != n {
				b.Fatalf("%d open holds, want %d", w.OpenHolds(), n)
			}
		})
	}
}

func BenchmarkSettle(b *testing.B) {
	for _, n := range benchHolds {
		b.Run(fmt.Sprintf("holds=%d", n), func(b *testing.B) {
			w, now := benchWallet(b, n)
			rids, sids := newBenchIDs("r", b.N), newBenchIDs("s", b.N)
			evs := make([]Event, 0, 16)
			k, m := benchBatch(n), &opMeter{}
			cr, cs := newBenchIDs("cr", countOps), newBenchIDs("cs", countOps)
			for i := range countOps {
				evs, _, _ = w.Execute(Reserve{ID: cr.at(i), Amount: 7}, now, evs[:0])
			}
			m.count(countOps, func(i int) {
				evs, _, _ = w.Execute(Settle{ID: cs.at(i), HoldID: cr.at(i), Actual: 5, Final: true}, now, evs[:0])
			})
			b.ResetTimer()
			for i := 0; i < b.N; i += k {
				at := now.Add(time.Duration(i) * time.Microsecond)
				end := min(i+k, b.N)
				for j := i; j < end; j++ {
					evs, _, _ = w.Execute(Reserve{ID: rids.at(j), Amount: 7}, at, evs[:0])
				}
				m.start()
				for j := i; j < end; j++ {
					evs, _, _ = w.Execute(Settle{ID: sids.at(j), HoldID: rids.at(j), Actual: 5, Final: true}, at, evs[:0])
				}
				m.stop()
			}
			b.StopTimer()
			m.report(b)
			if w.OpenHolds() != n {
				b.Fatalf("%d open holds, want %d", w.OpenHolds(), n)
			}
		})
	}
}

func BenchmarkReserveSettle(b *testing.B) {
	for _, n := range benchHolds {
		b.Run(fmt.Sprintf("holds=%d", n), func(b *testing.B) {
			w, now := benchWallet(b, n)
			rids, sids := newBenchIDs("r", b.N), newBenchIDs("s", b.N)
			evs := make([]Event, 0, 16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				at := now.Add(time.Duration(i) * time.Microsecond)
				evs, _, _ = w.Execute(Reserve{ID: rids.at(i), Amount: 7}, at, evs[:0])
				evs, _, _ = w.Execute(Settle{ID: sids.at(i), HoldID: rids.at(i), Actual: 5, Final: true}, at, evs[:0])
			}
			b.StopTimer()
			if w.OpenHolds() != n {
				b.Fatalf("%d open holds, want %d", w.OpenHolds(), n)
			}
		})
	}
}

// BenchmarkImageOnTheActor is the actor's share of a snapshot of a wallet
// at its id bound (100,000 remembered ids, 1,000 or 25,000 open holds): the
// full copy (Image) against the one that references the queued records
// and copies the open holds (lazyImage, what the actor takes; the snapshot
// worker does the rest).
func BenchmarkImageOnTheActor(b *testing.B) {
	for _, holds := range []int{1000, 25_000} {
		b.Run(strconv.Itoa(holds)+"holds", func(b *testing.B) { benchImageOnTheActor(b, holds) })
	}
}

func benchImageOnTheActor(b *testing.B, holds int) {
	w, now := benchWallet(b, holds)
	var evs []Event
	for i := range 50_000 {
		id := "r" + strconv.Itoa(i)
		evs, _, _ = w.Execute(Reserve{ID: id, Amount: 7}, now, evs[:0])
		evs, _, _ = w.Execute(Settle{ID: "s" + id, HoldID: id, Actual: 5, Final: true}, now, evs[:0])
	}
	if w.Remembered() != w.limits.MaxRememberedIDs {
		b.Fatalf("%d ids remembered", w.Remembered())
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			_ = w.Image(1)
		}
	})
	b.Run("lazy", func(b *testing.B) {
		for b.Loop() {
			_ = w.lazyImage(1)
		}
	})
}
