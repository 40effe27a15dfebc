package actors

// The scenario runner's expectations (see scenario_test.go for the
// script language).

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

func isDenial(r Reply) bool {
	switch x := r.(type) {
	case ReserveReply:
		return !x.Allowed
	case ExtendReply:
		return !x.Allowed
	}
	return false
}

// isTimeDriven says whether an event can come from Tick (due changes).
// Settled and Revoked/GrantExpired without an answer are the time-driven
// kinds; a request's events carry its Answer.
func isTimeDriven(e Event) bool {
	switch x := e.(type) {
	case *HoldExpired, *GrantActivated, *GrantExpired, *DebtRepaid:
		return true
	case *Settled:
		return x.Answer.Op == opNone
	case *Revoked:
		return x.Answer.Op == opNone
	}
	return false
}

// entryType is the history entry type of an event ("" for hidden ones).
func entryType(e Event) string {
	switch e.(type) {
	case *GrantCreated:
		return "granted"
	case *DebtRepaid:
		return "debt_repaid"
	case *HoldPlaced, *HoldExtended:
		return "held"
	case *Settled:
		return "settled"
	case *Released:
		return "released"
	case *HoldExpired:
		return "hold_expired"
	case *Debited:
		return "debited"
	case *GrantExpired:
		return "grant_expired"
	case *Revoked:
		return "revoked"
	case *Configured:
		return "configured"
	}
	return ""
}

func (s *scenario) expect(args []string) {
	if len(args) == 0 {
		s.fatalf("expect what?")
	}
	what, rest := args[0], args[1:]
	switch what {
	case "ok":
		if s.err != nil {
			s.fatalf("want ok, got error %v", s.err)
		}
	case "error":
		if s.err == nil {
			s.fatalf("want error %s, got reply %+v", rest[0], s.reply)
		}
		if s.err.Code.String() != rest[0] {
			s.fatalf("want error %s, got %v", rest[0], s.err)
		}
	case "reply":
		if s.err != nil {
			s.fatalf("want a reply, got error %v", s.err)
		}
		got := flatten(s.reply)
		_, kv := s.opts(rest)
		for k, v := range kv {
			g, ok := got[k]
			if !ok {
				s.fatalf("reply %T has no field %s (has %v)", s.reply, k, got)
			}
			if g != v {
				s.fatalf("reply %s = %s, want %s (reply %+v)", k, g, v, s.reply)
			}
		}
	case "events":
		var got []string
		for _, e := range s.evs {
			if t := entryType(e); t != "" {
				got = append(got, t)
			}
		}
		want := rest
		if len(want) == 1 && want[0] == "none" {
			want = nil
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			s.fatalf("events %v, want %v", got, want)
		}
	case "grant":
		g := s.w.grants[rest[0]]
		if len(rest) > 1 && rest[1] == "gone" {
			if g != nil {
				s.fatalf("grant %s still kept: %+v", rest[0], *g)
			}
			return
		}
		if g == nil {
			s.fatalf("no grant %s", rest[0])
		}
		states := [...]string{"pending", "active", "expired", "revoked"}
		got := map[string]string{"remaining": fmt.Sprint(g.remaining), "earmarked": fmt.Sprint(g.earmarked),
			"free": fmt.Sprint(g.free()), "state": states[g.state], "priority": fmt.Sprint(g.priority)}
		_, kv := s.opts(rest[1:])
		for k, v := range kv {
			if got[k] != v {
				s.fatalf("grant %s %s = %s, want %s", rest[0], k, got[k], v)
			}
		}
	case "cap", "rate":
		s.expectUsage(what, rest)
	case "order":
		var got []string
		for _, g := range s.w.order {
			got = append(got, g.id)
		}
		if strings.Join(got, " ") != strings.Join(rest, " ") {
			s.fatalf("burn-down order %v, want %v", got, rest)
		}
	default:
		f := s.w.Figures()
		got := map[string]int64{"available": f.Available, "balance": f.Balance, "held": f.Held,
			"debt": s.w.debt, "holds": int64(s.w.OpenHolds()), "remembered": int64(s.w.Remembered()),
			"consumed": s.books.totalConsumed, "forfeited": s.books.totalForfeited,
			"evicted_young": int64(s.w.EvictedYoung())}
		g, ok := got[what]
		if !ok {
			s.fatalf("unknown expectation %q", what)
		}
		if want := s.int(rest[0]); g != want {
			s.fatalf("%s = %d, want %d", what, g, want)
		}
	}
}

// flatten renders a reply's fields as snake_case keys for `expect reply`.
func flatten(r Reply) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f, fv := v.Type().Field(i), v.Field(i)
			name := prefix + snake(f.Name)
			if f.Anonymous {
				walk(prefix, fv)
				continue
			}
			switch x := fv.Interface().(type) {
			case time.Time:
				if x.IsZero() {
					out[name] = "none"
				} else {
					out[name] = "+" + x.Sub(scenarioStart).String()
				}
			case []Allocation:
				out[name] = allocString(x)
				if out[name] == "" {
					out[name] = "none"
				}
			case GrantView:
				walk(name+".", fv)
			case *int64:
				if x == nil {
					out[name] = "none"
				} else {
					out[name] = fmt.Sprint(*x)
				}
			case Reason:
				out[name] = x.String()
				if x == Allowed {
					out[name] = "none"
				}
			case fmt.Stringer:
				out[name] = x.String()
			case Meta:
				out[name] = metaString(x)
			case []GrantView:
				var ids []string
				for _, g := range x {
					ids = append(ids, g.ID)
				}
				out[name] = strings.Join(ids, ",")
			case map[string]Policy:
				out[name] = policiesString(x)
			case map[string]Feature:
				out[name] = featuresString(x)
			case *DeniedBy:
				out[name] = "none"
				if x != nil {
					out[name] = "set"
					walk(name+".", fv.Elem())
				}
			default:
				out[name] = fmt.Sprint(x)
			}
		}
	}
	walk("", reflect.ValueOf(r))
	return out
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && unicode.IsLower(rune(s[i-1])) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
