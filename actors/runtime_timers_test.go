package actors

// Timers, passivation, overload, unknown wallets and fault isolation, each
// in a testing/synctest bubble: time.Sleep there advances a fake clock
// instantly, and synctest.Wait returns once every actor is idle.

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func countEvents[T Event](evs []Event) int {
	n := 0
	for _, e := range evs {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

// A due change waits TickDelay for a request to carry it: a request in
// that time applies it before it is decided (and journals it with its own
// events); with none, the wallet applies it itself at due + TickDelay, in
// one append with whatever else fell due meanwhile.
func TestADueChangeWaitsTickDelayForARequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.TickDelay = 500 * time.Millisecond })
		ask(t, s, "w", Grant{ID: "paid", Amount: 100, Kind: "paid"})
		ask(t, s, "w", Reserve{ID: "r1", Amount: 30, TTLms: 1000})
		ask(t, s, "w", Reserve{ID: "r2", Amount: 20, TTLms: 1100})
		ask(t, s, "w", Reserve{ID: "r3", Amount: 10, TTLms: 1000})

		time.Sleep(1400 * time.Millisecond) // r1 and r3 due 400 ms ago, r2 300 ms ago
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("w")); n != 0 {
			t.Fatalf("%d holds expired before TickDelay passed with no request", n)
		}
		// A request applies what is due at its time first.
		if b := ask(t, s, "w", Balance{}).(BalanceReply); b.Held != 0 || b.Holds != 0 {
			t.Fatalf("balance 400 ms after the holds' expiry: %+v", b)
		}
		if n := countEvents[*HoldExpired](j.Events("w")); n != 3 {
			t.Fatalf("the balance journaled %d hold_expired, want 3", n)
		}

		ask(t, s, "w", Reserve{ID: "r4", Amount: 30, TTLms: 1000})
		ask(t, s, "w", Reserve{ID: "r5", Amount: 20, TTLms: 1200})
		before := batches(t, j, "w")
		time.Sleep(1499 * time.Millisecond)
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("w")); n != 3 {
			t.Fatalf("r4 expired %d hold_expired before its due time + TickDelay", n-3)
		}
		time.Sleep(time.Millisecond) // r4's due time + TickDelay; r5 is due by then too
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("w")); n != 5 {
			t.Fatalf("%d hold_expired after r4's due time + TickDelay, want 5", n)
		}
		if n := batches(t, j, "w") - before; n != 1 {
			t.Fatalf("r4 and r5 expired in %d appends, want one", n)
		}
	})
}

// slowJournal is a MemJournal whose appends take lag to land.
type slowJournal struct {
	*MemJournal
	lag time.Duration
}

func (j slowJournal) Append(wallet string, prev uint64, evs []Event, done func(uint64, error)) {
	time.AfterFunc(j.lag, func() { j.MemJournal.Append(wallet, prev, evs, done) })
}

// The timer is measured from when it is armed, after the batch's append,
// not from the batch's time: with appends that take 400 ms, a hold's
// expiry is still journaled within a second of it (here at 0.9 s: the
// delay and the Tick's own append). It was 1.3 s when the timer counted
// from the decision.
func TestAnExpiryIsJournaledWithinASecondWhenAppendsAreSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := slowJournal{NewMemJournal(), 400 * time.Millisecond}
		s := newTestSystem(t, j, func(c *Config) { c.TickDelay = 500 * time.Millisecond })
		ask(t, s, "w", Grant{ID: "paid", Amount: 100, Kind: "paid"})
		start := time.Now()
		ask(t, s, "w", Reserve{ID: "r1", Amount: 30, TTLms: 1000}) // decided at start, landed at +0.4 s
		time.Sleep(time.Until(start.Add(time.Second + 950*time.Millisecond)))
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("w")); n != 1 {
			t.Fatalf("0.95 s after the hold's expiry, %d hold_expired journaled", n)
		}
	})
}

// batches counts the appends journaled for wallet.
func batches(t *testing.T, j *MemJournal, wallet string) int {
	t.Helper()
	n := 0
	if _, err := j.Read(context.Background(), wallet, 0, func(uint64, []Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTimersExpireHoldsAndGrantsWithNoRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		ask(t, s, "w", Grant{ID: "paid", Amount: 100, Kind: "paid"})
		ask(t, s, "w", Grant{ID: "promo", Amount: 50, Kind: "promotional", ExpiresAt: time.Now().Add(3 * time.Second)})
		ask(t, s, "w", Reserve{ID: "r1", Amount: 30, TTLms: 1000})                          // promo 30
		ask(t, s, "w", Reserve{ID: "r2", Amount: 40, TTLms: 2000, OnExpiry: ExpireCapture}) // promo 20 + paid 20

		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		evs := j.Events("w")
		if countEvents[*HoldExpired](evs) != 1 {
			t.Fatalf("after 1.5s want r1 expired, journal has %d hold_expired", countEvents[*HoldExpired](evs))
		}
		if f := fold(j, "w").Figures(); f != (Figures{Balance: 150, Held: 40, Available: 110}) {
			t.Fatalf("after r1 expired: %+v", f)
		}

		time.Sleep(time.Second)
		synctest.Wait()
		if f := fold(j, "w").Figures(); f != (Figures{Balance: 110, Held: 0, Available: 110}) {
			t.Fatalf("after r2 captured: %+v", f)
		}

		time.Sleep(time.Second)
		synctest.Wait()
		evs = j.Events("w")
		if countEvents[*GrantExpired](evs) != 1 {
			t.Fatalf("promo should have expired by itself, journal: %d grant_expired", countEvents[*GrantExpired](evs))
		}
		// promo: 50 − 20 captured = 30 free, forfeited at expiry.
		if f := fold(j, "w").Figures(); f != (Figures{Balance: 80, Held: 0, Available: 80}) {
			t.Fatalf("after promo expired: %+v", f)
		}
	})
}

func TestPassivationKeepsStateAndHoldsKeepActors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.IdleAfter = time.Minute })
		ask(t, s, "idle", Grant{ID: "g", Amount: 1000, Kind: "paid", ExpiresAt: time.Now().Add(time.Hour)})
		ask(t, s, "idle", Reserve{ID: "r", Amount: 300})
		ask(t, s, "idle", Settle{ID: "s", HoldID: "r", Actual: 120, Final: true})
		before := ask(t, s, "idle", Balance{}).(BalanceReply)
		ask(t, s, "busy", Grant{ID: "g", Amount: 10, Kind: "paid"})
		ask(t, s, "busy", Reserve{ID: "r", Amount: 5, TTLms: 10 * 60 * 1000})

		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if s.Live() != 1 || s.Stats().Passivations != 1 {
			t.Fatalf("want only the wallet with an open hold live: live=%d stats=%+v", s.Live(), s.Stats())
		}
		after := ask(t, s, "idle", Balance{}).(BalanceReply)
		if after.Figures != before.Figures || len(after.Grants) != 1 || after.Grants[0].Remaining != 880 {
			t.Fatalf("reactivated wallet differs: before %+v after %+v", before, after)
		}
		// A retry of a settle answered before passivation gets the same reply.
		if r := ask(t, s, "idle", Settle{ID: "s", HoldID: "r", Actual: 120, Final: true}).(SettleReply); r.Consumed != 120 || r.Released != 180 {
			t.Fatalf("retry after passivation: %+v", r)
		}

		// Passivated again, the grant's expiry still happens: the node's
		// wake-up list sends the Tick.
		time.Sleep(time.Hour)
		synctest.Wait()
		if countEvents[*GrantExpired](j.Events("idle")) != 1 {
			t.Fatal("grant of a passivated wallet did not expire")
		}
	})
}

func TestFullMailboxAnswersOverloaded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.MailboxSize = 2 })
		ask(t, s, "w", Grant{ID: "g", Amount: 1000, Kind: "paid"})
		j.Delay = time.Second // the actor now waits a second per append

		var overloaded, answered atomic.Int32
		count := func(_ Reply, err *Error) {
			answered.Add(1)
			if err != nil && err.Code == ErrOverloaded {
				overloaded.Add(1)
			}
		}
		s.Send("w", Debit{ID: "first", Amount: 1}, count)
		synctest.Wait() // the actor holds "first" in its append
		for i := range 10 {
			s.Send("w", Debit{ID: fmt.Sprintf("d%d", i), Amount: 1}, count)
		}
		if overloaded.Load() != 8 {
			t.Fatalf("want 8 overloaded at once (mailbox of 2), got %d", overloaded.Load())
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if answered.Load() != 11 {
			t.Fatalf("want every request answered, got %d", answered.Load())
		}
		if got := len(j.Events("w")); got != 4 {
			t.Fatalf("journal holds %d events, want grant + 3 debits", got)
		}
	})
}

func TestUnknownWalletsAreCachedAndStartNoActor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		for range 3 {
			if _, err := s.Ask(context.Background(), "nobody", Balance{}); err == nil || err.(*Error).Code != ErrWalletNotFound {
				t.Fatalf("want wallet_not_found, got %v", err)
			}
		}
		synctest.Wait()
		st := s.Stats()
		if st.Activations != 1 || st.NotFoundCached != 2 || st.Live != 0 {
			t.Fatalf("want one activation then cached answers: %+v", st)
		}
		ask(t, s, "nobody", Grant{ID: "g", Amount: 5, Kind: "paid"}) // creation bypasses the cache
		if r := ask(t, s, "nobody", Balance{}).(BalanceReply); r.Balance != 5 {
			t.Fatalf("created wallet: %+v", r)
		}
	})
}

func TestPanicFailsOnlyItsBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		var explode atomic.Bool
		s := newTestSystem(t, j, func(c *Config) {
			c.Now = func() time.Time {
				if explode.CompareAndSwap(true, false) {
					panic("injected")
				}
				return time.Now()
			}
		})
		ask(t, s, "a", Grant{ID: "g", Amount: 100, Kind: "paid"})
		ask(t, s, "b", Grant{ID: "g", Amount: 100, Kind: "paid"})
		synctest.Wait() // every goroutine (the wake-up loop too) is parked: the next clock read is the batch's
		explode.Store(true)
		_, err := s.Ask(context.Background(), "a", Debit{ID: "d1", Amount: 10})
		if err == nil || err.(*Error).Code != ErrUnavailable {
			t.Fatalf("want unavailable from the panicking batch, got %v", err)
		}
		if s.Stats().Panics != 1 {
			t.Fatalf("panic not counted: %+v", s.Stats())
		}
		if r := ask(t, s, "a", Debit{ID: "d1", Amount: 10}).(DebitReply); r.Available != 90 {
			t.Fatalf("retry after the panic: %+v", r)
		}
		if r := ask(t, s, "b", Balance{}).(BalanceReply); r.Available != 100 {
			t.Fatalf("other wallet touched: %+v", r)
		}
	})
}

func TestBatchTooLargeIsSplitNotFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		ask(t, s, "w", Grant{ID: "g", Amount: 1000, Kind: "paid"})
		j.Delay = time.Second // the next requests queue behind one append
		j.MaxEvents = 3       // and the journal takes at most 3 events a batch
		failed, answers, count := answerCounter(11)
		s.Send("w", Debit{ID: "first", Amount: 1}, count)
		synctest.Wait()
		for i := range 10 {
			s.Send("w", Debit{ID: fmt.Sprintf("d%d", i), Amount: 1}, count)
		}
		for range 11 {
			<-answers
		}
		if failed.Load() != 0 {
			t.Fatalf("%d requests failed; a too-large batch must be split, not refused", failed.Load())
		}
		if got := countEvents[*Debited](j.Events("w")); got != 11 {
			t.Fatalf("journal holds %d debits, want 11", got)
		}
		if f := fold(j, "w").Figures(); f.Balance != 989 {
			t.Fatalf("folded balance %d, want 989", f.Balance)
		}
	})
}

// The due timer is re-armed only for an earlier time: when the earliest
// hold moves later (extended) or goes (settled), the timer fires at the old
// time into a Tick that finds nothing due, and the holds still expire at
// their own times, not before.
func TestTimerFiringEarlyExpiresNothingBeforeItsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		ask(t, s, "w", Grant{ID: "g", Amount: 1000, Kind: "paid"})
		ask(t, s, "w", Reserve{ID: "a", Amount: 10, TTLms: 1000})
		ask(t, s, "w", Reserve{ID: "b", Amount: 10, TTLms: 2000})
		ask(t, s, "w", Extend{ID: "xa", HoldID: "a", TTLms: 5000}) // a now expires at ~5s
		ask(t, s, "w", Settle{ID: "sb", HoldID: "b", Actual: 10, Final: true})

		time.Sleep(4500 * time.Millisecond) // past a's and b's first times
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("w")); n != 0 {
			t.Fatalf("%d holds expired before their time", n)
		}
		if f := fold(j, "w").Figures(); f.Held != 10 {
			t.Fatalf("hold a should still be open: %+v", f)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("w")); n != 1 {
			t.Fatalf("want a expired at its extended time, got %d expiries", n)
		}
	})
}

// readFailing is a MemJournal whose reads fail once failReads is set.
type readFailing struct {
	*MemJournal
	failReads atomic.Bool
}

func (j *readFailing) Read(ctx context.Context, wallet string, from uint64, fn func(uint64, []Event) error) (uint64, error) {
	if j.failReads.Load() {
		return from, ErrInjected
	}
	return j.MemJournal.Read(ctx, wallet, from, fn)
}

// A too-large batch whose wallet cannot be rebuilt for the split still
// answers every one of its requests.
func TestBatchSplitWithFailedRebuildAnswersEveryRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := &readFailing{MemJournal: NewMemJournal()}
		s := newTestSystem(t, j, nil)
		ask(t, s, "w", Grant{ID: "g", Amount: 1000, Kind: "paid"})
		j.Delay = time.Second
		j.MaxEvents = 3
		failed, answers, count := answerCounter(11)
		s.Send("w", Debit{ID: "first", Amount: 1}, count)
		synctest.Wait()
		j.failReads.Store(true)
		for i := range 10 {
			s.Send("w", Debit{ID: fmt.Sprintf("d%d", i), Amount: 1}, count)
		}
		for range 11 {
			<-answers
		}
		if failed.Load() != 10 {
			t.Fatalf("%d requests failed, want the 10 of the batch that could not be rebuilt", failed.Load())
		}
	})
}

// A wallet passivated again and again with the same grant change due keeps
// one entry on the node's wake-up list, not one per passivation.
func TestWakeupListKeepsOneEntryPerWalletAndTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.IdleAfter = time.Minute })
		ask(t, s, "w", Grant{ID: "g", Amount: 10, Kind: "paid", ExpiresAt: time.Now().Add(time.Hour)})
		for range 5 {
			time.Sleep(2 * time.Minute)
			synctest.Wait()
			ask(t, s, "w", Balance{})
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		s.wake.mu.Lock()
		n := len(s.wake.due)
		s.wake.mu.Unlock()
		if n != 1 || s.Stats().Passivations != 6 {
			t.Fatalf("%d wake-up entries after %d passivations, want 1", n, s.Stats().Passivations)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if countEvents[*GrantExpired](j.Events("w")) != 1 {
			t.Fatal("grant of a passivated wallet did not expire")
		}
	})
}

// answerCounter is a reply callback that counts errors and signals each
// answer on a channel of n.
func answerCounter(n int) (*atomic.Int32, chan struct{}, ReplyFunc) {
	failed := new(atomic.Int32)
	answers := make(chan struct{}, n)
	return failed, answers, func(_ Reply, err *Error) {
		if err != nil {
			failed.Add(1)
		}
		answers <- struct{}{}
	}
}
