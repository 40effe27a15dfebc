package journal

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// ErrNotDurable fails the appends a failed Config.Sync was to cover, every
// append queued or made after it, and every Read (ModeGroupSync). The
// server may have stored them, not durably: the journal cannot tell what
// a power loss would keep, so it serves nothing more, and the node must be
// restarted (the server's recovery then decides what is in the stream).
var ErrNotDurable = errors.New("journal: the server's store could not be made durable")

// errSyncGivenUp answers the appends whose fsync Close stopped waiting for
// (its ctx ended): stored by the server, durable or not, nobody can say.
var errSyncGivenUp = fmt.Errorf("%w: closed while their fsync was pending", ErrOutcomeUnknown)

// acked is an append the server acknowledged, waiting for the Sync that
// makes it durable (ModeGroupSync).
type acked struct {
	p   *pending
	pos uint64
}

// awaitSync hands appends the server has acknowledged, at first, first+1,
// …, to the syncer.
func (j *Journal) awaitSync(ps []*pending, first uint64) {
	j.mu.Lock()
	for i, p := range ps {
		j.unsynced = append(j.unsynced, acked{p, first + uint64(i)})
	}
	j.mu.Unlock()
	j.wakeSyncer()
}

// queueSync hands appends found landed, at their positions, to the
// syncer.
func (j *Journal) queueSync(as []acked) {
	if len(as) == 0 {
		return
	}
	j.mu.Lock()
	j.unsynced = append(j.unsynced, as...)
	j.mu.Unlock()
	j.wakeSyncer()
}

func (j *Journal) wakeSyncer() {
	select {
	case j.syncWake <- struct{}{}:
	default:
	}
}

// syncLoop is the group commit of ModeGroupSync: it takes every append
// acknowledged so far, makes them durable with one Sync, then reports
// them. Acks that arrive during a Sync wait for the next, so under load
// each fsync covers everything acknowledged while the previous one ran.
func (j *Journal) syncLoop() {
	defer j.wg.Done()
	var group []acked
	for {
		select {
		case <-j.syncWake:
		case <-j.stop:
			return
		}
		for {
			j.mu.Lock()
			group, j.unsynced = j.unsynced, group[:0]
			j.mu.Unlock()
			if len(group) == 0 {
				break
			}
			j.commit(group)
			clear(group)
		}
	}
}

// commit makes group durable and reports it.
func (j *Journal) commit(group []acked) {
	err := j.sync()
	ps := make([]*pending, len(group))
	for i, a := range group {
		ps[i] = a.p
	}
	j.release(ps)
	for _, a := range group {
		if err != nil {
			j.finish(a.p, 0, err)
		} else {
			j.finish(a.p, a.pos, nil)
		}
	}
}

// sync calls Config.Sync; its first failure breaks the journal for good,
// since a failed fsync may have dropped writes a later one would not
// report.
func (j *Journal) sync() error {
	j.mu.Lock()
	broken := j.broken
	j.mu.Unlock()
	if broken != nil {
		// The journal keeps its own word: no Sync is trusted after one
		// failed, whatever the Sync function would say now.
		return broken
	}
	select {
	case <-j.giveUp:
		return errSyncGivenUp
	default:
	}
	j.st.syncs.Add(1)
	t0 := time.Now()
	// Sync runs on a goroutine of its own so that Close can stop waiting
	// for it: a stuck fsync cannot be interrupted, only left behind.
	res := make(chan error, 1)
	go func() { res <- j.cfg.Sync() }()
	var err error
	select {
	case err = <-res:
	case <-j.giveUp:
		return errSyncGivenUp
	}
	j.st.syncNanos.Add(uint64(time.Since(t0)))
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%w: %w", ErrNotDurable, err)
	j.mu.Lock()
	first := j.broken == nil
	var queued []*pending
	if first {
		j.broken = err
		// Appends not sent yet are not sent at all.
		queued, j.queue = j.queue, nil
	}
	j.mu.Unlock()
	if first {
		j.log.Error("journal: fsync failed; refusing every append and read from now on", zap.Error(err))
		for _, p := range queued {
			j.finish(p, 0, err)
		}
	}
	return err
}
