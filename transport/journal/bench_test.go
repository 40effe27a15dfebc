package journal

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/purser-dev/purser/actors"
)

// BenchmarkAppend measures durable appends/s with fsync on every write:
// 1,000 wallets, 64 appenders that each behave like actors (one append in
// flight per wallet, the next fenced on the last position). It compares
// one fenced publish per append with atomic batches, staged by the server
// on disk (its default) or on a tmpfs (embedded.Config.BatchStagingDir),
// at several MinBatch and pipeline depths; docs/journal.md records the
// figures.
//
//	go test -run '^$' -bench BenchmarkAppend -benchtime 20000x ./transport/journal/
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct {
		name   string
		staged bool
		cfg    Config
	}{
		{"disk/single", false, Config{Mode: ModeSingle}},
		{"disk/batch/min16/inflight2", false, Config{MinBatch: 16, MaxInflight: 2}},
		{"disk/batch/min1/inflight1", false, Config{MinBatch: 1, MaxInflight: 1}},
		{"staged/batch/min16/inflight2", true, Config{MinBatch: 16, MaxInflight: 2}},
		{"staged/batch/min4/inflight2", true, Config{MinBatch: 4, MaxInflight: 2}},
		{"staged/batch/min2/inflight2", true, Config{MinBatch: 2, MaxInflight: 2}},
		{"staged/batch/min1/inflight1", true, Config{MinBatch: 1, MaxInflight: 1}},
		{"staged/batch/min1/inflight2", true, Config{MinBatch: 1, MaxInflight: 2}},
		{"staged/batch/min1/inflight4", true, Config{MinBatch: 1, MaxInflight: 4}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := startEnvStaged(b, b.TempDir(), c.staged)
			benchAppend(b, e, c.cfg, 1000, 64)
		})
	}
	b.Run("groupsync", func(b *testing.B) {
		e := startEnvSetup(b, b.TempDir(), setup{groupSync: true})
		benchAppend(b, e, Config{}, 1000, 64)
	})
}

func benchAppend(b *testing.B, e *env, cfg Config, wallets, appenders int) {
	j, _ := e.open(b, cfg)
	cfg = j.cfg
	evs := reserveEvents(b)
	prev := make([]uint64, wallets)
	locks := make([]sync.Mutex, wallets)
	lat := make([][]time.Duration, appenders)
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := make(chan result, 1)
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				// Appender a serves wallets a, a+appenders, ...: each wallet
				// has one append in flight, like an actor.
				w := (a + int(i)*appenders) % wallets
				locks[w].Lock()
				t0 := time.Now()
				j.Append(walletID(w), prev[w], evs, func(pos uint64, err error) { ch <- result{pos, err} })
				r := <-ch
				lat[a] = append(lat[a], time.Since(t0))
				if r.err != nil {
					failed.Add(1)
				} else {
					prev[w] = r.pos
				}
				locks[w].Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d appends failed", n)
	}
	st := j.Stats()
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	if st.Syncs > 0 {
		b.ReportMetric(float64(st.SyncTime.Microseconds())/float64(st.Syncs), "us/sync")
	}
	writes := st.Batches
	if cfg.Mode == ModeGroupSync {
		writes = st.Syncs
	}
	b.ReportMetric(float64(st.Messages)/float64(max(writes, 1)), "appends/write")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func walletID(w int) string { return fmt.Sprintf("wallet-%d", w) }

// reserveEvents is a typical actor batch: one reserve's events.
func reserveEvents(tb testing.TB) []actors.Event {
	s := newScript("bench")
	s.next(tb) // grant
	return s.next(tb)
}

// BenchmarkAtomicBatchSize isolates the server's cost of one atomic batch
// by size (sequential, one client, fsync always), staged on disk (the
// server's default) and on a tmpfs: the fixed per-batch cost of on-disk
// staging is why small groups go out as plain publishes there
// (Config.MinBatch).
//
//	go test -run '^$' -bench BenchmarkAtomicBatchSize -benchtime 40x ./transport/journal/
func BenchmarkAtomicBatchSize(b *testing.B) {
	for _, su := range batchSetups {
		for _, k := range []int{1, 2, 16, 64, 256, 512} {
			b.Run(fmt.Sprintf("%s/msgs%d", su.name, k), func(b *testing.B) {
				benchBatchSize(b, su.staged, k)
			})
		}
	}
}

func benchBatchSize(b *testing.B, staged bool, k int) {
	e := startEnvStaged(b, b.TempDir(), staged)
	_, js := e.open(b, Config{})
	ctx := context.Background()
	data := make([]byte, 200)
	b.ResetTimer()
	for range b.N {
		msgs := make([]*nats.Msg, k)
		for i := range msgs {
			msgs[i] = &nats.Msg{Subject: fmt.Sprintf("%s.1.w%d", DefaultPrefix, i), Data: data, Header: nats.Header{}}
		}
		var err error
		if k == 1 {
			_, err = js.PublishMsg(ctx, msgs[0])
		} else {
			_, err = jetstreamext.PublishMsgBatch(ctx, js, msgs, jetstreamext.BatchFlowControl{})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(k*b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/batch")
}
