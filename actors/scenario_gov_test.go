package actors

// The governance part of the scenario language (scenario_test.go): the
// policy and feature options of configure, `expect cap` and `expect rate`,
// and how configure replies render policies and features.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// governance parses policy:PATH=ITEM,... and feature:NAME=on|off,limit:W:N.
func (s *scenario) governance(c *Configure, k, v string) {
	window := func(name string) Window {
		if w, ok := WindowByName(name); ok {
			return w
		}
		return Window(s.int(name)) // a bad window by number
	}
	if path, ok := strings.CutPrefix(k, "policy:"); ok {
		if c.Policies == nil {
			c.Policies = map[string]Policy{}
		}
		var p Policy
		for item := range strings.SplitSeq(v, ",") {
			f := strings.Split(item, ":")
			switch {
			case item == "":
			case f[0] == "cap" && len(f) == 3:
				p.Caps = append(p.Caps, Cap{Window: window(f[1]), Limit: s.int(f[2])})
			case f[0] == "rate" && len(f) >= 3:
				r := Rate{Window: window(f[1])}
				for _, n := range f[2:] {
					switch {
					case strings.HasSuffix(n, "r"):
						r.Requests = s.int(strings.TrimSuffix(n, "r"))
					case strings.HasSuffix(n, "c"):
						r.Credits = s.int(strings.TrimSuffix(n, "c"))
					default:
						s.fatalf("rate %q: counts end in r (requests) or c (credits)", item)
					}
				}
				p.Rates = append(p.Rates, r)
			default:
				s.fatalf("bad policy item %q", item)
			}
		}
		c.Policies[path] = p
		return
	}
	if name, ok := strings.CutPrefix(k, "feature:"); ok {
		if c.Features == nil {
			c.Features = map[string]Feature{}
		}
		items := strings.Split(v, ",")
		f := Feature{Enabled: items[0] == "on"}
		for _, item := range items[1:] {
			l := strings.Split(item, ":")
			if len(l) != 3 || l[0] != "limit" {
				s.fatalf("bad feature item %q", item)
			}
			f.Limit = &FeatureLimit{Window: window(l[1]), Amount: s.int(l[2])}
		}
		c.Features[name] = f
		return
	}
	s.fatalf("unknown configure key %s", k)
}

// expectUsage checks a cap's or a rate's usage in the balance view.
func (s *scenario) expectUsage(what string, rest []string) {
	if len(rest) < 2 {
		s.fatalf("expect %s PATH WINDOW key=value ...", what)
	}
	ps, fs := s.w.gov.usageView(max(s.now.UnixNano(), s.w.clock))
	got := map[string]string{}
	if feat, ok := strings.CutPrefix(rest[0], "@"); ok {
		for _, f := range fs {
			if f.Feature == feat && f.Limit != nil && f.Limit.Window.String() == rest[1] {
				got["consumed"], got["held"] = fmt.Sprint(f.Limit.Consumed), fmt.Sprint(f.Limit.Held)
			}
		}
	}
	for _, p := range ps {
		if p.Principal != rest[0] {
			continue
		}
		for _, c := range p.Caps {
			if what == "cap" && c.Window.String() == rest[1] {
				got["consumed"], got["held"] = fmt.Sprint(c.Consumed), fmt.Sprint(c.Held)
				got["resets"] = "+" + unixTime(c.ResetsAt).Sub(scenarioStart).String()
			}
		}
		for _, r := range p.Rates {
			if what == "rate" && r.Window.String() == rest[1] {
				got["requests"], got["credits"] = fmt.Sprint(r.RequestsAvailable), fmt.Sprint(r.CreditsAvailable)
			}
		}
	}
	if len(got) == 0 {
		s.fatalf("no %s %s %s in the balance view", what, rest[0], rest[1])
	}
	_, kv := s.opts(rest[2:])
	for k, v := range kv {
		if got[k] != v {
			s.fatalf("%s %s %s: %s = %s, want %s", what, rest[0], rest[1], k, got[k], v)
		}
	}
}

// policiesString renders policies in the configure line's syntax:
// PATH=cap:day:5,rate:minute:5r;... in path order ("none" when empty).
func policiesString(m map[string]Policy) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var items []string
		for _, c := range m[k].Caps {
			items = append(items, fmt.Sprintf("cap:%s:%d", c.Window, c.Limit))
		}
		for _, r := range m[k].Rates {
			item := "rate:" + r.Window.String()
			if r.Requests > 0 {
				item += fmt.Sprintf(":%dr", r.Requests)
			}
			if r.Credits > 0 {
				item += fmt.Sprintf(":%dc", r.Credits)
			}
			items = append(items, item)
		}
		out = append(out, k+"="+strings.Join(items, ","))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ";")
}

func featuresString(m map[string]Feature) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f := m[k]
		item := k + "=off"
		if f.Enabled {
			item = k + "=on"
		}
		if f.Limit != nil {
			item += fmt.Sprintf(",limit:%s:%d", f.Limit.Window, f.Limit.Amount)
		}
		out = append(out, item)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ";")
}
