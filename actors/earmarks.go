package actors

import "slices"

// subtractEarmarks appends earmarks minus take, without zeros, to out. It
// never writes to earmarks (see hold).
func subtractEarmarks(out, earmarks, take []Allocation) []Allocation {
	for _, e := range earmarks {
		for _, t := range take {
			if t.Grant == e.Grant {
				e.Amount -= t.Amount
			}
		}
		if e.Amount < 0 {
			panic("purser: taking more than a hold earmarked on " + e.Grant)
		}
		if e.Amount > 0 {
			out = append(out, e)
		}
	}
	return out
}

// mergeEarmarks returns a new slice with add merged into earmarks, sorted in
// burn-down order of their grants.
func (w *Wallet) mergeEarmarks(earmarks, add []Allocation) []Allocation {
	out := slices.Clone(earmarks)
next:
	for _, a := range add {
		for i := range out {
			if out[i].Grant == a.Grant {
				out[i].Amount = mustAdd(out[i].Amount, a.Amount)
				continue next
			}
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y Allocation) int {
		return compareBurn(w.mustGrant(x.Grant), w.mustGrant(y.Grant))
	})
	return out
}

// MergeAllocations adds b to a per grant, keeping first appearance order
// (the reply's allocations name each grant once).
func MergeAllocations(a, b []Allocation) []Allocation {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := slices.Clone(a)
next:
	for _, x := range b {
		for i := range out {
			if out[i].Grant == x.Grant {
				out[i].Amount += x.Amount
				continue next
			}
		}
		out = append(out, x)
	}
	return out
}
