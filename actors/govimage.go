package actors

import (
	"maps"
	"slices"
)

// GovImage is a wallet's governance in an Image: the configuration and
// the state Apply built from the events (usage counters and rate buckets),
// so that a restored wallet keeps its windows and buckets. nil: no
// governance.
type GovImage struct {
	Config   *Governance       `msgpack:"c"`
	Levels   []GovLevelImage   `msgpack:"l"` // by path
	Features []GovFeatureImage `msgpack:"f"` // by name
}

// GovUsage is what caps count at a level or feature: the held amount and
// the consumption per cap window (minute, hour, day, month), each with the
// start of the window it counts.
type GovUsage struct {
	Held          int64    `msgpack:"h"`
	ConsumedStart [4]int64 `msgpack:"cs"`
	Consumed      [4]int64 `msgpack:"cn"`
}

// GovLevelImage is a governed principal level: its usage and one bucket
// pair per rate of its policy (in the policy's order).
type GovLevelImage struct {
	Path    string          `msgpack:"p"`
	Usage   GovUsage        `msgpack:"u"`
	Buckets []GovBucketPair `msgpack:"b"`
}

// GovBucketPair is a rate's requests and credits GCRA state.
type GovBucketPair struct {
	Req  [3]int64 `msgpack:"r"` // tat, frac, n
	Cred [3]int64 `msgpack:"c"`
}

// GovFeatureImage is a feature with a limit and its usage.
type GovFeatureImage struct {
	Name  string   `msgpack:"n"`
	Usage GovUsage `msgpack:"u"`
}

func (u *usage) image() GovUsage {
	g := GovUsage{Held: u.held}
	for i, c := range u.consumed {
		g.ConsumedStart[i], g.Consumed[i] = c.start, c.n
	}
	return g
}

func (g GovUsage) restore() usage {
	u := usage{held: g.Held}
	for i := range u.consumed {
		u.consumed[i] = winCount{start: g.ConsumedStart[i], n: g.Consumed[i]}
	}
	return u
}

func (w *Wallet) govImage() *GovImage {
	g := w.gov
	if g == nil {
		return nil
	}
	gi := &GovImage{Config: g.cfg}
	for _, path := range slices.Sorted(maps.Keys(g.levels)) {
		ls := g.levels[path]
		li := GovLevelImage{Path: path, Usage: ls.image(), Buckets: make([]GovBucketPair, len(ls.buckets))}
		for i, b := range ls.buckets {
			li.Buckets[i] = GovBucketPair{Req: [3]int64{b.req.tat, b.req.frac, b.req.n},
				Cred: [3]int64{b.cred.tat, b.cred.frac, b.cred.n}}
		}
		gi.Levels = append(gi.Levels, li)
	}
	for _, name := range slices.Sorted(maps.Keys(g.feats)) {
		gi.Features = append(gi.Features, GovFeatureImage{Name: name, Usage: g.feats[name].image()})
	}
	return gi
}

// restoreGov rebuilds governance from an image after the holds are
// restored: the configuration is validated as a configure would be, the
// governed levels and features must be exactly those it implies, and each
// held amount must equal the open holds attributed to it.
func (w *Wallet) restoreGov(gi *GovImage) error {
	if gi == nil {
		return nil
	}
	cfg := gi.Config
	if cfg.empty() {
		return badImage("governance without a configuration")
	}
	if _, err := w.limits.buildGovernance(nil, cfg.Policies, cfg.Features); err != nil {
		return badImage("governance configuration: %v", err)
	}
	w.setGovernance(cfg, 0, false) // attributes the open holds afresh
	g := w.gov
	if len(gi.Levels) != len(g.levels) || len(gi.Features) != len(g.feats) {
		return badImage("governance has %d levels and %d features, its configuration %d and %d",
			len(gi.Levels), len(gi.Features), len(g.levels), len(g.feats))
	}
	for _, li := range gi.Levels {
		ls := g.levels[li.Path]
		if ls == nil || len(li.Buckets) != len(ls.buckets) || li.Usage.Held != ls.held {
			return badImage("governance level %q does not match its configuration or open holds", li.Path)
		}
		ls.usage = li.Usage.restore()
		for i, b := range li.Buckets {
			ls.buckets[i] = ratePair{req: gcra{tat: b.Req[0], frac: b.Req[1], n: b.Req[2]},
				cred: gcra{tat: b.Cred[0], frac: b.Cred[1], n: b.Cred[2]}}
		}
	}
	for _, fi := range gi.Features {
		fs := g.feats[fi.Name]
		if fs == nil || fi.Usage.Held != fs.held {
			return badImage("governance feature %q does not match its configuration or open holds", fi.Name)
		}
		*fs = fi.Usage.restore()
	}
	return nil
}
