package actors

import "math/bits"

// gcra is one rate-limit bucket (the Generic Cell Rate Algorithm): a limit
// of n units per window of t ns refills continuously at n/t and holds at
// most n, so n units pass back to back from a full bucket. The state is the
// theoretical arrival time TAT = tat + frac/n ns: the bucket is full when
// TAT <= now, and a take of cost units moves TAT to max(TAT, now) + cost·t/n.
// A take passes when the new TAT is at most now + t.
//
// TAT is kept exact (frac in units of 1/n ns), so neither a limit of a
// billion credits per second (under a ns per credit) nor 5 per day loses
// anything to rounding, and replay folds the same integers. Only Apply
// stores a bucket, at the time of the event that took from it; Decide
// evaluates a copy. Time comes only from events and commands, never a clock.
type gcra struct {
	tat  int64 // unix ns
	frac int64 // 0 <= frac < n
	n    int64 // the limit frac is counted in (the limit when last taken)
}

// take returns the bucket after taking cost units at time at under a limit
// of n per t ns; ok is false when it would not pass, and wait is then how
// long (ns) until it would, or -1 when it never can (cost > n).
func (b gcra) take(cost, n, t, at int64) (next gcra, ok bool, wait int64) {
	if cost > n {
		return b, false, -1
	}
	s := b.advance(cost, n, t, at)
	limit := at + t
	if s.tat < limit || s.tat == limit && s.frac == 0 {
		return s, true, 0
	}
	wait = s.tat - limit
	if s.frac > 0 {
		wait++
	}
	return b, false, wait
}

// advance is the bucket after a take that was decided to pass (Apply
// books it without judging it again). cost <= n.
func (b gcra) advance(cost, n, t, at int64) gcra {
	if cost > n {
		panic("purser: a take past a rate's whole limit was booked")
	}
	s := b.start(n, at)
	hi, lo := bits.Mul64(uint64(cost), uint64(t))
	q, r := bits.Div64(hi, lo, uint64(n)) // hi < n: cost <= n and t < 2^64
	s.tat += int64(q)
	s.frac += int64(r)
	if s.frac >= n {
		s.tat++
		s.frac -= n
	}
	return s
}

// rescale is the bucket at at when its rate's limit (of the same window
// t) goes from old to n: the units it is short of full stay short, so a
// limit raised after two of two were taken has its new limit less two, and
// one lowered below what was taken is empty. TAT − at = backlog·t/limit,
// so the backlog time scales by old over n, in exact integers, capped at
// the window (an empty bucket). The bucket is first read as the old limit
// reads it (start): it may still carry a limit from before a configure
// that did not rescale. n <= 0 (no such limit) leaves a full bucket.
func (b gcra) rescale(old, n, t, at int64) gcra {
	if old == n || old <= 0 || b.n == 0 {
		return b
	}
	if b = b.start(old, at); b.tat == at && b.frac == 0 {
		return b // full
	}
	if n <= 0 {
		return gcra{}
	}
	// ((tat − at)·n_old + frac) / n, in units of 1/n ns.
	hi, lo := bits.Mul64(uint64(b.tat-at), uint64(b.n))
	lo, carry := bits.Add64(lo, uint64(b.frac), 0)
	hi += carry
	if hi >= uint64(n) { // the quotient passes 2^64: far past the window
		return gcra{tat: at + t, n: n}
	}
	q, r := bits.Div64(hi, lo, uint64(n))
	if q >= uint64(t) {
		return gcra{tat: at + t, n: n}
	}
	return gcra{tat: at + int64(q), frac: int64(r), n: n}
}

// start is the bucket as of at under limit n: a TAT in the past is now (a
// full bucket). A changed limit rescales nothing but drops the fraction,
// moving TAT back by under 1/n ns.
func (b gcra) start(n, at int64) gcra {
	if b.n != n {
		b.frac, b.n = 0, n
	}
	if b.tat < at {
		b.tat, b.frac = at, 0
	}
	return b
}

// available is how many units would pass back to back at time at:
// ⌊(at + t − TAT)·n / t⌋.
func (b gcra) available(n, t, at int64) int64 {
	s := b.start(n, at)
	d := at + t - s.tat
	if d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), uint64(n))
	lo2, borrow := bits.Sub64(lo, uint64(s.frac), 0)
	hi -= borrow
	q, _ := bits.Div64(hi, lo2, uint64(t)) // d <= t, so the quotient fits
	return int64(min(q, uint64(n)))
}

// retryMs rounds a wait in ns up to whole milliseconds (at least 1).
func retryMs(wait int64) int64 {
	return max(1, (wait+999_999)/1_000_000)
}
