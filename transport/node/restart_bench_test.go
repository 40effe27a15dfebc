package node

// BenchmarkRestart100kWallets (issue 5): a node holding 100,000 wallets
// restarts on its data dir; the figures are the time until its start-up
// sweep has resumed every wallet, then until it has answered a balance
// for every one (64 concurrent askers), i.e. every wallet activated again
// from its snapshot or journal. Run it alone:
//
//	go test -run '^$' -bench Restart100k -benchtime 1x ./transport/node/

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purser-dev/purser/actors"
)

func BenchmarkRestart100kWallets(b *testing.B) {
	const wallets, askers = 100_000, 64
	dir := b.TempDir()
	ctx := context.Background()
	n, err := Start(ctx, Config{DataDir: dir, NATSListen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	each := func(n *Node, cmd func(i int) actors.Command) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range askers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < wallets; i = int(next.Add(1)) - 1 {
					if _, err := n.System().Ask(ctx, "w"+strconv.Itoa(i), cmd(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	fill := each(n, func(i int) actors.Command { return actors.Grant{ID: "g", Amount: 1000, Kind: "paid"} })
	b.Logf("created %d wallets in %s", wallets, fill)
	if err := n.Close(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		start := time.Now()
		n, err = Start(ctx, Config{DataDir: dir, NATSListen: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		up := time.Since(start)
		// The start-up sweep (resume.go) activates every wallet once, in
		// the background; its time is the second figure. Then every
		// wallet answers a balance: each is activated again (the sweep let
		// those with nothing open go).
		<-n.Resumed()
		swept := time.Since(start) - up
		all := each(n, func(int) actors.Command { return actors.Balance{} })
		b.ReportMetric(up.Seconds(), "s-to-start")
		b.ReportMetric(swept.Seconds(), "s-to-resume-all")
		b.ReportMetric(all.Seconds(), "s-to-answer-all")
		b.ReportMetric(float64(wallets)/all.Seconds(), "activations/s")
		st := n.System().SnapshotStats()
		b.Logf("restart: node up in %s, every wallet resumed %s later, all %d answered in %s; snapshots loaded %d, rejected %d",
			up, swept, wallets, all, st.Loaded, st.Rejected)
		b.StopTimer()
		_ = n.Close(ctx)
		b.StartTimer()
	}
}
