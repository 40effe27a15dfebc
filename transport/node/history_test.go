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
