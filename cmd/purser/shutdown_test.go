package main

// SIGTERM: the node stops taking requests, answers what its mailboxes
// hold, closes cleanly (exit 0), and every acknowledged change is there
// after a restart.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestSIGTERMDrainsAndExitsCleanly(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir)
	nc := dial(t, srv.url, nats.MaxReconnects(0))
	request(t, nc, "purser.admin.v1.grant.acme", map[string]any{"id": "g1", "amount": 1_000_000, "kind": "paid"})

	var mu sync.Mutex
	acked := int64(0)
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				data, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("d%d-%d", w, i), "amount": 1})
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				m, err := nc.RequestWithContext(ctx, "purser.v1.debit.acme", data)
				cancel()
				var r map[string]any
				if err == nil {
					err = json.Unmarshal(m.Data, &r)
				}
				if err != nil || r["error"] != nil {
					if i <= 3 { // before SIGTERM: fail rather than leave the test waiting
						t.Errorf("debit %d of worker %d before SIGTERM: %v %v", i, w, err, r["error"])
						started <- struct{}{}
					}
					return
				}
				mu.Lock()
				acked++
				mu.Unlock()
				if i == 3 {
					started <- struct{}{}
				}
			}
		})
	}
	for range 8 {
		<-started
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("purser serve did not exit cleanly on SIGTERM: %v", err)
	}
	nc.Close()
	wg.Wait()

	srv = startServe(t, dir)
	nc = dial(t, srv.url)
	bal := request(t, nc, "purser.v1.balance.acme", map[string]any{})
	spent := 1_000_000 - int64(bal["balance"].(float64))
	// Every acknowledged debit is there; an unacknowledged one may be too.
	if spent < acked {
		t.Fatalf("%d debits acknowledged but only %d found after restart", acked, spent)
	}
	t.Logf("acknowledged %d debits before SIGTERM; %d applied", acked, spent)
}
