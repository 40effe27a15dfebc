package actors

// Scripted scenarios: each testdata/scenarios/*.txt file is a story about
// one wallet, in a line language that reads like the docs (SPEC §1–4, §6).
// Time is a value the script moves (tick, wait); nothing reads a clock.
// After every command the runner also checks the wallet's invariants, the
// books (conservation, burn-down, debt) and that replaying every event so
// far — directly and through the journal codec — gives the same state.
//
// Commands (ids first, then amounts, then key=value options):
//
//	limits max_holds=N max_grants=N max_ids=N retention=D max_meta=N
//	grant ID AMOUNT KIND [priority=N] [effective=±D] [expires=±D] [meta=k:v,...]
//	reserve ID AMOUNT [ttl=D] [capture] [meta=k:v,...] [principal=P] [feature=F]
//	                                               (ttl=-5s for a negative ttl)
//	check AMOUNT [principal=P] [feature=F]
//	settle ID HOLD ACTUAL [partial]
//	release ID HOLD
//	extend ID HOLD ttl=D [amount=N]
//	debit ID AMOUNT [principal=P] [feature=F]
//	revoke ID GRANT
//	configure ID [mode=strict|optimistic] [overdraft_limit=N] [overdraft_percent=N]
//	          [default_ttl=D] [suspended=true|false]
//	          [policy:PATH=ITEM,...]  ITEM: cap:WINDOW:LIMIT | rate:WINDOW:Nr[:Mc] | rate:WINDOW:Mc
//	          [feature:NAME=on|off[,limit:WINDOW:AMOUNT]] [policies=none] [features=none]
//	balance
//	tick +D        move the clock and let time-driven changes happen
//	wait +D        move the clock only (the next command applies what is due)
//	retry          run the previous command again: same reply, no events
//
// Expectations about the last command or the wallet:
//
//	expect ok | expect error CODE
//	expect reply key=value ...   (snake_case reply fields; times as +D from the start)
//	expect events TYPE ...       (history entry types of the last command, "none")
//	expect available|balance|held|debt|holds|remembered|consumed|forfeited N
//	expect grant ID key=value ... (remaining, earmarked, active, state) | expect grant ID gone
//	expect order ID ...          (active grants in burn-down order)
//	expect cap PATH WINDOW consumed=N held=N     (a cap's usage now; PATH "@F" = feature F)
//	expect rate PATH WINDOW requests=N credits=N (back-to-back room now)

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var scenarioStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			runScenario(t, f, string(data))
		})
	}
}

type scenario struct {
	t      *testing.T
	limits Limits
	w      *Wallet
	books  *accountant
	now    time.Time
	all    []Event
	last   Command
	reply  Reply
	err    *Error
	evs    []Event
	where  string
}

func runScenario(t *testing.T, file, text string) {
	s := &scenario{t: t, limits: DefaultLimits(), now: scenarioStart}
	s.reset()
	for i, line := range strings.Split(text, "\n") {
		if j := strings.Index(line, "#"); j >= 0 {
			line = line[:j]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		s.where = fmt.Sprintf("%s:%d: %s", file, i+1, strings.TrimSpace(line))
		s.step(fields)
	}
}

func (s *scenario) reset() {
	s.w = NewWallet("w1", s.limits)
	s.books = newAccountant("w1", s.limits)
	s.all = nil
}

func (s *scenario) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s\n%s", s.where, fmt.Sprintf(format, args...))
}

// opts splits key=value options from positional arguments.
func (s *scenario) opts(fields []string) (pos []string, kv map[string]string) {
	kv = map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	return pos, kv
}

func (s *scenario) int(v string) int64 {
	switch v {
	case "max":
		return math.MaxInt64
	case "-max":
		return -math.MaxInt64
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		s.fatalf("bad number %q", v)
	}
	return n
}

func (s *scenario) dur(v string) time.Duration {
	d, err := time.ParseDuration(strings.TrimPrefix(v, "+"))
	if err != nil {
		s.fatalf("bad duration %q", v)
	}
	return d
}

func (s *scenario) meta(v string) Meta {
	m := Meta{}
	for kv := range strings.SplitSeq(v, ",") {
		k, val, _ := strings.Cut(kv, ":")
		m[k] = val
	}
	return m
}

func (s *scenario) need(pos []string, n int) {
	if len(pos) < n {
		s.fatalf("want %d arguments", n)
	}
}

func (s *scenario) step(fields []string) {
	op, args := fields[0], fields[1:]
	pos, kv := s.opts(args)
	switch op {
	case "limits":
		for k, v := range kv {
			switch k {
			case "max_holds":
				s.limits.MaxOpenHolds = int(s.int(v))
			case "max_grants":
				s.limits.MaxGrants = int(s.int(v))
			case "max_ids":
				s.limits.MaxRememberedIDs = int(s.int(v))
			case "retention":
				s.limits.IDRetention = s.dur(v)
			case "max_meta":
				s.limits.MaxMetaEntries = int(s.int(v))
			case "max_policies":
				s.limits.MaxPolicies = int(s.int(v))
			case "max_features":
				s.limits.MaxFeatures = int(s.int(v))
			default:
				s.fatalf("unknown limit %s", k)
			}
		}
		if err := s.limits.Validate(); err != nil {
			s.fatalf("limits: %v", err)
		}
		s.reset()
	case "tick":
		s.need(pos, 1)
		s.now = s.now.Add(s.dur(pos[0]))
		s.exec(Tick{})
	case "wait":
		s.need(pos, 1)
		s.now = s.now.Add(s.dur(pos[0]))
	case "retry":
		before := snapshot(s.w)
		first, firstErr := s.reply, s.err
		s.exec(s.last)
		if len(s.evs) != 0 {
			s.fatalf("retry emitted %d events", len(s.evs))
		}
		if !reflect.DeepEqual(normReply(first), normReply(s.reply)) || (firstErr == nil) != (s.err == nil) {
			s.fatalf("retry replied %+v (err %v), first reply was %+v (err %v)", s.reply, s.err, first, firstErr)
		}
		if d := diffSnaps(snapshot(s.w), before); d != "" {
			s.fatalf("retry changed the wallet: %s", d)
		}
	case "expect":
		s.expect(args)
	default:
		s.exec(s.command(op, pos, kv))
	}
}

func (s *scenario) command(op string, pos []string, kv map[string]string) Command {
	switch op {
	case "grant":
		s.need(pos, 3)
		c := Grant{ID: pos[0], Amount: s.int(pos[1]), Kind: pos[2]}
		if v, ok := kv["priority"]; ok {
			p := s.int(v)
			c.Priority = &p
		}
		if v, ok := kv["effective"]; ok {
			c.EffectiveAt = s.now.Add(s.dur(v))
		}
		if v, ok := kv["expires"]; ok {
			c.ExpiresAt = s.now.Add(s.dur(v))
		}
		if v, ok := kv["meta"]; ok {
			c.Meta = s.meta(v)
		}
		return c
	case "reserve":
		s.need(pos, 2)
		c := Reserve{ID: pos[0], Amount: s.int(pos[1])}
		if v, ok := kv["ttl"]; ok {
			c.TTLms = s.dur(v).Milliseconds()
		}
		if len(pos) > 2 && pos[2] == "capture" {
			c.OnExpiry = ExpireCapture
		}
		if v, ok := kv["on_expiry"]; ok {
			c.OnExpiry = OnExpiry(s.int(v))
		}
		if v, ok := kv["meta"]; ok {
			c.Meta = s.meta(v)
		}
		c.Principal = kv["principal"]
		c.Feature = kv["feature"]
		return c
	case "check":
		s.need(pos, 1)
		return Check{Amount: s.int(pos[0]), Principal: kv["principal"], Feature: kv["feature"]}
	case "settle":
		s.need(pos, 3)
		return Settle{ID: pos[0], HoldID: pos[1], Actual: s.int(pos[2]), Final: !(len(pos) > 3 && pos[3] == "partial")}
	case "release":
		s.need(pos, 2)
		return Release{ID: pos[0], HoldID: pos[1]}
	case "extend":
		s.need(pos, 2)
		c := Extend{ID: pos[0], HoldID: pos[1]}
		if v, ok := kv["ttl"]; ok {
			c.TTLms = s.dur(v).Milliseconds()
		}
		if v, ok := kv["amount"]; ok {
			c.Amount = s.int(v)
		}
		return c
	case "debit":
		s.need(pos, 2)
		return Debit{ID: pos[0], Amount: s.int(pos[1]), Principal: kv["principal"], Feature: kv["feature"]}
	case "revoke":
		s.need(pos, 2)
		return Revoke{ID: pos[0], GrantID: pos[1]}
	case "configure":
		s.need(pos, 1)
		c := Configure{ID: pos[0]}
		for k, v := range kv {
			switch k {
			case "mode":
				m := Strict
				switch v {
				case "optimistic":
					m = Optimistic
				case "strict":
				default:
					m = Mode(s.int(v))
				}
				c.Mode = &m
			case "overdraft_limit":
				n := s.int(v)
				c.OverdraftLimit = &n
			case "overdraft_percent":
				n := s.int(v)
				c.OverdraftPercent = &n
			case "default_ttl":
				n := s.dur(v).Milliseconds()
				c.DefaultTTLms = &n
			case "suspended":
				b := v == "true"
				c.Suspended = &b
			case "policies": // "none": given and empty, whatever the order of keys
				if c.Policies == nil {
					c.Policies = map[string]Policy{}
				}
			case "features":
				if c.Features == nil {
					c.Features = map[string]Feature{}
				}
			default:
				s.governance(&c, k, v)
			}
		}
		return c
	case "balance":
		return Balance{}
	}
	s.fatalf("unknown command %q", op)
	return nil
}

// exec runs one command and checks everything that must hold after it.
func (s *scenario) exec(c Command) {
	s.t.Helper()
	before := snapshot(s.w)
	evs, reply, err := s.w.Execute(c, s.now, nil)
	s.last, s.reply, s.err, s.evs = c, reply, err, evs
	if err != nil || isDenial(reply) {
		// An error or a denial applies nothing but the time-driven changes
		// that were due: replaying only those on the prior state must give
		// the wallet we have now.
		for _, e := range evs {
			if !isTimeDriven(e) {
				s.fatalf("%v refused (%v %+v) but emitted %T", c, err, reply, e)
			}
		}
		if len(evs) == 0 {
			if d := diffSnaps(snapshot(s.w), before); d != "" {
				s.fatalf("refused command changed the wallet: %s", d)
			}
		}
	}
	for _, e := range evs {
		if err := s.books.book(e); err != nil {
			s.fatalf("%v", err)
		}
	}
	s.all = append(s.all, evs...)
	if err := checkInvariants(s.w); err != nil {
		s.fatalf("invariant: %v", err)
	}
	if err := s.books.check(s.w); err != nil {
		s.fatalf("books: %v", err)
	}
	_, decoded := replayed(s.t, "w1", s.limits, s.all)
	if d := diffSnaps(snapshot(decoded), snapshot(s.w)); d != "" {
		s.fatalf("replay through the codec differs: %s", d)
	}
}
