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

// saturatingAdd adds non-negative amounts, stopping at MaxInt64.
func saturatingAdd(a, b int64) int64 {
	if s, ok := addOK(a, b); ok {
		return s
	}
	return math.MaxInt64
}

// Sum128 is a non-negative sum of amounts that may pass MaxInt64: the base
// of an overdraft percent adds the original amounts of every active grant,
// spent non-expiring ones included, without bound (SPEC §4), and a limit
// computed from a saturated base would be too low. Hi·2⁶⁴ + Lo.
type Sum128 struct{ Hi, Lo uint64 }

// Sum128Of is a as a Sum128; a must not be negative.
func Sum128Of(a int64) Sum128 { return Sum128{Lo: uint64(a)} }

// add adds a non-negative amount. 2¹²⁸ is out of reach: it would take 2⁶⁵
// grants of MaxInt64.
func (s Sum128) add(a int64) Sum128 {
	lo, carry := bits.Add64(s.Lo, uint64(a), 0)
	return Sum128{Hi: s.Hi + carry, Lo: lo}
}

// percent returns ⌊s·pct/100⌋ for a non-negative pct, saturating at
// MaxInt64: ⌊s/100⌋·pct + ⌊(s mod 100)·pct/100⌋.
func (s Sum128) percent(pct int64) int64 {
	if pct <= 0 {
		return 0
	}
	qHi, r := bits.Div64(0, s.Hi, 100)
	qLo, r := bits.Div64(r, s.Lo, 100)
	if qHi != 0 {
		return math.MaxInt64
	}
	hi, whole := bits.Mul64(qLo, uint64(pct))
	if hi != 0 || whole > math.MaxInt64 {
		return math.MaxInt64
	}
	rHi, rLo := bits.Mul64(r, uint64(pct))
	part, _ := bits.Div64(rHi, rLo, 100) // r < 100, so part < pct
	if v, ok := addOK(int64(whole), int64(part)); ok {
		return v
	}
	return math.MaxInt64
}
