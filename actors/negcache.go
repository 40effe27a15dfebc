package actors

import (
	"sync"
	"time"
)

// unknownWallets remembers wallet ids that have no journal, so a flood of
// requests for random ids costs one journal read per id, not one per
// request. Bounded in count (oldest forgotten first) and in time (an entry
// older than its TTL is not trusted, in case another node created the
// wallet).
type unknownWallets struct {
	mu      sync.Mutex
	entries map[string]unknownEntry
	// fifo is insertion order, for the count bound. A forgotten wallet's
	// slot stays until it ages out; its generation tells it from the slot
	// of the same wallet added again, which must not be dropped with it.
	fifo []fifoSlot
	gen  uint64
	max  int
	ttl  int64
}

type unknownEntry struct {
	until int64 // unix ns after which the entry is stale
	gen   uint64
}

type fifoSlot struct {
	wallet string
	gen    uint64
}

func newUnknownWallets(max int, ttl int64) *unknownWallets {
	return &unknownWallets{entries: make(map[string]unknownEntry), max: max, ttl: ttl}
}

// has reports a fresh entry for wallet; it reads the clock only for a
// wallet it holds.
func (u *unknownWallets) has(wallet string, now func() time.Time) bool {
	if u.max == 0 {
		return false
	}
	u.mu.Lock()
	e, ok := u.entries[wallet]
	u.mu.Unlock()
	return ok && now().UnixNano() < e.until
}

func (u *unknownWallets) add(wallet string, now int64) {
	if u.max == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.entries[wallet]
	if !ok {
		u.gen++
		e.gen = u.gen
		u.fifo = append(u.fifo, fifoSlot{wallet, e.gen})
	}
	e.until = now + u.ttl
	u.entries[wallet] = e
	// Forgotten wallets' slots count too, so the slots (and the entries,
	// never more than the slots) stay within max.
	for len(u.fifo) > u.max {
		old := u.fifo[0]
		u.fifo[0] = fifoSlot{}
		u.fifo = u.fifo[1:]
		if cur, ok := u.entries[old.wallet]; ok && cur.gen == old.gen {
			delete(u.entries, old.wallet)
		}
	}
}

// forget drops a wallet that is being created here.
func (u *unknownWallets) forget(wallet string) {
	if u.max == 0 {
		return
	}
	u.mu.Lock()
	delete(u.entries, wallet) // its fifo slot stays until it ages out
	u.mu.Unlock()
}
