package actors

import (
	"container/heap"
	"sync"
	"time"
)

// wakeups remembers when passivated wallets have a time-driven change due
// (a grant activating or expiring), and sends them a Tick then. It lets a
// wallet with a grant expiring next month leave memory today; a wallet with
// open holds stays in memory with its own timer. One goroutine and one
// timer for the whole node.
//
// earliest holds each listed wallet's earliest time: a wallet passivated
// again with a change due no sooner adds nothing, so the heap holds about
// one entry per passivated wallet, not one per passivation. (An entry left
// behind by an earlier time sends a Tick that finds nothing due.)
type wakeups struct {
	mu       sync.Mutex
	due      wakeHeap
	earliest map[string]int64
	kick     chan struct{}
	quit     chan struct{}
	done     chan struct{}
}

type wake struct {
	at     int64
	wallet string
	tries  int // failed loads so far: the next retry waits longer
}

type wakeHeap []wake

func (h wakeHeap) Len() int           { return len(h) }
func (h wakeHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h wakeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *wakeHeap) Push(x any)        { *h = append(*h, x.(wake)) }
func (h *wakeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *System) startWakeups() {
	s.wake = &wakeups{earliest: make(map[string]int64),
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go s.wake.run(s)
}

func (k *wakeups) add(wallet string, at int64) { k.push(wake{at: at, wallet: wallet}) }

func (k *wakeups) push(w wake) {
	wallet, at := w.wallet, w.at
	k.mu.Lock()
	if e, ok := k.earliest[wallet]; ok && e <= at {
		k.mu.Unlock()
		return
	}
	k.earliest[wallet] = at
	heap.Push(&k.due, w)
	first := k.due[0].wallet == wallet && k.due[0].at == at
	k.mu.Unlock()
	if first {
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
}

// A wake-up that could not activate its wallet goes back on the list:
// with no traffic the change must still be applied once it can be (until
// then a request applies it before its own). Refused for room, it is tried
// again every second: a refusal costs no I/O, and a woken wallet with
// nothing open leaves memory at once, so wake-ups do not keep a table
// full. A load that failed backs off from a second to a minute, not to
// press a journal that is failing.
const (
	wakeRetry    = time.Second
	wakeRetryMax = time.Minute
)

// retry puts w back on the list after a refusal; backoff after a failed
// load.
func (k *wakeups) retry(s *System, w wake, backoff bool) {
	if s.closing.Load() {
		return
	}
	if backoff {
		w.tries++
	}
	wait := min(wakeRetry<<min(w.tries, 16), wakeRetryMax)
	w.at = s.cfg.Now().Add(wait).UnixNano()
	k.push(w)
}

func (k *wakeups) run(s *System) {
	defer close(k.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := s.cfg.Now().UnixNano()
		var ready []wake
		k.mu.Lock()
		for len(k.due) > 0 && k.due[0].at <= now {
			w := heap.Pop(&k.due).(wake)
			if k.earliest[w.wallet] == w.at {
				delete(k.earliest, w.wallet)
			}
			ready = append(ready, w)
		}
		next := int64(-1)
		if len(k.due) > 0 {
			next = k.due[0].at - now
		}
		k.mu.Unlock()
		for _, w := range ready {
			s.activate(w.wallet, func(err *Error) {
				if err != nil && (err.Code == ErrOverloaded || err.Code == ErrUnavailable) {
					k.retry(s, w, err.Code == ErrUnavailable)
				}
			})
		}
		if next >= 0 {
			t.Reset(time.Duration(next))
		} else {
			t.Stop()
		}
		select {
		case <-t.C:
		case <-k.kick:
		case <-k.quit:
			return
		}
	}
}

func (k *wakeups) stop() {
	close(k.quit)
	<-k.done
}
