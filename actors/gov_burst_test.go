package actors

// Issue 6's burst: 50 concurrent reserves from one agent under a user cap.
// The wallet's actor decides caps and credits together, one request at a
// time, so exactly the cap is admitted, however the requests interleave —
// and a wallet folded from the journal agrees.

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
)

func TestBurstUnderUserCapAdmitsExactlyTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := NewMemJournal()
		s := newTestSystem(t, j, nil)
		ask(t, s, "acme", Grant{ID: "g1", Amount: 100_000, Kind: "paid"})
		ask(t, s, "acme", Configure{ID: "c1", Policies: map[string]Policy{
			"team:r":        {Caps: []Cap{{Window: WindowDay, Limit: 5_000}}},
			"team:r/user:a": {Caps: []Cap{{Window: WindowDay, Limit: 300}}},
		}})
		var wg sync.WaitGroup
		replies := make([]ReserveReply, 50)
		for i := range 50 {
			wg.Go(func() {
				replies[i] = ask(t, s, "acme", Reserve{ID: fmt.Sprintf("r%d", i), Amount: 10,
					Principal: "team:r/user:a/agent:a1", TTLms: 3_600_000}).(ReserveReply)
			})
		}
		wg.Wait()
		allowed := 0
		for _, r := range replies {
			switch {
			case r.Allowed:
				allowed++
			case r.Reason != ReasonSpendCapExceeded || r.DeniedBy == nil ||
				*r.DeniedBy != (DeniedBy{Principal: "team:r/user:a", Window: "day"}):
				t.Fatalf("denied otherwise: %+v", r)
			}
		}
		if allowed != 30 {
			t.Fatalf("admitted %d reserves of 10 under a cap of 300, want 30", allowed)
		}
		w := fold(j, "acme")
		if err := checkGovernance(w); err != nil {
			t.Fatal(err)
		}
		b := balanceOf(t, w)
		if len(b.Policies) != 2 || b.Policies[1].Caps[0].Held != 300 || b.Held != 300 {
			t.Fatalf("the journal folds to %+v", b.Policies)
		}
	})
}
