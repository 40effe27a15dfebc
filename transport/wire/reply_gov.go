package wire

import (
	"maps"
	"slices"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// Governance in replies (SPEC §5). configure's reply shows the whole
// policy in the request's own shape, so it can be sent back as is:
//
//	"policies": {"*": {"caps": [{"window", "limit"}], "rates": [{"window", "requests"?, "credits"?}]}},
//	"features": {"chat": {"enabled", "limit"?: {"window", "amount"}}}
//
// balance adds usage now: a cap's "consumed" (in the current window),
// "held" (open holds) and "resets_at"; a rate's "requests_available" and
// "credits_available" (what would pass back to back now); a feature
// limit's "consumed", "held" and "resets_at". Keys are written in order.

// deniedBy names the principal (a cap or a rate) or the feature (a feature
// limit) and the window that refused.
func (w *writer) deniedBy(d *actors.DeniedBy) {
	w.key("denied_by")
	w.object(1 + count(d.Principal != "", d.Feature != ""))
	if d.Principal != "" {
		w.key("principal")
		w.str(d.Principal)
	}
	if d.Feature != "" {
		w.key("feature")
		w.str(d.Feature)
	}
	w.key("window")
	w.str(d.Window)
	w.endObject()
}

// mapKey writes a key that comes from the user (JSON-escaped).
func (w *writer) mapKey(k string) {
	if w.mp {
		w.b = mpack.AppendStr(w.b, k)
		return
	}
	w.sep()
	w.b = append(jsonString(w.b, k), ':')
}

func (w *writer) governance(ps map[string]actors.Policy, fs map[string]actors.Feature) {
	w.key("policies")
	w.object(len(ps))
	for _, path := range slices.Sorted(maps.Keys(ps)) {
		p := ps[path]
		w.mapKey(path)
		w.object(2)
		w.key("caps")
		w.array(len(p.Caps))
		for _, c := range p.Caps {
			w.object(2)
			w.key("window")
			w.str(c.Window.String())
			w.figure("limit", c.Limit)
			w.endObject()
		}
		w.endArray()
		w.key("rates")
		w.array(len(p.Rates))
		for _, r := range p.Rates {
			w.rate(r, nil)
		}
		w.endArray()
		w.endObject()
	}
	w.endObject()
	w.key("features")
	w.object(len(fs))
	for _, name := range slices.Sorted(maps.Keys(fs)) {
		f := fs[name]
		w.mapKey(name)
		w.object(1 + count(f.Limit != nil))
		w.key("enabled")
		w.boolean(f.Enabled)
		if f.Limit != nil {
			w.key("limit")
			w.object(2)
			w.key("window")
			w.str(f.Limit.Window.String())
			w.figure("amount", f.Limit.Amount)
			w.endObject()
		}
		w.endObject()
	}
	w.endObject()
}

func (w *writer) rate(r actors.Rate, u *actors.RateUsage) {
	n := 1 + count(r.Requests > 0, r.Credits > 0)
	if u != nil {
		n += count(r.Requests > 0, r.Credits > 0)
	}
	w.object(n)
	w.key("window")
	w.str(r.Window.String())
	if r.Requests > 0 {
		w.figure("requests", r.Requests)
		if u != nil {
			w.figure("requests_available", u.RequestsAvailable)
		}
	}
	if r.Credits > 0 {
		w.figure("credits", r.Credits)
		if u != nil {
			w.figure("credits_available", u.CreditsAvailable)
		}
	}
	w.endObject()
}

func (w *writer) capUsage(c actors.CapUsage, limitName string) {
	w.object(5)
	w.key("window")
	w.str(c.Window.String())
	w.figure(limitName, c.Limit)
	w.figure("consumed", c.Consumed)
	w.figure("held", c.Held)
	w.key("resets_at")
	w.time(timeOf(c.ResetsAt))
	w.endObject()
}

// usage writes balance's policies and features (each only when present).
func (w *writer) usage(ps []actors.PolicyUsage, fs []actors.FeatureUsage) {
	if len(ps) > 0 {
		w.key("policies")
		w.object(len(ps))
		for _, p := range ps {
			w.mapKey(p.Principal)
			w.object(2)
			w.key("caps")
			w.array(len(p.Caps))
			for _, c := range p.Caps {
				w.capUsage(c, "limit")
			}
			w.endArray()
			w.key("rates")
			w.array(len(p.Rates))
			for i := range p.Rates {
				w.rate(p.Rates[i].Rate, &p.Rates[i])
			}
			w.endArray()
			w.endObject()
		}
		w.endObject()
	}
	if len(fs) > 0 {
		w.key("features")
		w.object(len(fs))
		for _, f := range fs {
			w.mapKey(f.Feature)
			w.object(1 + count(f.Limit != nil))
			w.key("enabled")
			w.boolean(f.Enabled)
			if f.Limit != nil {
				w.key("limit")
				w.capUsage(*f.Limit, "amount")
			}
			w.endObject()
		}
		w.endObject()
	}
}
