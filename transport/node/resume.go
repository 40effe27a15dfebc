package node

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// resumeWorkers is how many wallets the start-up sweep activates at once:
// enough to keep a node that restarts with 100,000 wallets to seconds,
// few enough to leave the cores to requests.
const resumeWorkers = 4

// resume activates every wallet the journal knows, in the background, so
// that time-driven changes come back after a restart (actors.System.Resume):
// timers live in memory, and without this a hold orphaned before a crash,
// or one open at a restart, would stay open until a request touched its
// wallet (SPEC §3: orphaned holds never leak). Wallets with nothing open
// leave memory again at once. Resumed is closed when it is done.
func (n *Node) resume() {
	ctx, cancel := context.WithCancel(context.Background())
	n.stopResume = cancel
	n.resumed = make(chan struct{})
	go func() {
		defer close(n.resumed)
		start := time.Now()
		wallets, err := n.journal.Wallets(ctx)
		if err != nil {
			if ctx.Err() == nil {
				n.log.Error("resume: listing the journal's wallets failed; their expiries wait for a request", zap.Error(err))
			}
			return
		}
		next := make(chan string)
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range resumeWorkers {
			wg.Go(func() {
				for w := range next {
					if err := n.sys.Resume(ctx, w); err != nil && ctx.Err() == nil && failed.Add(1) == 1 {
						n.log.Warn("resume: a wallet failed to activate; its expiries wait for a request",
							zap.String("wallet", w), zap.Error(err))
					}
				}
			})
		}
	feed:
		for _, w := range wallets {
			select {
			case next <- w:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		n.log.Info("resume: wallets activated for their time-driven changes",
			zap.Int("wallets", len(wallets)), zap.Int64("failed", failed.Load()),
			zap.Duration("took", time.Since(start)), zap.Bool("stopped", ctx.Err() != nil))
	}()
}

// Resumed is closed once the start-up sweep has activated every wallet
// the journal knew (or the node closed first).
func (n *Node) Resumed() <-chan struct{} { return n.resumed }
