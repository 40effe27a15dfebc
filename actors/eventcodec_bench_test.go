package actors

import (
	"fmt"
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

// BenchmarkEventCodec encodes and decodes typical batches with the
// hand-written codec and with the library by reflection (the codec before
// it), side by side: one reserve's batch (a HoldPlaced), and a batch of 100
// reserves and their settles (a replay reads such batches back to back).
//
//	go test -run '^$' -bench BenchmarkEventCodec -benchmem -benchtime 1s -count 3 ./actors/
func BenchmarkEventCodec(b *testing.B) {
	batches := []struct {
		name string
		evs  []Event
	}{
		{"HoldPlaced", reserveSettleBatch(b, 1, false)},
		{"100xHoldPlaced+Settled", reserveSettleBatch(b, 100, true)},
	}
	codecs := []struct {
		name string
		enc  func([]byte, []Event) ([]byte, error)
		dec  func([]byte) ([]Event, error)
	}{
		{"reflect", appendEventsReflect, decodeEventsReflect},
		{"hand", AppendEvents, DecodeEvents},
	}
	for _, batch := range batches {
		data, err := AppendEvents(nil, batch.evs)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range codecs {
			b.Run(batch.name+"/encode/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := c.enc(nil, batch.evs); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(batch.name+"/decode/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := c.dec(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// reserveSettleBatch is n reserves' events on a wallet with two grants,
// each followed by its settle's with settle.
func reserveSettleBatch(b *testing.B, n int, settle bool) []Event {
	w := NewWallet("bench", DefaultLimits())
	now := time.Unix(1_700_000_000, 0)
	for _, g := range []Grant{{ID: "promo-1", Amount: 50, Kind: "promotional"}, {ID: "paid-1", Amount: 1_000_000, Kind: "paid"}} {
		if _, _, err := w.Execute(g, now, nil); err != nil {
			b.Fatal(err)
		}
	}
	var evs []Event
	for i := range n {
		hold := fmt.Sprintf("req-%08d", i)
		var err *Error
		if evs, _, err = w.Execute(Reserve{ID: hold, Amount: 100, Principal: "team:1/user:7", Feature: "chat"}, now, evs); err != nil {
			b.Fatal(err)
		}
		if !settle {
			continue
		}
		if evs, _, err = w.Execute(Settle{ID: "s-" + hold, HoldID: hold, Actual: 60, Final: true}, now, evs); err != nil {
			b.Fatal(err)
		}
	}
	return evs
}
