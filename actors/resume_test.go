package actors

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// After a restart no timer runs until something activates a wallet:
// Resume applies what fell due meanwhile (journaled before it returns),
// keeps a wallet with open holds in memory with its timer, lets one with
// nothing open go at once, its grant expiry on the wake-up list, and
// leaves a live wallet alone (and one that never was, nothing).
func TestResumeBringsTimersBackAfterARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		first := newTestSystem(t, j, nil)
		for _, w := range []string{"lapsed", "open", "grant", "live"} {
			ask(t, first, w, Grant{ID: "g", Amount: 100, Kind: "paid"})
		}
		ask(t, first, "lapsed", Reserve{ID: "r", Amount: 30, TTLms: 1_000})
		ask(t, first, "open", Reserve{ID: "r", Amount: 30, TTLms: 60_000})
		ask(t, first, "grant", Grant{ID: "soon", Amount: 5, Kind: "promotional", ExpiresAt: time.Now().Add(10 * time.Minute)})
		if err := first.Close(context.Background()); err != nil {
			t.Fatal(err)
		}

		time.Sleep(30 * time.Second) // the node is down; "lapsed" falls due
		s := newTestSystem(t, j, nil)
		ask(t, s, "live", Balance{})
		for _, w := range []string{"lapsed", "open", "grant", "live", "never-was"} {
			if err := s.Resume(context.Background(), w); err != nil {
				t.Fatalf("Resume(%s): %v", w, err)
			}
		}
		if n := countEvents[*HoldExpired](j.Events("lapsed")); n != 1 {
			t.Fatalf("the hold that fell due while the node was down: %d hold_expired once resumed", n)
		}
		synctest.Wait()
		if got := s.Live(); got != 2 { // "open", kept by its hold, and "live"
			t.Fatalf("%d wallets live after Resume, want 2", got)
		}
		time.Sleep(61 * time.Second) // "open" expires with no request
		synctest.Wait()
		if n := countEvents[*HoldExpired](j.Events("open")); n != 1 {
			t.Fatalf("the resumed wallet's hold: %d hold_expired at its time", n)
		}
		time.Sleep(10 * time.Minute) // "grant"'s promotional grant expires, from the wake-up list
		synctest.Wait()
		if n := countEvents[*GrantExpired](j.Events("grant")); n != 1 {
			t.Fatalf("the resumed wallet's grant: %d grant_expired at its time", n)
		}
	})
}

// Resume leaves the last eighth of the wallet table to requests: with it
// full of wallets kept by their holds, a resume is refused (and counted
// as the sweep's, not as an overloaded request) while a request for a new
// wallet still gets a slot.
func TestResumeLeavesTheTablesLastSlotsToRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		first := newTestSystem(t, j, nil)
		ask(t, first, "asleep", Grant{ID: "g", Amount: 100, Kind: "paid"})
		if err := first.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := newTestSystem(t, j, func(c *Config) { c.MaxActors = 8 })
		for i := range 7 {
			w := string(rune('a' + i))
			ask(t, s, w, Grant{ID: "g", Amount: 100, Kind: "paid"})
			ask(t, s, w, Reserve{ID: "r", Amount: 1, TTLms: 60_000})
		}
		err := s.Resume(context.Background(), "asleep")
		if e, ok := err.(*Error); !ok || e.Code != ErrOverloaded {
			t.Fatalf("Resume with 7 of 8 slots taken: %v, want overloaded", err)
		}
		ask(t, s, "new", Grant{ID: "g", Amount: 100, Kind: "paid"})
		st := s.Stats()
		if st.TicksRefused != 1 || st.Overloaded != 0 {
			t.Fatalf("resumes deferred %d, requests overloaded %d; want 1 and 0", st.TicksRefused, st.Overloaded)
		}
		if got := s.Live(); got != 8 {
			t.Fatalf("%d live, want 8", got)
		}
	})
}

// A wake-up refused because the wallet table is full is sent again: the
// passivated wallet's grant expires once there is room, with no request.
// Until then the refusals are the runtime's, not requests'.
func TestAWakeupRefusedForAFullTableIsSentAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.MaxActors, c.IdleAfter = 1, time.Minute })
		ask(t, s, "asleep", Grant{ID: "g", Amount: 10, Kind: "promotional", ExpiresAt: time.Now().Add(time.Hour)})
		time.Sleep(2 * time.Minute) // "asleep" leaves memory, its expiry on the wake-up list
		synctest.Wait()
		ask(t, s, "busy", Grant{ID: "g", Amount: 10, Kind: "paid"})
		ask(t, s, "busy", Reserve{ID: "r", Amount: 1, TTLms: 2 * 3_600_000})
		time.Sleep(time.Hour) // the expiry is due: the table is full
		synctest.Wait()
		if n := countEvents[*GrantExpired](j.Events("asleep")); n != 0 || s.Stats().TicksRefused == 0 {
			t.Fatalf("with the table full: %d grant_expired, %d ticks refused", n, s.Stats().TicksRefused)
		}
		ask(t, s, "busy", Release{ID: "x", HoldID: "r"})
		time.Sleep(2 * time.Minute) // "busy" leaves memory; a retry finds room
		synctest.Wait()
		if n := countEvents[*GrantExpired](j.Events("asleep")); n != 1 {
			t.Fatalf("%d grant_expired once there was room, want 1", n)
		}
		if st := s.Stats(); st.Overloaded != 0 {
			t.Fatalf("%d refusals counted as requests'", st.Overloaded)
		}
	})
}

// A wallet out of memory that the wake-up list activates for a grant
// change leaves memory again at once (it has nothing open): wake-ups do
// not hold the table's slots for IdleAfter.
func TestAWokenWalletLeavesMemoryAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.IdleAfter = time.Minute })
		for _, w := range []string{"a", "b", "c"} {
			ask(t, s, w, Grant{ID: "g", Amount: 10, Kind: "promotional", ExpiresAt: time.Now().Add(time.Hour)})
		}
		time.Sleep(2 * time.Minute) // all three leave memory, their expiry on the wake-up list
		synctest.Wait()
		if got := s.Live(); got != 0 {
			t.Fatalf("%d live before the expiry, want 0", got)
		}
		// The expiries fall due: woken, applied, gone well before IdleAfter.
		time.Sleep(58*time.Minute + 5*time.Second)
		synctest.Wait()
		for _, w := range []string{"a", "b", "c"} {
			if n := countEvents[*GrantExpired](j.Events(w)); n != 1 {
				t.Fatalf("%s: %d grant_expired", w, n)
			}
		}
		if got := s.Live(); got != 0 {
			t.Fatalf("%d wallets still in memory after their wake-up, want 0", got)
		}
	})
}

// Many wake-ups due at once on a small table: those refused for room are
// tried again every second (a refusal costs no I/O, and each woken wallet
// leaves memory at once), so all are applied within seconds.
func TestWakeupsRefusedForRoomRetryEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, func(c *Config) { c.MaxActors, c.IdleAfter = 8, time.Minute })
		expiry := time.Now().Add(2 * time.Hour)
		var wallets []string
		for i := range 40 {
			w := fmt.Sprintf("w%02d", i)
			wallets = append(wallets, w)
			ask(t, s, w, Grant{ID: "g", Amount: 10, Kind: "promotional", ExpiresAt: expiry})
			if i%7 == 6 {
				time.Sleep(2 * time.Minute) // out of memory, seven at a time
				synctest.Wait()
			}
		}
		ask(t, s, "busy", Grant{ID: "g", Amount: 10, Kind: "paid"})
		ask(t, s, "busy", Reserve{ID: "r", Amount: 1, TTLms: 3 * 3_600_000})
		time.Sleep(time.Until(expiry)) // every expiry falls due at once; six slots for them
		synctest.Wait()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		late := 0
		for _, w := range wallets {
			if countEvents[*GrantExpired](j.Events(w)) != 1 {
				late++
			}
		}
		if late > 0 {
			t.Fatalf("%d of %d grant expiries not applied 10 s after they fell due (%d wake-ups refused)", late, len(wallets), s.Stats().TicksRefused)
		}
		if s.Stats().TicksRefused == 0 {
			t.Fatal("no wake-up was refused: the table had room for all, the test tests nothing")
		}
	})
}
