package loadtest

import "sync"

// crew runs a burst's parallel requests on goroutines that outlive the
// tick. A goroutine started per request begins on a small stack and grows
// it (a copy) inside the client's decoder every time: measured with perf,
// that was about a sixth of the load generator's CPU in 50-wide bursts,
// and the load generator shares the machine with the node it measures.
type crew struct {
	f     func(int)
	lanes []chan int
	wg    sync.WaitGroup
}

// run calls f(0) … f(n-1) at once, one per lane, and waits for them all.
// One caller at a time.
func (c *crew) run(n int, f func(int)) {
	c.f = f // read by the lanes after they receive: the send orders it
	for len(c.lanes) < n {
		ch := make(chan int, 1)
		c.lanes = append(c.lanes, ch)
		go c.lane(ch)
	}
	c.wg.Add(n)
	for i := range n {
		c.lanes[i] <- i
	}
	c.wg.Wait()
	c.f = nil
}

func (c *crew) lane(ch chan int) {
	for i := range ch {
		c.f(i)
		c.wg.Done()
	}
}

// stop ends the lanes; run must not be called after it.
func (c *crew) stop() {
	for _, ch := range c.lanes {
		close(ch)
	}
	c.lanes = nil
}
