package main

// The crash test: a real `purser serve` is SIGKILLed in the middle of a
// 50-wide burst. After a restart on the same data dir, every reserve that
// was answered allowed exists as a hold exactly once, a retry of every
// unanswered id gets a consistent answer, and held equals the sum of the
// allowed reserves: nothing acknowledged is lost, nothing is doubled,
// nothing is overdrawn.

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

type burstOutcome struct {
	id       string
	answered bool
	allowed  bool
}

func request(t *testing.T, nc *nats.Conn, subject string, body any) map[string]any {
	t.Helper()
	data, _ := json.Marshal(body)
	m, err := nc.Request(subject, data, 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	var out map[string]any
	if err := json.Unmarshal(m.Data, &out); err != nil {
		t.Fatal(err)
	}
	if e, ok := out["error"]; ok {
		t.Fatalf("%s %s: %v", subject, data, e)
	}
	return out
}

func TestCrashMidBurstLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir, "--max-batch", "4")
	nc := dial(t, srv.url, nats.MaxReconnects(0))
	request(t, nc, "purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 10_000, "kind": "paid"})

	const width, amount = 50, 300 // at most 33 fit in 10,000
	results := make(chan burstOutcome, width)
	first := make(chan struct{}, width)
	for i := range width {
		id := fmt.Sprintf("r%02d", i)
		go func() {
			data, _ := json.Marshal(map[string]any{"id": id, "amount": amount})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			m, err := nc.RequestWithContext(ctx, "purser.v1.reserve.acme", data)
			o := burstOutcome{id: id}
			if err == nil {
				var r map[string]any
				if json.Unmarshal(m.Data, &r) == nil && r["error"] == nil {
					o.answered, o.allowed = true, r["allowed"] == true
					first <- struct{}{}
				}
			}
			results <- o
		}()
	}
	<-first // the first acknowledged reply: kill now, mid-burst
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	outcomes := map[string]burstOutcome{}
	for range width {
		o := <-results
		outcomes[o.id] = o
	}
	nc.Close()

	srv = startServe(t, dir)
	nc = dial(t, srv.url)
	answered := 0
	for id, o := range outcomes {
		if o.answered {
			answered++
			continue
		}
		// A retry tells whether it had landed; either way it is decided once.
		r := request(t, nc, "purser.v1.reserve.acme", map[string]any{"id": id, "amount": amount})
		o.allowed = r["allowed"] == true
		outcomes[id] = o
	}
	if answered == width {
		t.Log("every request was answered before the kill; the test still checks the restart")
	}
	allowed := 0
	for _, o := range outcomes {
		if o.allowed {
			allowed++
		}
	}
	bal := request(t, nc, "purser.v1.balance.acme", map[string]any{})
	if held := int64(bal["held"].(float64)); held != int64(allowed*amount) || allowed != 10_000/amount {
		t.Fatalf("held %d with %d allowed reserves of %d (answered before kill: %d)", held, allowed, amount, answered)
	}
	if bal["available"].(float64) < 0 {
		t.Fatalf("overdrawn: %v", bal)
	}
	holds := map[string]int{}
	for after := 0.0; ; {
		h := request(t, nc, "purser.admin.v1.history.acme", map[string]any{"after_seq": after, "limit": 1000})
		for _, e := range h["entries"].([]any) {
			if e := e.(map[string]any); e["type"] == "held" {
				holds[e["hold_id"].(string)]++
			}
		}
		if after = h["next_seq"].(float64); after == 0 {
			break
		}
	}
	for id, o := range outcomes {
		if want := map[bool]int{true: 1, false: 0}[o.allowed]; holds[id] != want {
			t.Fatalf("%s: %d held entries, want %d (outcome %+v)", id, holds[id], want, o)
		}
	}
	t.Logf("answered before SIGKILL: %d of %d; allowed in all: %d", answered, width, allowed)
}
