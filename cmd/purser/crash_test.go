package main

// The crash test: a real `purser serve` is SIGKILLed in the middle of a
// 50-wide burst. After a restart on the same data dir, every reserve that
// was answered allowed exists as a hold exactly once, a retry of every
// unanswered id gets a consistent answer, and held equals the sum of the
// allowed reserves: nothing acknowledged is lost, nothing is doubled,
// nothing is overdrawn.

import (
	"encoding/json"
	"fmt"
	"sync"
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

// tryRequest sends body as JSON and returns the reply, nil when there is
// none (a timeout, a node killed) or it is an error.
func tryRequest(nc *nats.Conn, subject string, body map[string]any, timeout time.Duration) map[string]any {
	data, _ := json.Marshal(body)
	m, err := nc.Request(subject, data, timeout)
	if err != nil {
		return nil
	}
	var r map[string]any
	if json.Unmarshal(m.Data, &r) != nil || r["error"] != nil {
		return nil
	}
	return r
}

// killMidBurst sends one request per body at once and SIGKILLs srv at the
// first acknowledged reply (or once every request has ended unanswered),
// then returns each request's outcome, in order.
func killMidBurst(t *testing.T, srv *server, nc *nats.Conn, subject string, bodies []map[string]any) []burstOutcome {
	t.Helper()
	outcomes := make([]burstOutcome, len(bodies))
	first := make(chan struct{}, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		outcomes[i].id = b["id"].(string)
		wg.Go(func() {
			if r := tryRequest(nc, subject, b, 5*time.Second); r != nil {
				outcomes[i].answered, outcomes[i].allowed = true, r["allowed"] == true
				first <- struct{}{}
			}
		})
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-first: // the first acknowledged reply: kill now, mid-burst
	case <-ended:
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	<-ended
	return outcomes
}

func TestCrashMidBurstLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir, "--max-batch", "4")
	nc := dial(t, srv.url, nats.MaxReconnects(0))
	request(t, nc, "purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 10_000, "kind": "paid"})

	const width, amount = 50, 300 // at most 33 fit in 10,000
	var bodies []map[string]any
	for i := range width {
		bodies = append(bodies, map[string]any{"id": fmt.Sprintf("r%02d", i), "amount": amount})
	}
	outcomes := map[string]burstOutcome{}
	for _, o := range killMidBurst(t, srv, nc, "purser.v1.reserve.acme", bodies) {
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
