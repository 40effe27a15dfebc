package node

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

// A hold that falls due while the node is down is closed once it is back,
// with no request touching its wallet: the start-up sweep activates every
// wallet the journal knows. The node's clock is the test's, so the hold
// falls due between the two runs without waiting.
func TestAHoldDueDuringARestartExpiresWithNoRequest(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixNano())
	run := func() *Node {
		rt := actors.DefaultConfig()
		rt.Now = func() time.Time { return time.Unix(0, now.Load()) }
		n, err := Start(context.Background(), Config{DataDir: dir, NATSListen: "127.0.0.1:0", Runtime: rt})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := run()
	c := client{t: t, nc: connect(t, n)}
	c.ok("purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 100, "kind": "paid"})
	c.ok("purser.v1.reserve.acme", map[string]any{"id": "r1", "amount": 30, "ttl_ms": 60_000})
	<-n.Resumed()
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	now.Add(int64(2 * time.Minute)) // r1 is due
	n = run()
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	<-n.Resumed()
	c = client{t: t, nc: connect(t, n)}
	entries, _ := c.ok("purser.admin.v1.history.acme", map[string]any{}).body["entries"].([]any)
	var types []string
	for _, e := range entries {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if len(types) != 3 || types[2] != "hold_expired" {
		t.Fatalf("history after the restart, before any request to the wallet: %v", types)
	}
}
