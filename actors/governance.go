package actors

import (
	"cmp"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Governance (SPEC §5): spend caps and rate limits on principal paths, and
// feature entitlements, configured with configure and evaluated in the one
// decision waterfall that reserve and check share (evaluate in decide.go).
//
// This file holds the configuration: its types (journaled in Configured, so
// their msgpack tags and Window values are part of the journal format),
// calendar windows, and the validation that builds a new configuration from
// a configure command. The state it drives is in govstate.go, the GCRA
// buckets in rates.go, the evaluation in govcheck.go.

// Window is a governance window. Values are part of the journal format.
type Window uint8

const (
	WindowNone Window = iota
	WindowSecond
	WindowMinute
	WindowHour
	WindowDay
	WindowMonth
)

var windowNames = [...]string{"", "second", "minute", "hour", "day", "month"}

// String is the window's wire name.
func (w Window) String() string {
	if int(w) < len(windowNames) {
		return windowNames[w]
	}
	return "unknown"
}

// WindowByName maps a wire name to its Window.
func WindowByName(s string) (Window, bool) {
	for i, n := range windowNames {
		if n == s && i != 0 {
			return Window(i), true
		}
	}
	return WindowNone, false
}

const (
	secondNs = int64(time.Second)
	minuteNs = int64(time.Minute)
	hourNs   = int64(time.Hour)
	dayNs    = 24 * hourNs
)

// capWindows are the windows of caps and feature limits, shortest first;
// usage counters are kept for all four (index = capIndex).
var capWindows = [4]Window{WindowMinute, WindowHour, WindowDay, WindowMonth}

func capIndex(w Window) int { return int(w - WindowMinute) }

func rateWindowOK(w Window) bool { return w >= WindowSecond && w <= WindowDay }
func capWindowOK(w Window) bool  { return w >= WindowMinute && w <= WindowMonth }

// length is a rate window's length in ns (rates never use month).
func (w Window) length() int64 {
	switch w {
	case WindowSecond:
		return secondNs
	case WindowMinute:
		return minuteNs
	case WindowHour:
		return hourNs
	}
	return dayNs
}

// windowStart is the start of the UTC calendar window containing at (unix
// ns): a window is [start, next start), so the last nanosecond of a day is
// in that day and the first of the next starts a new one.
func windowStart(w Window, at int64) int64 {
	if w == WindowMonth {
		t := time.Unix(0, at).UTC()
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).UnixNano()
	}
	n := w.length()
	r := at % n
	if r < 0 {
		r += n
	}
	return at - r
}

// capStarts are the starts of the four cap windows containing at.
func capStarts(at int64) (s [4]int64) {
	for i, w := range capWindows {
		s[i] = windowStart(w, at)
	}
	return s
}

// Cap is a spend cap: at most Limit credits consumed plus held per window.
type Cap struct {
	Window Window `msgpack:"w"`
	Limit  int64  `msgpack:"l"`
}

// Rate limits requests and/or credits per window (GCRA). 0 = not limited.
type Rate struct {
	Window   Window `msgpack:"w"`
	Requests int64  `msgpack:"r,omitempty"`
	Credits  int64  `msgpack:"c,omitempty"`
}

// Policy is what applies at one principal level. Caps and Rates are sorted
// by window, shortest first, one per window.
type Policy struct {
	Caps  []Cap  `msgpack:"c,omitempty"`
	Rates []Rate `msgpack:"r,omitempty"`
}

// FeatureLimit bounds a feature's consumed plus held credits per window.
type FeatureLimit struct {
	Window Window `msgpack:"w"`
	Amount int64  `msgpack:"a"`
}

// Feature is an entitlement.
type Feature struct {
	Enabled bool          `msgpack:"e"`
	Limit   *FeatureLimit `msgpack:"l,omitempty"`
}

// Governance is a wallet's whole governance configuration. It is immutable
// once built: the wallet, its events, and the idempotency records of
// configure replies share it.
type Governance struct {
	Policies map[string]Policy  `msgpack:"p,omitempty"` // by principal path, "*" = the wallet root
	Features map[string]Feature `msgpack:"f,omitempty"` // by feature name
}

func (g *Governance) empty() bool { return g == nil || len(g.Policies) == 0 && len(g.Features) == 0 }

// RootPrincipal is the wallet root: its policy applies to every request.
const RootPrincipal = "*"

// buildGovernance validates a configure's policies and features (nil = not
// given: keep cur's) and returns the new configuration (nil when empty),
// sorted and copied so that the command's maps are never shared.
func (l *Limits) buildGovernance(cur *Governance, policies map[string]Policy, features map[string]Feature) (*Governance, *Error) {
	if policies == nil && features == nil {
		return cur, nil
	}
	g := &Governance{}
	if cur != nil {
		*g = *cur
	}
	if policies != nil {
		if len(policies) > l.MaxPolicies {
			return nil, fail(ErrLimitExceeded, "policies: at most "+itoa(l.MaxPolicies)+" principal paths per wallet")
		}
		g.Policies = make(map[string]Policy, len(policies))
		for path, p := range policies {
			q, err := validPolicy(path, p)
			if err != nil {
				return nil, err
			}
			g.Policies[path] = q
		}
	}
	if features != nil {
		if len(features) > l.MaxFeatures {
			return nil, fail(ErrLimitExceeded, "features: at most "+itoa(l.MaxFeatures)+" per wallet")
		}
		g.Features = make(map[string]Feature, len(features))
		for name, f := range features {
			if name == "" || len(name) > 128 || !utf8.ValidString(name) {
				return nil, fail(ErrInvalidRequest, "feature names must be 1–128 bytes of UTF-8")
			}
			if f.Limit != nil {
				if !capWindowOK(f.Limit.Window) {
					return nil, fail(ErrInvalidRequest, "feature "+name+": limit window must be minute, hour, day or month")
				}
				if f.Limit.Amount <= 0 {
					return nil, fail(ErrInvalidAmount, "feature "+name+": limit amount must be an integer > 0")
				}
				lim := *f.Limit
				f.Limit = &lim
			}
			g.Features[name] = f
		}
	}
	if g.empty() {
		return nil, nil
	}
	return g, nil
}

func validPolicy(path string, p Policy) (Policy, *Error) {
	if path != RootPrincipal {
		if path == "" {
			return p, fail(ErrInvalidRequest, `policies: a principal path must not be empty (the wallet root is "*")`)
		}
		if err := validPrincipal(path); err != nil {
			return p, err
		}
	}
	at := "policies[" + path + "]: "
	if len(p.Caps) > len(capWindows) || len(p.Rates) > 4 {
		return p, fail(ErrInvalidRequest, at+"one cap and one rate per window at most")
	}
	caps := slices.Clone(p.Caps)
	slices.SortFunc(caps, func(a, b Cap) int { return cmp.Compare(a.Window, b.Window) })
	for i, c := range caps {
		switch {
		case !capWindowOK(c.Window):
			return p, fail(ErrInvalidRequest, at+"cap window must be minute, hour, day or month")
		case c.Limit <= 0:
			return p, fail(ErrInvalidAmount, at+"cap limit must be an integer > 0")
		case i > 0 && caps[i-1].Window == c.Window:
			return p, fail(ErrInvalidRequest, at+"two caps for window "+c.Window.String())
		}
	}
	rates := slices.Clone(p.Rates)
	slices.SortFunc(rates, func(a, b Rate) int { return cmp.Compare(a.Window, b.Window) })
	for i, r := range rates {
		switch {
		case !rateWindowOK(r.Window):
			return p, fail(ErrInvalidRequest, at+"rate window must be second, minute, hour or day")
		case r.Requests < 0:
			return p, fail(ErrInvalidRequest, at+"rate requests must be an integer > 0")
		case r.Credits < 0:
			return p, fail(ErrInvalidAmount, at+"rate credits must be an integer > 0")
		case r.Requests == 0 && r.Credits == 0:
			return p, fail(ErrInvalidRequest, at+"a rate needs requests, credits or both")
		case i > 0 && rates[i-1].Window == r.Window:
			return p, fail(ErrInvalidRequest, at+"two rates for window "+r.Window.String())
		}
	}
	return Policy{Caps: caps, Rates: rates}, nil
}

// hashGovernance folds the given policies and features into a configure's
// content hash, in key order (maps have none).
func hashGovernance(h *contentHash, policies map[string]Policy, features map[string]Feature) {
	if policies != nil {
		h.byte(6)
		h.int(int64(len(policies)))
		for _, k := range slices.Sorted(maps.Keys(policies)) {
			p := policies[k]
			h.str(k)
			h.int(int64(len(p.Caps)))
			for _, c := range p.Caps {
				h.byte(byte(c.Window))
				h.int(c.Limit)
			}
			h.int(int64(len(p.Rates)))
			for _, r := range p.Rates {
				h.byte(byte(r.Window))
				h.int(r.Requests)
				h.int(r.Credits)
			}
		}
	}
	if features != nil {
		h.byte(7)
		h.int(int64(len(features)))
		for _, k := range slices.Sorted(maps.Keys(features)) {
			f := features[k]
			h.str(k)
			h.byte(byte(b2i(f.Enabled)))
			if f.Limit != nil {
				h.byte(byte(f.Limit.Window))
				h.int(f.Limit.Amount)
			} else {
				h.byte(0)
			}
		}
	}
}
