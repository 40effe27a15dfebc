package actors

// These tests prove the runtime's promises with the real state machine and
// the in-memory journal: a 50-wide burst is decided exactly as a sequential
// run; every wallet equals the fold of its journal, under concurrency and
// under injected journal failures; timers expire holds with no request;
// passivation keeps state; a full mailbox answers overloaded. Time comes
// from testing/synctest bubbles: no test sleeps to synchronise.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func newTestSystem(t *testing.T, j Journal, tune func(*Config)) *System {
	t.Helper()
	cfg := DefaultConfig()
	if tune != nil {
		tune(&cfg)
	}
	s, err := NewSystem(cfg, j)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func ask(t *testing.T, s *System, wallet string, cmd Command) Reply {
	t.Helper()
	r, err := s.Ask(context.Background(), wallet, cmd)
	if err != nil {
		t.Fatalf("%s %s: %v", wallet, cmd.Op(), err)
	}
	return r
}

// fold rebuilds a wallet from the journal alone.
func fold(j *MemJournal, wallet string) *Wallet {
	w := NewWallet(wallet, DefaultLimits())
	for _, e := range j.Events(wallet) {
		w.Apply(e)
	}
	return w
}

func balanceOf(t *testing.T, w *Wallet) BalanceReply {
	t.Helper()
	r, err := w.balance(w.clock)
	if err != nil {
		t.Fatalf("balance of %s: %v", w.ID(), err)
	}
	return r.(BalanceReply)
}

func TestBurstOf50IsDecidedAsASequentialRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		ask(t, s, "acme", Grant{ID: "g1", Amount: 1000, Kind: "paid"})

		var wg sync.WaitGroup
		replies := make([]ReserveReply, 50)
		for i := range 50 {
			wg.Go(func() {
				replies[i] = ask(t, s, "acme", Reserve{ID: fmt.Sprintf("r%d", i), Amount: 30}).(ReserveReply)
			})
		}
		wg.Wait()
		allowed := 0
		for _, r := range replies {
			if r.Available < 0 {
				t.Fatalf("available went negative: %+v", r)
			}
			if r.Allowed {
				allowed++
			}
		}
		if allowed != 1000/30 {
			t.Fatalf("allowed %d reserves of 30 from 1000, want %d", allowed, 1000/30)
		}

		// The same requests, in the order the actor journaled them, on a
		// wallet driven directly must give the same replies.
		seq := NewWallet("acme", DefaultLimits())
		at := time.Now()
		seq.Execute(Grant{ID: "g1", Amount: 1000, Kind: "paid"}, at, nil)
		order := heldOrder(j.Events("acme"))
		for i := range 50 {
			id := fmt.Sprintf("r%d", i)
			if _, held := order[id]; !held && replies[i].Allowed {
				t.Fatalf("%s allowed but not journaled", id)
			}
		}
		live := balanceOf(t, fold(j, "acme"))
		if live.Held != int64(allowed)*30 || live.Available != 1000-int64(allowed)*30 {
			t.Fatalf("journal folds to %+v", live.Figures)
		}
		for _, id := range sortedByPos(order) {
			_, r, err := seq.Execute(Reserve{ID: id, Amount: 30}, at, nil)
			if err != nil || !r.(ReserveReply).Allowed {
				t.Fatalf("sequential replay of %s: %+v %v", id, r, err)
			}
		}
		if !reflect.DeepEqual(balanceOf(t, seq).Figures, live.Figures) {
			t.Fatalf("sequential %+v != concurrent %+v", balanceOf(t, seq).Figures, live.Figures)
		}
	})
}

// heldOrder maps each journaled hold to its position among the holds.
func heldOrder(evs []Event) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		if h, ok := e.(*HoldPlaced); ok {
			out[h.Hold] = len(out)
		}
	}
	return out
}

func sortedByPos(m map[string]int) []string {
	out := make([]string, len(m))
	for id, i := range m {
		out[i] = id
	}
	return out
}

// randomCommand draws a plausible command for wallet traffic tests.
func randomCommand(rng *rand.Rand, n int) Command {
	id := fmt.Sprintf("c%d", n)
	hold := fmt.Sprintf("c%d", rng.IntN(n+1))
	switch rng.IntN(9) {
	case 0:
		return Grant{ID: id, Amount: 1 + rng.Int64N(500), Kind: []string{"promotional", "paid", "included"}[rng.IntN(3)]}
	case 1, 2:
		return Reserve{ID: id, Amount: 1 + rng.Int64N(100), TTLms: 1 + rng.Int64N(5000)}
	case 3:
		return Settle{ID: id, HoldID: hold, Actual: rng.Int64N(150), Final: rng.IntN(4) != 0}
	case 4:
		return Release{ID: id, HoldID: hold}
	case 5:
		return Debit{ID: id, Amount: 1 + rng.Int64N(50)}
	case 6:
		return Extend{ID: id, HoldID: hold, TTLms: 1 + rng.Int64N(5000), Amount: rng.Int64N(200)}
	case 7:
		return Check{Amount: 1 + rng.Int64N(100)}
	}
	return Balance{}
}

func TestManyWalletsEqualTheFoldOfTheirJournals(t *testing.T) {
	wallets, perWallet := 10_000, 6
	if testing.Short() {
		wallets = 1000
	}
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				for w := g; w < wallets; w += 8 {
					name := fmt.Sprintf("w%d", w)
					ask(t, s, name, Grant{ID: "seed", Amount: 1000, Kind: "paid"})
					for n := range perWallet {
						_, _ = s.Ask(context.Background(), name, randomCommand(rng, n))
					}
				}
			})
		}
		wg.Wait()
		if got := len(j.Wallets()); got != wallets {
			t.Fatalf("%d wallets journaled, want %d", got, wallets)
		}
		for w := range wallets {
			name := fmt.Sprintf("w%d", w)
			live := ask(t, s, name, Balance{}).(BalanceReply)
			if want := balanceOf(t, fold(j, name)); !reflect.DeepEqual(live, want) {
				t.Fatalf("%s: live %+v != fold %+v", name, live, want)
			}
		}
	})
}

func TestJournalFailuresLoseNothingAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		j.FailEvery = 3
		s := newTestSystem(t, j, func(c *Config) { c.MaxBatch = 4 })
		type outcome struct {
			id  string
			ok  bool
			err *Error
		}
		var mu sync.Mutex
		var outcomes []outcome
		var wg sync.WaitGroup
		for g := range 4 {
			wallet := fmt.Sprintf("w%d", g%2)
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 2))
				for n := range 200 {
					var cmd Command = Grant{ID: fmt.Sprintf("g%d-%d", g, n), Amount: 100, Kind: "paid"}
					if n%2 == 1 {
						cmd = Debit{ID: fmt.Sprintf("d%d-%d", g, n), Amount: 1 + rng.Int64N(60)}
					}
					_, err := s.Ask(context.Background(), wallet, cmd)
					var e *Error
					if err != nil {
						e = err.(*Error)
					}
					mu.Lock()
					outcomes = append(outcomes, outcome{id: RequestID(cmd), ok: err == nil, err: e})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		journaled := map[string]bool{}
		for _, w := range []string{"w0", "w1"} {
			for _, e := range j.Events(w) {
				if id := answerID(e); id != "" {
					journaled[id] = true
				}
			}
		}
		failed := 0
		for _, o := range outcomes {
			switch {
			case o.ok && !journaled[o.id]:
				t.Fatalf("%s acknowledged but not in the journal", o.id)
			case !o.ok && journaled[o.id]:
				t.Fatalf("%s in the journal but answered %v", o.id, o.err)
			case !o.ok && o.err.Code != ErrUnavailable && o.err.Code != ErrWalletNotFound:
				t.Fatalf("%s: unexpected error %v", o.id, o.err)
			case !o.ok:
				failed++
			}
		}
		if failed == 0 {
			t.Fatal("no injected failure reached a client: the test proves nothing")
		}
		for _, w := range []string{"w0", "w1"} {
			live := ask(t, s, w, Balance{}).(BalanceReply)
			if want := balanceOf(t, fold(j, w)); !reflect.DeepEqual(live, want) {
				t.Fatalf("%s: live %+v != fold %+v", w, live.Figures, want.Figures)
			}
		}
	})
}

func answerID(e Event) string {
	switch e := e.(type) {
	case *GrantCreated:
		return e.Answer.ID
	case *Debited:
		return e.Answer.ID
	}
	return ""
}

// A fenced actor answers not_owner and goes; a client that retries at once
// (here from inside the reply, before the actor has done anything else)
// must reach a fresh actor, which reads what the other writer appended and
// succeeds, not the old one on its way out.
func TestRetryAfterNotOwnerReachesAFreshActor(t *testing.T) {
	j := NewMemJournal()
	s := newTestSystem(t, j, nil)
	ask(t, s, "w", Grant{ID: "g1", Amount: 100, Kind: "paid"})

	// Another writer (a node that took the wallet over) appends a debit.
	other := fold(j, "w")
	evs, _, aerr := other.Execute(Debit{ID: "d-other", Amount: 10}, time.Now(), nil)
	if aerr != nil {
		t.Fatal(aerr)
	}
	last, err := j.Read(context.Background(), "w", 0, func(uint64, []Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	landed := make(chan error, 1)
	j.Append("w", last, evs, func(_ uint64, err error) { landed <- err })
	if err := <-landed; err != nil {
		t.Fatal(err)
	}

	got := make(chan string, 2)
	s.Send("w", Debit{ID: "d-a", Amount: 20}, func(_ Reply, err *Error) {
		if err == nil || err.Code != ErrNotOwner {
			got <- fmt.Sprintf("stale actor: %v, want not_owner", err)
			return
		}
		s.Send("w", Debit{ID: "d-a", Amount: 20}, func(r Reply, err *Error) {
			switch {
			case err != nil:
				got <- fmt.Sprintf("retry: %v", err)
			case r.(DebitReply).Available != 70:
				got <- fmt.Sprintf("retry: available %d, want 70 (each debit once)", r.(DebitReply).Available)
			default:
				got <- ""
			}
		})
	})
	if msg := <-got; msg != "" {
		t.Fatal(msg)
	}
}

// A malformed request is invalid_request whether or not its wallet
// exists, in-process too: the System checks request ids before it looks
// the wallet up (its actor, or its entry among the known unknowns).
func TestMalformedIDsBeforeTheWalletIsLookedUp(t *testing.T) {
	s := newTestSystem(t, NewMemJournal(), nil)
	ask(t, s, "known", Grant{ID: "g", Amount: 100, Kind: "paid"})
	code := func(wallet string, cmd Command) Code {
		t.Helper()
		_, err := s.Ask(context.Background(), wallet, cmd)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s %s: %v, want a coded error", wallet, cmd.Op(), err)
		}
		return e.Code
	}
	// Twice on the unknown wallet: the second goes through the cache of
	// wallets known not to exist.
	for range 2 {
		if got := code("ghost", Debit{ID: "d", Amount: 1}); got != ErrWalletNotFound {
			t.Fatalf("well-formed debit of an unknown wallet: %s", got)
		}
		for _, cmd := range malformedIDs {
			for _, wallet := range []string{"ghost", "known"} {
				if got := code(wallet, cmd); got != ErrInvalidRequest {
					t.Fatalf("%s %+v on %s: %s, want invalid_request", cmd.Op(), cmd, wallet, got)
				}
			}
		}
	}
}

// malformedIDs are requests whose ids are missing or malformed, each also
// wrong in a way a later check would refuse with another code.
var malformedIDs = []Command{Release{}, Settle{ID: "s", Actual: -1}, Revoke{ID: "v"}, Reserve{Amount: 5},
	Extend{ID: "e", HoldID: strings.Repeat("h", MaxIDLength+1)}, Debit{ID: "\xff", Amount: -1}}

// The core checks ids in the same order as the System: first, before
// whether the wallet exists and before every other field.
func TestDecideChecksIDsFirst(t *testing.T) {
	ghost := NewWallet("ghost", DefaultLimits())
	known := NewWallet("known", DefaultLimits())
	if _, _, err := known.Execute(Grant{ID: "g", Amount: 100, Kind: "paid"}, time.Unix(1, 0), nil); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range malformedIDs {
		for _, w := range []*Wallet{ghost, known} {
			if _, _, err := w.Execute(cmd, time.Unix(2, 0), nil); err == nil || err.Code != ErrInvalidRequest {
				t.Fatalf("%s %+v on %s: %v, want invalid_request", cmd.Op(), cmd, w.ID(), err)
			}
		}
	}
}
