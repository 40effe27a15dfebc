package actors

// Properties of the wallet over random command sequences (pgregory.net/rapid
// shrinks a failure to a short sequence). After every step:
//   - strict mode never authorizes past available: an allowed strict reserve
//     (and any extend that raises a hold) needed debt == 0 and amount <=
//     available before it, and leaves available >= 0. Available is negative
//     only through debt (over-settle, late settle, debit), never through an
//     authorization: free credits never go below zero and never sit beside
//     debt;
//   - conservation: Σ granted = Σ remaining + Σ consumed + Σ forfeited, per
//     grant and in total, and debt = Σ debt added − Σ repaid, all from the
//     events;
//   - burn-down: every earmark and consumption takes from the earliest grant
//     in the order first (checked against a re-sorted shadow wallet);
//   - replay determinism: the events folded into a fresh wallet, directly and
//     through AppendEvents/DecodeEvents, give an equal state;
//   - a refused command (error or denial) emits nothing and changes nothing;
//   - a retry of an accepted command (whose id the wallet still remembers)
//     returns the identical first reply and changes nothing;
//   - its id with another op or other content (any one field) is
//     idempotency_conflict, and changes nothing; so is a grant of a live
//     grant's id, once its request is forgotten;
//   - prefetching a request's ids (the actor does it one request ahead)
//     changes nothing: the wallet that did stays equal to its replay;
//   - a check decides as a reserve of the same request on a copy of the
//     wallet would: allowed, reason, denied_by, retry_after_ms;
//   - governance (principals, features, policies drawn at random): an
//     allowed strict reserve leaves consumed + held within every cap along
//     its path and its feature's limit, and each governed level holds
//     exactly its open holds (checkGovernance).

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"
)

type executed struct {
	cmd   Command
	reply Reply
}

// accepted keeps the last accepted request of each id, for retries and
// conflicts to send again.
type accepted struct {
	list []executed
	at   map[string]int
}

func (a *accepted) add(e executed) {
	id := RequestID(e.cmd)
	if i, ok := a.at[id]; ok {
		a.list[i] = e
		return
	}
	if a.at == nil {
		a.at = map[string]int{}
	}
	a.at[id] = len(a.list)
	a.list = append(a.list, e)
}

// remembered splits the requests w remembers the ids of (a retry of
// another would be a new request) from the grants it forgot the requests
// of but keeps: a live grant's id stays taken (docs/semantics.md, Grants).
func (a *accepted) remembered(w *Wallet, now time.Time) (known, grants []executed) {
	for _, e := range a.list {
		id := RequestID(e.cmd)
		if w.ids.lookup(id, now.UnixNano(), int64(w.limits.IDRetention)) != nil {
			known = append(known, e)
		} else if _, ok := e.cmd.(Grant); ok && w.grants[id] != nil {
			grants = append(grants, e)
		}
	}
	return known, grants
}

func TestWalletProperties(t *testing.T) {
	var steps, retries, checks, conflicts atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		limits := genLimits(rt)
		w := NewWallet("w1", limits)
		w.ids.prefetchAny = true // the prefetch below runs on this small index
		books := newAccountant("w1", limits)
		decoded := NewWallet("w1", limits)
		g := newGen(rt, true)
		var all, evs []Event
		var sent accepted

		book := func(evs []Event) {
			for _, e := range evs {
				if err := books.book(e); err != nil {
					rt.Fatalf("%v", err)
				}
			}
			buf, err := AppendEvents(nil, evs)
			if err != nil {
				rt.Fatalf("AppendEvents: %v", err)
			}
			dec, err := DecodeEvents(buf)
			if err != nil || len(dec) != len(evs) {
				rt.Fatalf("DecodeEvents: %v (%d of %d)", err, len(dec), len(evs))
			}
			for _, e := range dec {
				decoded.Apply(e)
			}
			all = append(all, evs...)
		}
		check := func(what string) {
			if err := checkInvariants(w); err != nil {
				rt.Fatalf("%s: invariant: %v", what, err)
			}
			if err := books.check(w); err != nil {
				rt.Fatalf("%s: %v", what, err)
			}
			if d := diffSnaps(snapshot(decoded), snapshot(w)); d != "" {
				rt.Fatalf("%s: replay through the codec differs: %s", what, d)
			}
		}

		for i := 0; i < stepsPerRun; i++ {
			steps.Add(1)
			g.advance(rt)
			// Apply what is due first, so the command's own events can be
			// told apart (Execute does the same in one call).
			evs, _, _ = w.Execute(Tick{}, g.now, evs[:0])
			g.observe(evs)
			book(evs)
			check("tick")

			// A step retries an accepted request, sends its id with other
			// content, or sends a new request.
			var c Command
			var first executed
			var known, grants []executed
			step := uniform(rt, 0, 7, "step")
			if step < 2 {
				known, grants = sent.remembered(w, g.now)
			}
			retry := step == 0 && len(known) > 0
			conflict := step == 1 && len(known)+len(grants) > 0
			switch {
			case retry:
				first = sampled(rt, known, "retry of")
				c = first.cmd
			case conflict && len(grants) > 0 && (len(known) == 0 || uniform(rt, 0, 3, "live grant") == 0):
				// The same grant again, or changed: its request is
				// forgotten, but the grant holds its id.
				first = sampled(rt, grants, "grant again")
				c = g.validGrant(first.cmd.(Grant))
				if uniform(rt, 0, 1, "grant changed") == 0 {
					c = g.changed(rt, c)
				}
			case conflict:
				first = sampled(rt, known, "conflict with")
				c = g.conflicting(rt, first.cmd)
			default:
				c = g.command(rt, w.Figures())
			}
			before := snapshot(w)
			var probe *Wallet // a copy, for a check's decision to be compared with a reserve's
			if _, ok := c.(Check); ok {
				probe = copyWallet(rt, w, limits)
			}
			pre := w.Figures()
			preDebt, mode := w.debt, w.settings.Mode
			var preHold int64
			if x, ok := c.(Extend); ok && w.openHold(x.HoldID) != nil {
				preHold = w.openHold(x.HoldID).amount
			}

			// The actor prefetches each request's ids before the one ahead
			// of it is decided: the next command's, or another's when a
			// batch is cut short. Neither may change a decision.
			switch uniform(rt, 0, 2, "prefetch") {
			case 1:
				w.prefetch(c)
			case 2:
				if len(sent.list) > 0 {
					w.prefetch(sampled(rt, sent.list, "prefetch of").cmd)
				}
			}
			evs, reply, err := w.Execute(c, g.now, evs[:0])
			what := c.Op()
			g.observe(evs)
			if ch, ok := c.(Check); ok && checkLikeReserve(rt, probe, ch, g.now, reply, err) {
				checks.Add(1)
			}
			if conflict && (err == nil || err.Code != ErrIdempotencyConflict) {
				rt.Fatalf("%#v after %#v was accepted: %+v (err %v), want idempotency_conflict", c, first.cmd, reply, err)
			}
			refused := err != nil || isDenial(reply)
			if refused || retry {
				if len(evs) != 0 {
					rt.Fatalf("%#v refused or retried (%v, %+v) but emitted %d events", c, err, reply, len(evs))
				}
				if d := diffSnaps(snapshot(w), before); d != "" {
					rt.Fatalf("%#v refused or retried but changed the wallet: %s", c, d)
				}
			}
			if retry {
				retries.Add(1)
				if err != nil || !reflect.DeepEqual(normReply(reply), normReply(first.reply)) {
					rt.Fatalf("retry of %#v replied %+v (err %v), first reply %+v", c, reply, err, first.reply)
				}
				continue
			}
			if conflict {
				conflicts.Add(1)
				continue
			}
			if err == nil && !refused && RequestID(c) != "" {
				sent.add(executed{c, reply})
			}
			// A replayed reply (accepted, no events) is the first one's.
			replayed := !refused && len(evs) == 0 && RequestID(c) != ""
			if err == nil && !replayed {
				after := w.Figures()
				switch r := reply.(type) {
				case ReserveReply:
					if res, ok := c.(Reserve); ok && r.Allowed && mode == Strict {
						if err := capsHold(w, res.Principal, res.Feature); err != nil {
							rt.Fatalf("strict reserve of %d by %q: %v", res.Amount, res.Principal, err)
						}
						amt := res.Amount
						if preDebt != 0 || amt > pre.Available || after.Available < 0 ||
							after.Available != pre.Available-amt || after.Held != pre.Held+amt {
							rt.Fatalf("strict reserve of %d authorized past available: before %+v debt %d, after %+v",
								amt, pre, preDebt, after)
						}
					}
				case ExtendReply:
					if more := r.Amount - preHold; r.Allowed && more > 0 && (preDebt != 0 || more > pre.Available) {
						rt.Fatalf("extend by %d authorized past available %d (debt %d)", more, pre.Available, preDebt)
					}
				}
				// Every reply states the figures after the request (check: before).
				if f, ok := replyFigures(reply); ok {
					want := after
					if _, isCheck := c.(Check); isCheck {
						want = pre
					}
					if f != want {
						rt.Fatalf("%s replied figures %+v, wallet has %+v", what, f, want)
					}
				}
			}
			book(evs)
			check(what)
		}
		direct, dec := replayed(rt, "w1", limits, all)
		if d := diffSnaps(snapshot(direct), snapshot(w)); d != "" {
			rt.Fatalf("full replay differs: %s", d)
		}
		if d := diffSnaps(snapshot(dec), snapshot(w)); d != "" {
			rt.Fatalf("full replay through the codec differs: %s", d)
		}
	})
	t.Logf("%d steps: %d retries, %d idempotency conflicts, %d checks decided as a reserve",
		steps.Load(), retries.Load(), conflicts.Load(), checks.Load())
}

func decision(r ReserveReply) string {
	s := fmt.Sprintf("allowed %v reason %q retry_after %d", r.Allowed, r.Reason, r.RetryAfterMs)
	if r.DeniedBy != nil {
		s += fmt.Sprintf(" denied_by %+v", *r.DeniedBy)
	}
	return s
}

func copyWallet(t *rapid.T, w *Wallet, limits Limits) *Wallet {
	cp, _, err := FromImage(w.Image(1), limits)
	if err != nil {
		t.Fatalf("copy of the wallet: %v", err)
	}
	return cp
}

// checkLikeReserve compares a check's decision with a reserve's of the same
// request on a copy of the wallet it was decided on (SPEC §8: a check is
// "as reserve"): allowed, reason, denied_by and retry_after_ms, or the error
// code. A check ignores the bound on open holds (it places none), so a
// reserve refused for it is no difference. It reports whether the two were
// compared.
func checkLikeReserve(t *rapid.T, cp *Wallet, c Check, now time.Time, reply Reply, err *Error) bool {
	res := Reserve{ID: "probe", Amount: c.Amount, TTLms: c.TTLms, OnExpiry: c.OnExpiry,
		Principal: c.Principal, Feature: c.Feature, Meta: c.Meta}
	_, rr, rerr := cp.Execute(res, now, nil)
	if err == nil && reply.(ReserveReply).Allowed && rerr != nil && rerr.Code == ErrLimitExceeded {
		return false
	}
	if err != nil || rerr != nil {
		if err == nil || rerr == nil || err.Code != rerr.Code {
			t.Fatalf("%#v: check %+v (err %v), reserve %+v (err %v)", c, reply, err, rr, rerr)
		}
		return true
	}
	a, b := reply.(ReserveReply), rr.(ReserveReply)
	if a.Allowed != b.Allowed || a.Reason != b.Reason || !reflect.DeepEqual(a.DeniedBy, b.DeniedBy) ||
		a.RetryAfterMs != b.RetryAfterMs {
		t.Fatalf("%#v: check decided %s, reserve %s", c, decision(a), decision(b))
	}
	return true
}

func replyFigures(r Reply) (Figures, bool) {
	switch x := r.(type) {
	case ReserveReply:
		return x.Figures, true
	case SettleReply:
		return x.Figures, true
	case ReleaseReply:
		return x.Figures, true
	case ExtendReply:
		return x.Figures, true
	case DebitReply:
		return x.Figures, true
	case BalanceReply:
		return x.Figures, true
	case GrantReply:
		return x.Figures, true
	case RevokeReply:
		return x.Figures, true
	}
	return Figures{}, false
}
