package actors

import (
	"testing"
	"time"
)

// BenchmarkAppendEvents encodes one reserve's events, as the journal does
// for every actor batch of one reserve.
//
//	go test -run '^$' -bench BenchmarkAppendEvents -benchmem ./actors/
func BenchmarkAppendEvents(b *testing.B) {
	w := NewWallet("bench", DefaultLimits())
	now := time.Unix(1_700_000_000, 0)
	if _, _, err := w.Execute(Grant{ID: "g1", Amount: 1_000_000, Kind: "paid"}, now, nil); err != nil {
		b.Fatal(err)
	}
	evs, _, err := w.Execute(Reserve{ID: "r1", Amount: 100}, now, nil)
	if err != nil || len(evs) == 0 {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendEvents(nil, evs); err != nil {
			b.Fatal(err)
		}
	}
}
