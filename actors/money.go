package actors

import (
	"math"
	"math/bits"
)

// Amounts are int64 counts of the wallet's smallest credit unit. Every sum
// goes through these: an overflow is an outcome (amount_overflow), never a
// wrapped balance.

func addOK(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// mustAdd is for sums that validation already proved cannot overflow; a
// failure is a broken invariant, i.e. a bug.
func mustAdd(a, b int64) int64 {
	s, ok := addOK(a, b)
	if !ok {
		panic("purser: amount overflow past validation")
	}
	return s
}

// percentOf returns ⌊a·pct/100⌋ for non-negative inputs, saturating at
// MaxInt64 instead of overflowing.
func percentOf(a, pct int64) int64 {
	if a <= 0 || pct <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(pct))
	if hi >= 100 {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, 100)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// saturatingAdd adds non-negative amounts, stopping at MaxInt64.
func saturatingAdd(a, b int64) int64 {
	if s, ok := addOK(a, b); ok {
		return s
	}
	return math.MaxInt64
}
