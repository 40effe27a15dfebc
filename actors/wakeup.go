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

func (k *wakeups) add(wallet string, at int64) {
	k.mu.Lock()
	if e, ok := k.earliest[wallet]; ok && e <= at {
		k.mu.Unlock()
		return
	}
	k.earliest[wallet] = at
	heap.Push(&k.due, wake{at: at, wallet: wallet})
	first := k.due[0].wallet == wallet && k.due[0].at == at
	k.mu.Unlock()
	if first {
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
}

// wakeRetry is how long a wake-up refused for a full wallet table (or
// mailbox) waits before it is sent again.
const wakeRetry = time.Second

// retryIfRefused is a wake-up Tick's reply: refused as overloaded, it goes
// back on the list, so that the change is still applied with no traffic
// once there is room (until then a request applies it before its own).
func (k *wakeups) retryIfRefused(s *System, wallet string) ReplyFunc {
	return func(_ Reply, err *Error) {
		if err != nil && err.Code == ErrOverloaded {
			k.add(wallet, s.cfg.Now().Add(wakeRetry).UnixNano())
		}
	}
}

func (k *wakeups) run(s *System) {
	defer close(k.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := s.cfg.Now().UnixNano()
		var ready []string
		k.mu.Lock()
		for len(k.due) > 0 && k.due[0].at <= now {
			w := heap.Pop(&k.due).(wake)
			if k.earliest[w.wallet] == w.at {
				delete(k.earliest, w.wallet)
			}
			ready = append(ready, w.wallet)
		}
		next := int64(-1)
		if len(k.due) > 0 {
			next = k.due[0].at - now
		}
		k.mu.Unlock()
		for _, w := range ready {
			s.Send(w, Tick{}, k.retryIfRefused(s, w))
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
