package actors

import (
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

// Sum128 adds without loss, and its percent is ⌊sum·pct/100⌋ exactly,
// saturating at MaxInt64: checked against math/big.
func TestSum128PercentIsExact(t *testing.T) {
	edge := rapid.SampledFrom([]int64{0, 1, 99, 100, math.MaxInt64 / 100, math.MaxInt64 - 1, math.MaxInt64})
	amount := rapid.OneOf(edge, rapid.Int64Min(0))
	rapid.Check(t, func(t *rapid.T) {
		var s Sum128
		want := new(big.Int)
		for _, a := range rapid.SliceOfN(amount, 0, 40).Draw(t, "amounts") {
			s = s.add(a)
			want.Add(want, big.NewInt(a))
		}
		got := new(big.Int).Lsh(new(big.Int).SetUint64(s.Hi), 64)
		if got.Add(got, new(big.Int).SetUint64(s.Lo)); got.Cmp(want) != 0 {
			t.Fatalf("sum %v, want %v", got, want)
		}
		pct := rapid.OneOf(rapid.SampledFrom([]int64{0, 1, 49, 50, 51, 99, 100, 101, math.MaxInt64}), rapid.Int64Min(0)).Draw(t, "pct")
		exact := new(big.Int).Mul(want, big.NewInt(pct))
		exact.Quo(exact, big.NewInt(100))
		if exact.Cmp(big.NewInt(math.MaxInt64)) > 0 {
			exact.SetInt64(math.MaxInt64)
		}
		if p := s.percent(pct); p != exact.Int64() {
			t.Fatalf("percent(%d) of %v = %d, want %v", pct, want, p, exact)
		}
	})
}
