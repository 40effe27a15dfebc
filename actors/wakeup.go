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
// timer for the whole node; one heap entry per passivated wallet.
type wakeups struct {
	mu   sync.Mutex
	due  wakeHeap
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
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
	s.wake = &wakeups{kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go s.wake.run(s)
}

func (k *wakeups) add(wallet string, at int64) {
	k.mu.Lock()
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

func (k *wakeups) run(s *System) {
	defer close(k.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := s.cfg.Now().UnixNano()
		var ready []string
		k.mu.Lock()
		for len(k.due) > 0 && k.due[0].at <= now {
			ready = append(ready, heap.Pop(&k.due).(wake).wallet)
		}
		next := int64(-1)
		if len(k.due) > 0 {
			next = k.due[0].at - now
		}
		k.mu.Unlock()
		for _, w := range ready {
			s.Send(w, Tick{}, nil)
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
