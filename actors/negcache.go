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
	mu    sync.Mutex
	until map[string]int64 // wallet -> unix ns after which the entry is stale
	fifo  []string         // insertion order, for the count bound
	max   int
	ttl   int64
}

func newUnknownWallets(max int, ttl int64) *unknownWallets {
	return &unknownWallets{until: make(map[string]int64), max: max, ttl: ttl}
}

// has reports a fresh entry for wallet; it reads the clock only for a
// wallet it holds.
func (u *unknownWallets) has(wallet string, now func() time.Time) bool {
	if u.max == 0 {
		return false
	}
	u.mu.Lock()
	t, ok := u.until[wallet]
	u.mu.Unlock()
	return ok && now().UnixNano() < t
}

func (u *unknownWallets) add(wallet string, now int64) {
	if u.max == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.until[wallet]; !ok {
		u.fifo = append(u.fifo, wallet)
	}
	u.until[wallet] = now + u.ttl
	for len(u.fifo) > u.max {
		old := u.fifo[0]
		u.fifo[0] = ""
		u.fifo = u.fifo[1:]
		delete(u.until, old)
	}
}

// forget drops a wallet that is being created here.
func (u *unknownWallets) forget(wallet string) {
	if u.max == 0 {
		return
	}
	u.mu.Lock()
	delete(u.until, wallet) // its fifo slot stays until it ages out
	u.mu.Unlock()
}
