package actors

import "sync"

// mailbox is a bounded FIFO of requests for one actor. Its ring grows on
// demand up to max and shrinks back when drained, so an idle wallet costs a
// few hundred bytes, not max slots (200,000 wallets × a 4,096-slot channel
// would be gigabytes). Offer never blocks: full is an answer (overloaded).
type mailbox struct {
	mu     sync.Mutex
	ring   []request
	head   int
	n      int
	max    int
	signal chan struct{} // one token: "there is something to drain"
	// left is how many requests the last drain left queued: the actor,
	// the only drainer, reports it without taking the lock again.
	left int
}

const mailboxMinRing = 8

// mailboxKeepRing is the largest ring a drained mailbox keeps (24 bytes a
// slot).
const mailboxKeepRing = 256

func newMailbox(max int) *mailbox {
	return &mailbox{max: max, signal: make(chan struct{}, 1)}
}

func (m *mailbox) offer(r request) bool {
	m.mu.Lock()
	if m.n == m.max {
		m.mu.Unlock()
		return false
	}
	if m.n == len(m.ring) {
		m.resize(min(max(2*len(m.ring), mailboxMinRing), m.max))
	}
	m.ring[(m.head+m.n)%len(m.ring)] = r
	m.n++
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
	return true
}

// drain appends up to limit requests to batch, oldest first.
func (m *mailbox) drain(batch []request, limit int) []request {
	m.mu.Lock()
	drained := len(batch)
	for m.n > 0 && len(batch) < limit {
		batch = append(batch, m.ring[m.head])
		m.ring[m.head] = request{}
		m.head = (m.head + 1) % len(m.ring)
		m.n--
	}
	drained = len(batch) - drained
	m.left = m.n
	if m.n == 0 {
		m.head = 0
		// A burst is over: give its memory back, unless the ring is small
		// and was a quarter full — a busy wallet would only grow it again,
		// one doubling at a time, on its next batch.
		if len(m.ring) > 4*mailboxMinRing && (len(m.ring) > mailboxKeepRing || 4*drained < len(m.ring)) {
			m.ring = nil
		}
	} else {
		// More is waiting: keep the token so the actor comes back.
		select {
		case m.signal <- struct{}{}:
		default:
		}
	}
	m.mu.Unlock()
	return batch
}

func (m *mailbox) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

func (m *mailbox) resize(size int) {
	ring := make([]request, size)
	for i := range m.n {
		ring[i] = m.ring[(m.head+i)%len(m.ring)]
	}
	m.ring, m.head = ring, 0
}
