package actors

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// A small wallet costs little: a node keeps up to MaxActors (200,000)
// wallets in memory, most with a grant and a handful of remembered ids,
// so tables sized for a hot wallet up front would be gigabytes.
func TestSmallWalletMemory(t *testing.T) {
	const wallets = 2_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ws := make([]*Wallet, wallets)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []Event
	for i := range ws {
		w := NewWallet("w"+strconv.Itoa(i), DefaultLimits())
		evs, _, _ = w.Execute(Grant{ID: "g", Amount: 1000, Kind: "paid"}, now, evs[:0])
		evs, _, _ = w.Execute(Reserve{ID: "r", Amount: 7}, now, evs[:0])
		evs, _, _ = w.Execute(Settle{ID: "s", HoldID: "r", Actual: 5, Final: true}, now, evs[:0])
		ws[i] = w
	}
	evs = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / wallets
	t.Logf("%.0f bytes per wallet with a grant and three remembered ids", per)
	if per > 8_000 {
		t.Fatalf("%.0f bytes per small wallet", per)
	}
	runtime.KeepAlive(ws)
}
