package snapshot

import (
	"math"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// Governance in format v2, positional like the rest of the body:
//
//	govImage   nil | [governance, [level…], [feature…]]
//	governance nil | [[policy…], [feature…]]
//	policy     [path, [[window, limit]…], [[window, requests, credits]…]]
//	feature    [name, enabled, nil | [window, amount]]
//	level      [path, usage, [[[tat, frac, n], [tat, frac, n]]…]]
//	usage      [held, [start×4], [consumed×4]]
//	featureUse [name, usage]

func appendGovernance(b []byte, g *actors.Governance) []byte {
	if g == nil {
		return append(b, 0xc0)
	}
	b = mpack.AppendArrayLen(b, 2)
	b = mpack.AppendArrayLen(b, len(g.Policies))
	for _, path := range sortedKeys(g.Policies) {
		p := g.Policies[path]
		b = mpack.AppendArrayLen(b, 3)
		b = mpack.AppendStr(b, path)
		b = mpack.AppendArrayLen(b, len(p.Caps))
		for _, c := range p.Caps {
			b = mpack.AppendInt(mpack.AppendUint(mpack.AppendArrayLen(b, 2), uint64(c.Window)), c.Limit)
		}
		b = mpack.AppendArrayLen(b, len(p.Rates))
		for _, rt := range p.Rates {
			b = mpack.AppendInt(mpack.AppendInt(mpack.AppendUint(mpack.AppendArrayLen(b, 3), uint64(rt.Window)), rt.Requests), rt.Credits)
		}
	}
	b = mpack.AppendArrayLen(b, len(g.Features))
	for _, name := range sortedKeys(g.Features) {
		f := g.Features[name]
		b = mpack.AppendBool(mpack.AppendStr(mpack.AppendArrayLen(b, 3), name), f.Enabled)
		if f.Limit == nil {
			b = append(b, 0xc0)
		} else {
			b = mpack.AppendInt(mpack.AppendUint(mpack.AppendArrayLen(b, 2), uint64(f.Limit.Window)), f.Limit.Amount)
		}
	}
	return b
}

func appendGovImage(b []byte, gi *actors.GovImage) []byte {
	if gi == nil {
		return append(b, 0xc0)
	}
	b = mpack.AppendArrayLen(b, 3)
	b = appendGovernance(b, gi.Config)
	b = mpack.AppendArrayLen(b, len(gi.Levels))
	for _, l := range gi.Levels {
		b = mpack.AppendStr(mpack.AppendArrayLen(b, 3), l.Path)
		b = appendUsage(b, l.Usage)
		b = mpack.AppendArrayLen(b, len(l.Buckets))
		for _, bp := range l.Buckets {
			b = mpack.AppendArrayLen(b, 2)
			b = appendInts(b, bp.Req[:])
			b = appendInts(b, bp.Cred[:])
		}
	}
	b = mpack.AppendArrayLen(b, len(gi.Features))
	for _, f := range gi.Features {
		b = appendUsage(mpack.AppendStr(mpack.AppendArrayLen(b, 2), f.Name), f.Usage)
	}
	return b
}

func appendUsage(b []byte, u actors.GovUsage) []byte {
	b = mpack.AppendInt(mpack.AppendArrayLen(b, 3), u.Held)
	return appendInts(appendInts(b, u.ConsumedStart[:]), u.Consumed[:])
}

func appendInts(b []byte, vs []int64) []byte {
	b = mpack.AppendArrayLen(b, len(vs))
	for _, v := range vs {
		b = mpack.AppendInt(b, v)
	}
	return b
}

func readGovernance(r *reader) *actors.Governance {
	if r.isNil() || !r.fields(2, "governance") {
		return nil
	}
	g := &actors.Governance{}
	if n := r.arrayLen(4, "policies"); n > 0 {
		g.Policies = make(map[string]actors.Policy, n)
		for i := 0; i < n && r.fields(3, "policy"); i++ {
			path := r.str()
			var p actors.Policy
			for j, m := 0, r.arrayLen(3, "caps"); j < m && r.fields(2, "cap"); j++ {
				p.Caps = append(p.Caps, actors.Cap{Window: window(r), Limit: r.int()})
			}
			for j, m := 0, r.arrayLen(4, "rates"); j < m && r.fields(3, "rate"); j++ {
				p.Rates = append(p.Rates, actors.Rate{Window: window(r), Requests: r.int(), Credits: r.int()})
			}
			g.Policies[path] = p
		}
	}
	if n := r.arrayLen(4, "features"); n > 0 {
		g.Features = make(map[string]actors.Feature, n)
		for i := 0; i < n && r.fields(3, "feature"); i++ {
			name := r.str()
			f := actors.Feature{Enabled: r.bool()}
			if !r.isNil() && r.fields(2, "feature limit") {
				f.Limit = &actors.FeatureLimit{Window: window(r), Amount: r.int()}
			}
			g.Features[name] = f
		}
	}
	return g
}

func readGovImage(r *reader) *actors.GovImage {
	if r.isNil() || !r.fields(3, "governance image") {
		return nil
	}
	gi := &actors.GovImage{Config: readGovernance(r)}
	if n := r.arrayLen(4, "governed levels"); n > 0 {
		gi.Levels = make([]actors.GovLevelImage, n)
		for i := 0; i < n && r.fields(3, "governed level"); i++ {
			l := &gi.Levels[i]
			l.Path = r.str()
			l.Usage = readUsage(r)
			if m := r.arrayLen(9, "buckets"); m > 0 {
				l.Buckets = make([]actors.GovBucketPair, m)
				for j := 0; j < m && r.fields(2, "bucket pair"); j++ {
					readInts(r, l.Buckets[j].Req[:])
					readInts(r, l.Buckets[j].Cred[:])
				}
			}
		}
	}
	if n := r.arrayLen(3, "feature usage"); n > 0 {
		gi.Features = make([]actors.GovFeatureImage, n)
		for i := 0; i < n && r.fields(2, "feature usage"); i++ {
			gi.Features[i].Name = r.str()
			gi.Features[i].Usage = readUsage(r)
		}
	}
	return gi
}

func readUsage(r *reader) actors.GovUsage {
	var u actors.GovUsage
	if r.fields(3, "usage") {
		u.Held = r.int()
		readInts(r, u.ConsumedStart[:])
		readInts(r, u.Consumed[:])
	}
	return u
}

func readInts(r *reader, into []int64) {
	if r.fields(len(into), "integers") {
		for i := range into {
			into[i] = r.int()
		}
	}
}

func window(r *reader) actors.Window { return actors.Window(r.small(math.MaxUint8, "window")) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // insertion sort: maps here are small
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
