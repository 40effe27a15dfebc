package snapshot

// Generators of images for the codec's property tests: every value of
// every field, valid for a wallet or not.

import (
	"math"

	"pgregory.net/rapid"

	"github.com/purser-dev/purser/actors"
)

func genStr(t *rapid.T, label string) string {
	return rapid.StringMatching(`[a-z0-9:/_-]{0,40}`).Draw(t, label)
}

func genAllocs(t *rapid.T, label string) []actors.Allocation {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) actors.Allocation {
		return actors.Allocation{Grant: genStr(t, "grant"), Amount: rapid.Int64().Draw(t, "amount")}
	}), 0, 4).Draw(t, label)
}

func genGovernance(t *rapid.T) *actors.Governance {
	if !rapid.Bool().Draw(t, "has governance") {
		return nil
	}
	g := &actors.Governance{}
	for range rapid.IntRange(0, 3).Draw(t, "policies") {
		var p actors.Policy
		for range rapid.IntRange(0, 2).Draw(t, "caps") {
			p.Caps = append(p.Caps, actors.Cap{Window: actors.Window(rapid.Uint8().Draw(t, "w")), Limit: rapid.Int64().Draw(t, "l")})
		}
		for range rapid.IntRange(0, 2).Draw(t, "rates") {
			p.Rates = append(p.Rates, actors.Rate{Window: actors.Window(rapid.Uint8().Draw(t, "w")),
				Requests: rapid.Int64().Draw(t, "r"), Credits: rapid.Int64().Draw(t, "c")})
		}
		if g.Policies == nil {
			g.Policies = map[string]actors.Policy{}
		}
		g.Policies[genStr(t, "path")] = p
	}
	for range rapid.IntRange(0, 3).Draw(t, "features") {
		f := actors.Feature{Enabled: rapid.Bool().Draw(t, "on")}
		if rapid.Bool().Draw(t, "limited") {
			f.Limit = &actors.FeatureLimit{Window: actors.Window(rapid.Uint8().Draw(t, "w")), Amount: rapid.Int64().Draw(t, "a")}
		}
		if g.Features == nil {
			g.Features = map[string]actors.Feature{}
		}
		g.Features[genStr(t, "name")] = f
	}
	return g
}

func genUsage(t *rapid.T) actors.GovUsage {
	u := actors.GovUsage{Held: rapid.Int64().Draw(t, "held")}
	for i := range u.Consumed {
		u.ConsumedStart[i], u.Consumed[i] = rapid.Int64().Draw(t, "start"), rapid.Int64().Draw(t, "n")
	}
	return u
}

func genGovImage(t *rapid.T) *actors.GovImage {
	if !rapid.Bool().Draw(t, "has governance image") {
		return nil
	}
	gi := &actors.GovImage{Config: genGovernance(t)}
	for range rapid.IntRange(0, 3).Draw(t, "levels") {
		l := actors.GovLevelImage{Path: genStr(t, "path"), Usage: genUsage(t)}
		for range rapid.IntRange(0, 2).Draw(t, "buckets") {
			var b actors.GovBucketPair
			for i := range 3 {
				b.Req[i], b.Cred[i] = rapid.Int64().Draw(t, "r"), rapid.Int64().Draw(t, "c")
			}
			l.Buckets = append(l.Buckets, b)
		}
		gi.Levels = append(gi.Levels, l)
	}
	for range rapid.IntRange(0, 2).Draw(t, "feature usage") {
		gi.Features = append(gi.Features, actors.GovFeatureImage{Name: genStr(t, "name"), Usage: genUsage(t)})
	}
	return gi
}

func genAnswer(t *rapid.T) actors.Answer {
	a := actors.Answer{ID: genStr(t, "id"), Op: actors.OpCode(rapid.Uint8().Draw(t, "op")),
		Hash: rapid.Uint64().Draw(t, "hash"), Allocs: genAllocs(t, "allocs"), Gov: genGovernance(t)}
	for i := range a.N {
		a.N[i] = rapid.Int64().Draw(t, "n")
	}
	return a
}

// genImage draws any image, valid for a wallet or not: the format must
// carry every value of every field.
func genImage(t *rapid.T) *actors.Image {
	img := &actors.Image{Wallet: rapid.StringMatching(`[A-Za-z0-9_-]{1,128}`).Draw(t, "wallet"),
		Pos: rapid.Uint64().Draw(t, "pos"), MaxRememberedIDs: rapid.IntRange(0, math.MaxInt32).Draw(t, "maxids"),
		IDRetention: rapid.Int64().Draw(t, "retention"), Exists: rapid.Bool().Draw(t, "exists"),
		Seq: rapid.Uint64().Draw(t, "seq"), Clock: rapid.Int64().Draw(t, "clock"),
		Settings: actors.Settings{Mode: actors.Mode(rapid.Uint8().Draw(t, "mode")), OverdraftLimit: rapid.Int64().Draw(t, "ol"),
			OverdraftPercent: rapid.Int64().Draw(t, "op"), PercentSet: rapid.Bool().Draw(t, "ps"),
			DefaultTTLms: rapid.Int64().Draw(t, "ttl"), Suspended: rapid.Bool().Draw(t, "su")},
		Debt: rapid.Int64().Draw(t, "debt"), Free: rapid.Int64().Draw(t, "free"), Held: rapid.Int64().Draw(t, "held"),
		Total: rapid.Int64().Draw(t, "total"), SpentOriginal: actors.Sum128{Hi: rapid.OneOf(rapid.Just[uint64](0), rapid.Uint64()).Draw(t, "spenthi"),
			Lo: rapid.Uint64().Draw(t, "spentlo")},
		EvictedYoung: rapid.Uint64().Draw(t, "ey"), Gov: genGovImage(t)}
	img.Grants = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) actors.GrantImage {
		g := actors.GrantImage{ID: genStr(t, "id"), Kind: genStr(t, "kind"), Priority: rapid.Int64().Draw(t, "p"),
			Amount: rapid.Int64().Draw(t, "a"), Remaining: rapid.Int64().Draw(t, "r"), Earmarked: rapid.Int64().Draw(t, "e"),
			EffectiveAt: rapid.Int64().Draw(t, "ea"), ExpiresAt: rapid.Int64().Draw(t, "x"), State: rapid.Uint8().Draw(t, "s")}
		if rapid.Bool().Draw(t, "meta") {
			g.Meta = rapid.MapOfN(rapid.StringN(0, 20, 64), rapid.StringN(0, 300, 600), 0, 20).Draw(t, "m")
		}
		return g
	}), 0, 20).Draw(t, "grants")
	img.Holds = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) actors.HoldImage {
		return actors.HoldImage{ID: genStr(t, "id"), Amount: rapid.Int64().Draw(t, "a"), ExpiresAt: rapid.Int64().Draw(t, "x"),
			OnExpiry: actors.OnExpiry(rapid.Uint8().Draw(t, "oe")), Principal: genStr(t, "pr"), Feature: genStr(t, "f"),
			Earmarks: genAllocs(t, "earmarks"), Answer: genAnswer(t)}
	}), 0, 40).Draw(t, "holds")
	img.IDs = genRecords(t)
	return img
}

func genRecords(t *rapid.T) []actors.RecordImage {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) actors.RecordImage {
		a := genAnswer(t)
		if rapid.Bool().Draw(t, "attributed") { // a lapsed hold's reserve (format v5)
			a.Attr = &actors.Attribution{Principal: genStr(t, "principal"), Feature: genStr(t, "feature")}
		}
		return actors.RecordImage{Answer: a, At: rapid.Int64().Draw(t, "at"), Hold: rapid.Uint8().Draw(t, "h")}
	}), 0, 40).Draw(t, "ids")
}
