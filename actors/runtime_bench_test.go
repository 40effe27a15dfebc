package actors

// Runtime benchmarks with the in-memory journal. Each reports decisions/s
// and the p50/p99 of one decision as a sender sees it (Send to reply), and
// BenchmarkDirect measures the same decisions on the state machine alone in
// the same run: the runtime's overhead is the ratio.

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// pair is one reserve+settle: two decisions.
func pair(prefix string, n int) (Reserve, Settle) {
	id := prefix + strconv.Itoa(n)
	return Reserve{ID: "r" + id, Amount: 10}, Settle{ID: "s" + id, HoldID: "r" + id, Actual: 7, Final: true}
}

func fundedSystem(b *testing.B, wallets int) *System {
	j := NewMemJournal()
	j.Discard = true
	cfg := DefaultConfig()
	s, err := NewSystem(cfg, j)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	for w := range wallets {
		if _, err := s.Ask(context.Background(), "w"+strconv.Itoa(w), Grant{ID: "g", Amount: 1 << 60, Kind: "paid"}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// drive runs b.N reserve+settle pairs from senders closed-loop senders,
// wallet(i) choosing each pair's wallet, and reports the figures.
func drive(b *testing.B, s *System, senders int, wallet func(sender, n int) string) {
	var next atomic.Int64
	hists := make([]*hdrhistogram.Histogram, senders)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range senders {
		hists[g] = hdrhistogram.New(100, 10_000_000_000, 2)
		wg.Go(func() {
			done := make(chan *Error, 1)
			reply := func(_ Reply, err *Error) { done <- err }
			prefix := strconv.Itoa(g) + "-"
			for {
				n := int(next.Add(1))
				if n > b.N {
					return
				}
				w := wallet(g, n)
				r, st := pair(prefix, n)
				for _, cmd := range []Command{r, st} {
					t0 := time.Now()
					s.Send(w, cmd, reply)
					if err := <-done; err != nil {
						b.Error(err)
						return
					}
					_ = hists[g].RecordValue(time.Since(t0).Nanoseconds())
				}
			}
		})
	}
	wg.Wait()
	report(b, time.Since(start), hists)
}

func BenchmarkHotWallet64Senders(b *testing.B) {
	s := fundedSystem(b, 1)
	drive(b, s, 64, func(int, int) string { return "w0" })
	st := s.Stats()
	b.ReportMetric(float64(st.Events)/float64(max(st.Appends, 1)), "events/append")
}

func BenchmarkUniform10000Wallets(b *testing.B) {
	s := fundedSystem(b, 10_000)
	drive(b, s, 64, func(g, n int) string { return "w" + strconv.Itoa((n*7919+g)%10_000) })
}

// BenchmarkDirect is the baseline: the same decisions on the state machine
// alone, one goroutine, no runtime.
func BenchmarkDirect(b *testing.B) {
	w := NewWallet("w0", DefaultLimits())
	at := time.Unix(1_800_000_000, 0)
	evs, _, _ := w.Execute(Grant{ID: "g", Amount: 1 << 60, Kind: "paid"}, at, nil)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		r, st := pair("d", n)
		var err *Error
		if evs, _, err = w.Execute(r, at, evs[:0]); err != nil {
			b.Fatal(err)
		}
		if evs, _, err = w.Execute(st, at, evs[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(2*b.N), "ns/decision")
}

// pipeline runs b.N reserve+settle pairs as streams in-flight request
// chains: each reply sends the stream's next request from the callback, as
// the NATS transport does (no goroutine parks per request).
func pipeline(b *testing.B, s *System, streams int, wallet func(stream, n int) string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	hists := make([]*hdrhistogram.Histogram, streams)
	wg.Add(streams)
	b.ResetTimer()
	start := time.Now()
	for g := range streams {
		hists[g] = hdrhistogram.New(100, 10_000_000_000, 2)
		prefix := strconv.Itoa(g) + "-"
		var step func()
		step = func() {
			n := int(next.Add(1))
			if n > b.N {
				wg.Done()
				return
			}
			w := wallet(g, n)
			r, st := pair(prefix, n)
			t0 := time.Now()
			s.Send(w, r, func(_ Reply, err *Error) {
				if err != nil {
					b.Error(err)
				}
				t1 := time.Now()
				_ = hists[g].RecordValue(t1.Sub(t0).Nanoseconds())
				s.Send(w, st, func(_ Reply, err *Error) {
					if err != nil {
						b.Error(err)
					}
					_ = hists[g].RecordValue(time.Since(t1).Nanoseconds())
					step()
				})
			})
		}
		go step()
	}
	wg.Wait()
	report(b, time.Since(start), hists)
}

func BenchmarkHotWallet64Streams(b *testing.B) {
	s := fundedSystem(b, 1)
	pipeline(b, s, 64, func(int, int) string { return "w0" })
	st := s.Stats()
	b.ReportMetric(float64(st.Events)/float64(max(st.Appends, 1)), "events/append")
}

func BenchmarkUniform10000Wallets64Streams(b *testing.B) {
	s := fundedSystem(b, 10_000)
	pipeline(b, s, 64, func(g, n int) string { return "w" + strconv.Itoa((n*7919+g)%10_000) })
}

// report stops the clock and reports decisions/s, the per-decision cost
// and the latency percentiles of all senders together.
func report(b *testing.B, elapsed time.Duration, hists []*hdrhistogram.Histogram) {
	b.StopTimer()
	all := hdrhistogram.New(100, 10_000_000_000, 2)
	for _, h := range hists {
		all.Merge(h)
	}
	b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(all.ValueAtQuantile(50)), "p50-ns")
	b.ReportMetric(float64(all.ValueAtQuantile(99)), "p99-ns")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(2*b.N), "ns/decision")
}

// BenchmarkDirect10000Wallets is the baseline of the 10,000-wallet runs:
// the same decisions spread over 10,000 wallets in the same order, on the
// state machines alone — so the ratio compares the runtime with the state
// machine on the same (cache-cold) working set, not with one hot wallet.
func BenchmarkDirect10000Wallets(b *testing.B) {
	const wallets = 10_000
	at := time.Unix(1_800_000_000, 0)
	ws := make([]*Wallet, wallets)
	var evs []Event
	for i := range ws {
		ws[i] = NewWallet("w"+strconv.Itoa(i), DefaultLimits())
		evs, _, _ = ws[i].Execute(Grant{ID: "g", Amount: 1 << 60, Kind: "paid"}, at, evs[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		w := ws[(n*7919)%wallets]
		r, st := pair("d", n)
		var err *Error
		if evs, _, err = w.Execute(r, at, evs[:0]); err != nil {
			b.Fatal(err)
		}
		if evs, _, err = w.Execute(st, at, evs[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(2*b.N), "ns/decision")
}
