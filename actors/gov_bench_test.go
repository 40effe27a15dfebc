package actors

// Benchmarks of governance (issue 6, "Speed"): the decision cost of a
// reserve by a 3-level principal with a cap and a rate at the root and at
// each level, against the same reserve on a wallet with no policies, in one
// run; and the memory a governed principal costs.
//
//	go test -run '^$' -bench 'Governed|GovernanceMemory' -benchmem ./actors/

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

const benchPath = "team:research/user:alice/agent:a1"

func benchPolicy() Policy {
	return Policy{Caps: []Cap{{Window: WindowDay, Limit: 1 << 60}},
		Rates: []Rate{{Window: WindowSecond, Requests: 1 << 40, Credits: 1 << 60}}}
}

func BenchmarkGovernedReserve(b *testing.B) {
	for _, governed := range []bool{false, true} {
		name := "policies=none"
		if governed {
			name = "policies=4levels"
		}
		b.Run(name, func(b *testing.B) {
			w, now := benchWallet(b, 10)
			if governed {
				ps := map[string]Policy{}
				for _, p := range []string{"*", "team:research", "team:research/user:alice", benchPath} {
					ps[p] = benchPolicy()
				}
				if _, _, err := w.Execute(Configure{ID: "cfg", Policies: ps}, now, nil); err != nil {
					b.Fatal(err)
				}
			}
			rids, xids := newBenchIDs("r", b.N), newBenchIDs("x", b.N)
			evs := make([]Event, 0, 16)
			k := benchBatch(10)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				at := now.Add(time.Duration(i) * time.Microsecond)
				var r Reply
				evs, r, _ = w.Execute(Reserve{ID: rids.at(i), Amount: 7, Principal: benchPath}, at, evs[:0])
				if !r.(ReserveReply).Allowed {
					b.Fatalf("denied: %+v", r)
				}
				if (i+1)%k == 0 || i == b.N-1 {
					b.StopTimer()
					for j := i - (i % k); j <= i; j++ {
						evs, _, _ = w.Execute(Release{ID: xids.at(j), HoldID: rids.at(j)}, at, evs[:0])
					}
					b.StartTimer()
				}
			}
		})
	}
}

// BenchmarkGovernanceMemory reports the heap a governed principal costs:
// 1,000 principals (the default MaxPolicies), each with a cap and a rate,
// each having reserved and settled once so that its counters and buckets
// are live. Principals without a policy cost nothing (see
// TestUngovernedPrincipalsCostNoState).
func BenchmarkGovernanceMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		w, now := benchWallet(b, 0)
		ps := map[string]Policy{}
		paths := make([]string, n)
		for i := range paths {
			paths[i] = "team:t" + strconv.Itoa(i%10) + "/user:u" + strconv.Itoa(i)
			ps[paths[i]] = benchPolicy()
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w.Execute(Configure{ID: "cfg", Policies: ps}, now, nil)
		for i, p := range paths {
			id := "r" + strconv.Itoa(i)
			w.Execute(Reserve{ID: id, Amount: 3, Principal: p}, now, nil)
			w.Execute(Settle{ID: "s" + strconv.Itoa(i), HoldID: id, Actual: 2, Final: true}, now, nil)
		}
		ps = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		// The id records of the reserves and settles are not governance:
		// measure them apart and subtract.
		w2, _ := benchWallet(b, 0)
		var b2, a2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&b2)
		for i := range paths {
			id := "r" + strconv.Itoa(i)
			w2.Execute(Reserve{ID: id, Amount: 3}, now, nil)
			w2.Execute(Settle{ID: "s" + strconv.Itoa(i), HoldID: id, Actual: 2, Final: true}, now, nil)
		}
		runtime.GC()
		runtime.ReadMemStats(&a2)
		gov := int64(after.HeapAlloc-before.HeapAlloc) - int64(a2.HeapAlloc-b2.HeapAlloc)
		b.ReportMetric(float64(gov)/n, "B/principal")
		runtime.KeepAlive(w)
		runtime.KeepAlive(w2)
	}
}
