package actors

// Random values of every event type for the codec's tests: numbers at the
// edges of each msgpack width, strings at the edges of each length form,
// nil and empty lists and maps, typed nil events, governance anywhere.

import (
	"bytes"
	"reflect"

	"pgregory.net/rapid"
)

func genEvent(t *rapid.T) Event {
	h := Head{Seq: genU64(t, "seq"), At: genI64(t, "at")}
	var e Event
	switch kind := rapid.IntRange(int(kindGrantCreated), int(kindConfigured)).Draw(t, "kind"); uint8(kind) {
	case kindGrantCreated:
		e = &GrantCreated{Head: h, Grant: genStr(t, "grant"), Kind: genStr(t, "kind"), Priority: genI64(t, "p"),
			Amount: genI64(t, "m"), EffectiveAt: genI64(t, "e"), ExpiresAt: genI64(t, "x"), Meta: genMeta(t),
			Answer: genAnswer(t)}
	case kindGrantActivated:
		e = &GrantActivated{Head: h, Grant: genStr(t, "grant")}
	case kindDebtRepaid:
		e = &DebtRepaid{Head: h, Allocations: genAllocs(t, "a")}
	case kindHoldPlaced:
		e = &HoldPlaced{Head: h, Hold: genStr(t, "hold"), Amount: genI64(t, "m"), ExpiresAt: genI64(t, "x"),
			OnExpiry: OnExpiry(genU64(t, "oe")), Principal: genStr(t, "pr"), Feature: genStr(t, "f"),
			Meta: genMeta(t), Earmarks: genAllocs(t, "a"), Answer: genAnswer(t)}
	case kindAuthorized:
		e = &Authorized{Head: h, Amount: genI64(t, "m"), Principal: genStr(t, "pr"), Feature: genStr(t, "f"),
			Answer: genAnswer(t)}
	case kindHoldExtended:
		e = &HoldExtended{Head: h, Hold: genStr(t, "hold"), ExpiresAt: genI64(t, "x"), Earmarks: genAllocs(t, "a"),
			Answer: genAnswer(t)}
	case kindSettled:
		e = &Settled{Head: h, Hold: genStr(t, "hold"), FromHold: genAllocs(t, "fh"), FromFree: genAllocs(t, "ff"),
			DebtAdded: genI64(t, "d"), Returned: genAllocs(t, "rt"), Closes: rapid.Bool().Draw(t, "c"),
			Late: rapid.Bool().Draw(t, "l"), Answer: genAnswer(t)}
	case kindReleased:
		e = &Released{Head: h, Hold: genStr(t, "hold"), Returned: genAllocs(t, "rt"), Answer: genAnswer(t)}
	case kindHoldExpired:
		e = &HoldExpired{Head: h, Hold: genStr(t, "hold"), Capture: rapid.Bool().Draw(t, "c"),
			Returned: genAllocs(t, "rt")}
	case kindDebited:
		e = &Debited{Head: h, Amount: genI64(t, "m"), FromFree: genAllocs(t, "ff"), DebtAdded: genI64(t, "d"),
			Principal: genStr(t, "pr"), Feature: genStr(t, "f"), Meta: genMeta(t), Answer: genAnswer(t)}
	case kindGrantExpired:
		e = &GrantExpired{Head: h, Grant: genStr(t, "grant"), Amount: genI64(t, "m"), Closes: rapid.Bool().Draw(t, "c")}
	case kindRevoked:
		e = &Revoked{Head: h, Grant: genStr(t, "grant"), Amount: genI64(t, "m"), Closes: rapid.Bool().Draw(t, "c"),
			Answer: genAnswer(t)}
	case kindConfigured:
		e = &Configured{Head: h, Settings: Settings{Mode: Mode(genU64(t, "mo")), OverdraftLimit: genI64(t, "ol"),
			OverdraftPercent: genI64(t, "op"), PercentSet: rapid.Bool().Draw(t, "ps"), DefaultTTLms: genI64(t, "tt"),
			Suspended: rapid.Bool().Draw(t, "su")}, Governance: genGov(t), Answer: genAnswer(t)}
	}
	if rapid.IntRange(0, 49).Draw(t, "typed nil") == 0 {
		e = reflect.Zero(reflect.TypeOf(e)).Interface().(Event)
	}
	return e
}

// intEdges are the first and last values of each msgpack integer form.
var intEdges = []int64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<63 - 1,
	-1, -32, -33, -128, -129, -32768, -32769, -1 << 31, -1<<31 - 1, -1 << 63}

func genI64(t *rapid.T, label string) int64 {
	switch rapid.IntRange(0, 3).Draw(t, label+" form") {
	case 0:
		return 0
	case 1:
		return rapid.SampledFrom(intEdges).Draw(t, label)
	case 2:
		return rapid.Int64Range(-300, 300).Draw(t, label)
	}
	return rapid.Int64().Draw(t, label)
}

func genU64(t *rapid.T, label string) uint64 {
	if rapid.IntRange(0, 9).Draw(t, label+" top") == 0 {
		return rapid.Uint64().Draw(t, label)
	}
	return uint64(genI64(t, label))
}

// genStr draws from a few names most of the time, so that the decoder's
// reuse of recent names is exercised, and at each length form's edges.
func genStr(t *rapid.T, label string) string {
	switch rapid.IntRange(0, 9).Draw(t, label+" form") {
	case 0:
		n := rapid.SampledFrom([]int{31, 32, 255, 256, 65535, 65536}).Draw(t, label+" len")
		return string(bytes.Repeat([]byte{'x'}, n))
	case 1:
		return rapid.String().Draw(t, label)
	case 2:
		return ""
	}
	return rapid.SampledFrom([]string{"g1", "g2", "h1", "r1", "t:0/u:1", "chat"}).Draw(t, label)
}

func genAllocs(t *rapid.T, label string) []Allocation {
	switch rapid.IntRange(0, 3).Draw(t, label+" form") {
	case 0:
		return nil
	case 1:
		return []Allocation{}
	}
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Allocation {
		return Allocation{Grant: genStr(t, "grant"), Amount: genI64(t, "amount")}
	}), 1, 5).Draw(t, label)
}

func genMeta(t *rapid.T) Meta {
	switch rapid.IntRange(0, 3).Draw(t, "meta form") {
	case 0:
		return nil
	case 1:
		return Meta{}
	}
	return rapid.MapOfN(rapid.Custom(func(t *rapid.T) string { return genStr(t, "key") }),
		rapid.Custom(func(t *rapid.T) string { return genStr(t, "value") }), 1, 3).Draw(t, "meta")
}

func genAnswer(t *rapid.T) Answer {
	a := Answer{ID: genStr(t, "id"), Op: opCode(genU64(t, "op")), Hash: genU64(t, "hash"), Allocs: genAllocs(t, "allocs")}
	for i := range a.N {
		a.N[i] = genI64(t, "n")
	}
	if rapid.IntRange(0, 9).Draw(t, "answer gov") == 0 {
		a.Gov = genGov(t)
	}
	return a
}

func genGov(t *rapid.T) *Governance {
	if rapid.IntRange(0, 3).Draw(t, "gov form") == 0 {
		return nil
	}
	g := &Governance{}
	if rapid.Bool().Draw(t, "has policies") {
		g.Policies = rapid.MapOfN(rapid.Custom(func(t *rapid.T) string { return genStr(t, "path") }),
			rapid.Custom(genPolicy), 0, 3).Draw(t, "policies")
	}
	if rapid.Bool().Draw(t, "has features") {
		g.Features = rapid.MapOfN(rapid.Custom(func(t *rapid.T) string { return genStr(t, "feature") }),
			rapid.Custom(genFeature), 0, 3).Draw(t, "features")
	}
	return g
}

func genPolicy(t *rapid.T) Policy {
	var p Policy
	if rapid.Bool().Draw(t, "has caps") {
		p.Caps = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Cap {
			return Cap{Window: Window(genU64(t, "w")), Limit: genI64(t, "l")}
		}), 0, 3).Draw(t, "caps")
	}
	if rapid.Bool().Draw(t, "has rates") {
		p.Rates = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Rate {
			return Rate{Window: Window(genU64(t, "w")), Requests: genI64(t, "r"), Credits: genI64(t, "c")}
		}), 0, 3).Draw(t, "rates")
	}
	return p
}

func genFeature(t *rapid.T) Feature {
	f := Feature{Enabled: rapid.Bool().Draw(t, "enabled")}
	if rapid.Bool().Draw(t, "limited") {
		f.Limit = &FeatureLimit{Window: Window(genU64(t, "w")), Amount: genI64(t, "a")}
	}
	return f
}
