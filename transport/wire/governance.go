package wire

import (
	"github.com/purser-dev/purser/actors"
)

// Decoding of configure's policies and features (SPEC §5, §8):
//
//	"policies": {"*": {"caps": [{"window": "day", "limit": 1000}],
//	                   "rates": [{"window": "minute", "requests": 5, "credits": 500}]}}
//	"features": {"chat": {"enabled": true, "limit": {"window": "day", "amount": 100}}}
//
// Shapes, types and presence are checked here; windows allowed per kind,
// positive limits, path syntax and bounds are the core's (it checks them
// for any caller). An empty object is a given, empty map: it clears.

// readNamed reads configure's policies or features: an object of names to
// items, each read by item at "field[name]". The map is empty, not nil, for
// an empty object (it clears).
func readNamed[T any](s source, field, dupWhat, shape string, item func(source, string) (T, *actors.Error)) (map[string]T, *actors.Error) {
	m := map[string]T{}
	isObj, err := s.object(func(name string) *actors.Error {
		if _, dup := m[name]; dup {
			return invalidRequest(field + ": " + dupWhat + quote(name) + " is given twice")
		}
		x, err := item(s, field+"["+name+"]")
		m[name] = x
		return err
	})
	if err != nil {
		return nil, err
	}
	if !isObj {
		return nil, invalidRequest(field + " must be an object of " + shape)
	}
	return m, nil
}

func (v *values) readPolicies(s source) (err *actors.Error) {
	v.policies, err = readNamed(s, "policies", "principal ", "principal paths to {caps, rates}", readPolicy)
	return err
}

func readPolicy(s source, at string) (actors.Policy, *actors.Error) {
	var p actors.Policy
	var seen [2]bool
	isObj, err := s.object(func(k string) *actors.Error {
		var isArr bool
		var err *actors.Error
		switch k {
		case "caps":
			if seen[0] {
				return invalidRequest(at + ": caps is given twice")
			}
			seen[0] = true
			p.Caps = []actors.Cap{}
			isArr, err = s.array(func() *actors.Error {
				c, err := readCap(s, at+".caps")
				p.Caps = append(p.Caps, c)
				return err
			})
		case "rates":
			if seen[1] {
				return invalidRequest(at + ": rates is given twice")
			}
			seen[1] = true
			p.Rates = []actors.Rate{}
			isArr, err = s.array(func() *actors.Error {
				r, err := readRate(s, at+".rates")
				p.Rates = append(p.Rates, r)
				return err
			})
		default:
			return invalidRequest(at + ": unknown field " + quote(k) + " (a policy has caps and rates)")
		}
		if err == nil && !isArr {
			return invalidRequest(at + "." + k + " must be an array")
		}
		return err
	})
	if err == nil && !isObj {
		err = invalidRequest(at + " must be an object {caps, rates}")
	}
	return p, err
}

// limitFields reads an object of a window and integer fields; amounts
// names the integer fields that are credit amounts (invalid_amount).
func limitFields(s source, at string, ints []string, amounts map[string]bool) (window string, vals map[string]int64, err *actors.Error) {
	vals = map[string]int64{}
	hasWindow := false
	isObj, err := s.object(func(k string) *actors.Error {
		if k == "window" {
			if hasWindow {
				return invalidRequest(at + ": window is given twice")
			}
			hasWindow = true
			str, ok, err := s.str()
			if err == nil && !ok {
				err = invalidRequest(at + ": window must be a string")
			}
			window = str
			return err
		}
		known := false
		for _, f := range ints {
			known = known || f == k
		}
		if !known {
			return invalidRequest(at + ": unknown field " + quote(k))
		}
		if _, dup := vals[k]; dup {
			return invalidRequest(at + ": " + k + " is given twice")
		}
		n, class, err := s.integer()
		if err != nil {
			return err
		}
		if class != numInt || n <= 0 {
			why := at + ": " + k + " must be an integer > 0"
			if amounts[k] {
				return invalidAmount(why)
			}
			return invalidRequest(why)
		}
		vals[k] = n
		return nil
	})
	if err == nil && !isObj {
		err = invalidRequest(at + " must be an object")
	}
	if err == nil && !hasWindow {
		err = invalidRequest(at + ": window is required")
	}
	return window, vals, err
}

// The windows each limit takes (SPEC §5); the core checks them too, this
// only makes the message of an unknown name say which ones.
const (
	capWindows  = "minute, hour, day or month"
	rateWindows = "second, minute, hour or day"
)

func window(at, name, allowed string) (actors.Window, *actors.Error) {
	w, ok := actors.WindowByName(name)
	if !ok {
		return 0, invalidRequest(at + ": window must be " + allowed)
	}
	return w, nil
}

var amountField = map[string]bool{"limit": true, "credits": true, "amount": true}

func readCap(s source, at string) (actors.Cap, *actors.Error) {
	name, vals, err := limitFields(s, at, []string{"limit"}, amountField)
	if err != nil {
		return actors.Cap{}, err
	}
	if _, ok := vals["limit"]; !ok {
		return actors.Cap{}, invalidAmount(at + ": limit is required")
	}
	w, err := window(at, name, capWindows)
	return actors.Cap{Window: w, Limit: vals["limit"]}, err
}

func readRate(s source, at string) (actors.Rate, *actors.Error) {
	name, vals, err := limitFields(s, at, []string{"requests", "credits"}, amountField)
	if err != nil {
		return actors.Rate{}, err
	}
	if len(vals) == 0 {
		return actors.Rate{}, invalidRequest(at + ": a rate needs requests, credits or both")
	}
	w, err := window(at, name, rateWindows)
	return actors.Rate{Window: w, Requests: vals["requests"], Credits: vals["credits"]}, err
}

func (v *values) readFeatures(s source) (err *actors.Error) {
	v.features, err = readNamed(s, "features", "", "feature names to {enabled, limit}", readFeature)
	return err
}

func readFeature(s source, at string) (actors.Feature, *actors.Error) {
	var f actors.Feature
	var hasEnabled bool
	isObj, err := s.object(func(k string) *actors.Error {
		switch k {
		case "enabled":
			if hasEnabled {
				return invalidRequest(at + ": enabled is given twice")
			}
			hasEnabled = true
			b, ok, err := s.boolean()
			if err == nil && !ok {
				err = invalidRequest(at + ": enabled must be true or false")
			}
			f.Enabled = b
			return err
		case "limit":
			if f.Limit != nil {
				return invalidRequest(at + ": limit is given twice")
			}
			name, vals, err := limitFields(s, at+".limit", []string{"amount"}, amountField)
			if err != nil {
				return err
			}
			if _, ok := vals["amount"]; !ok {
				return invalidAmount(at + ".limit: amount is required")
			}
			w, err := window(at+".limit", name, capWindows)
			f.Limit = &actors.FeatureLimit{Window: w, Amount: vals["amount"]}
			return err
		}
		return invalidRequest(at + ": unknown field " + quote(k) + " (a feature has enabled and limit)")
	})
	if err == nil && !isObj {
		err = invalidRequest(at + " must be an object {enabled, limit}")
	}
	if err == nil && !hasEnabled {
		err = invalidRequest(at + ": enabled is required")
	}
	return f, err
}
