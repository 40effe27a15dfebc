package node

// Paging through a long history: every entry exactly once, in order, with
// the cursor cache serving pages 2+ from where page 1 ended, and a repeat
// of an earlier page giving the same entries.

import (
	"context"
	"fmt"
	"testing"

	"github.com/purser-dev/purser/actors"
)

func TestHistoryPagesThroughALongHistory(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := client{t: t, nc: connect(t, n)}
	ctx := context.Background()
	if _, err := n.System().Ask(ctx, "long", actors.Grant{ID: "g", Amount: 1 << 40, Kind: "paid"}); err != nil {
		t.Fatal(err)
	}
	const debits = 1_200
	for i := range debits {
		if _, err := n.System().Ask(ctx, "long", actors.Debit{ID: fmt.Sprint("d", i), Amount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	pages := map[int64][]any{}
	for after := int64(0); ; {
		r := c.ok("purser.admin.v1.history.long", map[string]any{"after_seq": after, "limit": 500})
		entries := r.body["entries"].([]any)
		pages[after] = entries
		for _, e := range entries {
			seqs = append(seqs, int64(e.(map[string]any)["seq"].(float64)))
		}
		if after = r.num("next_seq"); after == 0 {
			break
		}
	}
	if len(seqs) != debits+1 {
		t.Fatalf("%d entries over the pages, want %d", len(seqs), debits+1)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i, s)
		}
	}
	again := c.ok("purser.admin.v1.history.long", map[string]any{"after_seq": 500, "limit": 500})
	if fmt.Sprint(again.body["entries"]) != fmt.Sprint(pages[500]) {
		t.Fatal("a repeated page differs")
	}
}

// A wallet whose journal messages are spread among another's, and the
// busy one: each pages through every entry once, in order, and every page
// is one round trip of at most limit+1 messages read forwards, none read
// back (a walk from the subject's end would fetch the newest messages
// first, up to 1,024 of them, for a page that wants the oldest).
func TestHistoryOfAWalletAmongAnother(t *testing.T) {
	n := startNode(t, t.TempDir())
	c := client{t: t, nc: connect(t, n)}
	ctx := context.Background()
	ask := func(wallet string, cmd actors.Command) {
		t.Helper()
		if _, err := n.System().Ask(ctx, wallet, cmd); err != nil {
			t.Fatal(err)
		}
	}
	ask("sparse", actors.Grant{ID: "g", Amount: 1 << 40, Kind: "paid"})
	ask("busy", actors.Grant{ID: "g", Amount: 1 << 40, Kind: "paid"})
	// 70 of busy's messages between two of sparse's; under 1,000 events a
	// wallet, so that no periodic snapshot's traffic is on the node's
	// connection while the pages are counted.
	const debits, between = 12, 70
	for i := range debits {
		for k := range between {
			ask("busy", actors.Debit{ID: fmt.Sprint("b", i, "-", k), Amount: 1})
		}
		ask("sparse", actors.Debit{ID: fmt.Sprint("d", i), Amount: 1})
	}
	const limit = 7
	for wallet, want := range map[string]int{"sparse": debits + 1, "busy": debits*between + 1} {
		var seqs []int64
		for after := int64(0); ; {
			before := n.journal.Stats()
			r := c.ok("purser.admin.v1.history."+wallet, map[string]any{"after_seq": after, "limit": limit})
			st := n.journal.Stats()
			if req, back, fwd := st.ReadRequests-before.ReadRequests, st.ReadBack-before.ReadBack,
				st.ReadForward-before.ReadForward; req != 1 || back != 0 || fwd > limit+1 {
				t.Fatalf("%s, page after %d: %d round trips, %d messages read back, %d forwards", wallet, after, req, back, fwd)
			}
			for _, e := range r.body["entries"].([]any) {
				seqs = append(seqs, int64(e.(map[string]any)["seq"].(float64)))
			}
			if after = r.num("next_seq"); after == 0 {
				break
			}
		}
		if len(seqs) != want {
			t.Fatalf("%s: %d entries over the pages, want %d", wallet, len(seqs), want)
		}
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("%s: entry %d has seq %d", wallet, i, s)
			}
		}
	}
}
