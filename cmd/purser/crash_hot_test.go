package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// metric reads one unlabelled counter or gauge from a node's /metrics.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	_, body := httpGet(t, "http://"+addr+"/metrics")
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// burst sends one request per body at once and returns the replies, in
// order (nil: no reply).
func burst(t *testing.T, nc *nats.Conn, subject string, bodies []map[string]any) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Go(func() { out[i] = tryRequest(nc, subject, b, 10*time.Second) })
	}
	wg.Wait()
	return out
}

// The crash test for a hot wallet: once its stored snapshot keeps its ids
// in segments (format v4), a real `purser serve` is SIGKILLed in the middle
// of a 50-wide burst. After a restart the wallet activates from that
// snapshot (not a full replay), every reserve answered allowed exists once
// and is held, and a retry of the wallet's very first reserve (its id in the
// first segment of every image since) gets its first reply.
func TestCrashOfAHotWalletRestoresFromItsSegments(t *testing.T) {
	if testing.Short() {
		t.Skip("~10,000 requests")
	}
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	srv := startServe(t, dir, "--http-listen", addr)
	nc := dial(t, srv.url, nats.MaxReconnects(0))
	request(t, nc, "purser.admin.v1.grant.hot", map[string]any{"id": "g1", "amount": 1 << 40, "kind": "paid"})

	const width, amount = 50, 300
	var firstReply map[string]any
	reserve := func(id string) map[string]any { return map[string]any{"id": id, "amount": amount} }
	// Bursts of reserves, each then settled, until a stored snapshot names
	// segments: 8,192 queued ids, then the next periodic image.
	rounds := 0
	for ; metric(t, addr, "purser_snapshot_id_rows_referenced_total") == 0; rounds++ {
		round := rounds
		if round == 300 {
			t.Fatal("no stored snapshot names segments after 300 bursts")
		}
		var reserves, settles []map[string]any
		for i := range width {
			id := fmt.Sprintf("w%03d-%02d", round, i)
			reserves = append(reserves, reserve(id))
			settles = append(settles, map[string]any{"id": "s" + id, "hold_id": id, "actual": amount, "final": true})
		}
		replies := burst(t, nc, "purser.v1.reserve.hot", reserves)
		if round == 0 {
			firstReply = replies[0]
		}
		for i, r := range burst(t, nc, "purser.v1.settle.hot", settles) {
			if replies[i] == nil || replies[i]["allowed"] != true || r == nil {
				t.Fatalf("round %d, request %d: reserve %v, settle %v", round, i, replies[i], r)
			}
		}
	}

	t.Logf("%d bursts, %v segments written", rounds, metric(t, addr, "purser_snapshot_segments_written_total"))
	// The last burst: reserves only, killed at the first reply.
	var last []map[string]any
	for i := range width {
		last = append(last, reserve(fmt.Sprintf("last-%02d", i)))
	}
	outcomes := killMidBurst(t, srv, nc, "purser.v1.reserve.hot", last)
	nc.Close()

	addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	srv = startServe(t, dir, "--http-listen", addr)
	nc = dial(t, srv.url)
	again := request(t, nc, "purser.v1.reserve.hot", reserve("w000-00"))
	if !reflect.DeepEqual(again, firstReply) {
		t.Fatalf("retry of the first reserve: %v, first reply %v", again, firstReply)
	}
	if loaded, rejected := metric(t, addr, "purser_snapshots_loaded_total"), metric(t, addr, "purser_snapshots_rejected_total"); loaded != 1 || rejected != 0 {
		t.Fatalf("activation: %v snapshots loaded, %v rejected; want the segmented one loaded", loaded, rejected)
	}
	allowed := 0
	for _, o := range outcomes {
		if !o.answered { // a retry tells whether it had landed; either way it is decided once
			o.allowed = request(t, nc, "purser.v1.reserve.hot", reserve(o.id))["allowed"] == true
		}
		if o.allowed {
			allowed++
		}
	}
	bal := request(t, nc, "purser.v1.balance.hot", map[string]any{})
	if held := int64(bal["held"].(float64)); held != int64(allowed*amount) || allowed != width {
		t.Fatalf("held %d with %d of %d reserves allowed", held, allowed, width)
	}
}
