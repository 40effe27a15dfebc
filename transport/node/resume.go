package node

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// resumeWorkers is how many wallets the start-up sweep activates at once:
// enough to keep a node that restarts with 100,000 wallets to seconds,
// few enough to leave the cores to requests.
const resumeWorkers = 4

// The sweep's patience: one listing of a partition, how many times one is
// tried, and the rounds of retries for wallets that failed (overloaded:
// the node's wallet table full of held wallets; a journal or snapshot
// read that failed).
const (
	listTimeout  = 30 * time.Second
	listAttempts = 5
	resumeRounds = 6
)

// roundWait is the wait before each round of retries, a second and
// doubling. A variable: tests take over the waits between rounds, to act
// after the first pass and not wait a minute of rounds.
var roundWait = sleep

// resume activates every wallet the journal knows, in the background, so
// that time-driven changes come back after a restart (actors.System.Resume):
// timers live in memory, and without this a hold orphaned before a crash,
// or one open at a restart, would stay open until a request touched its
// wallet (SPEC §3: orphaned holds never leak). Wallets with nothing open
// leave memory again at once. It goes a partition at a time; a wallet that
// fails is tried again, with backoff. Resumed is closed when it is done.
func (n *Node) resume() {
	ctx, cancel := context.WithCancel(context.Background())
	n.stopResume = cancel
	n.resumed = make(chan struct{})
	go func() {
		defer close(n.resumed)
		start := time.Now()
		var total, unlisted int
		var failed []string
		for p := range n.journal.Partitions() {
			wallets, ok := n.listPartition(ctx, p)
			if !ok && ctx.Err() == nil {
				unlisted++
			}
			total += len(wallets)
			failed = append(failed, n.resumeAll(ctx, wallets)...)
		}
		wait := time.Second
		for round := 1; round <= resumeRounds && len(failed) > 0 && roundWait(ctx, wait); round++ {
			failed, wait = n.resumeAll(ctx, failed), 2*wait
		}
		log := n.log.Info
		if (len(failed) > 0 || unlisted > 0) && ctx.Err() == nil {
			log = n.log.Error // their expiries wait for a request
		}
		log("resume: wallets activated for their time-driven changes",
			zap.Int("wallets", total), zap.Int("failed", len(failed)), zap.Strings("failed_first", failed[:min(len(failed), 10)]),
			zap.Int("partitions_unlisted", unlisted),
			zap.Duration("took", time.Since(start)), zap.Bool("stopped", ctx.Err() != nil))
	}()
}

// listPartition lists partition p's wallets, trying again with backoff;
// false once it gave up (logged) or the node closes.
func (n *Node) listPartition(ctx context.Context, p uint32) ([]string, bool) {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		lctx, cancel := context.WithTimeout(ctx, listTimeout)
		wallets, err := n.journal.Wallets(lctx, p)
		cancel()
		switch {
		case err == nil:
			return wallets, true
		case ctx.Err() != nil:
			return nil, false
		case attempt == listAttempts:
			n.log.Error("resume: gave up listing a partition's wallets; their expiries wait for a request",
				zap.Uint32("partition", p), zap.Error(err))
			return nil, false
		}
		if !sleep(ctx, wait) {
			return nil, false
		}
		wait *= 2
	}
}

// resumeAll resumes wallets, resumeWorkers at a time, and returns those
// that failed.
func (n *Node) resumeAll(ctx context.Context, wallets []string) (failed []string) {
	next := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range resumeWorkers {
		wg.Go(func() {
			for w := range next {
				if err := n.sys.Resume(ctx, w); err != nil && ctx.Err() == nil {
					mu.Lock()
					failed = append(failed, w)
					mu.Unlock()
				}
			}
		})
	}
	for _, w := range wallets {
		select {
		case next <- w:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	return failed
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Resumed is closed once the start-up sweep has activated every wallet
// the journal knew (or the node closed first).
func (n *Node) Resumed() <-chan struct{} { return n.resumed }
