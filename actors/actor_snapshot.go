package actors

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// errNotJournal: the image does not match the journal at its position.
var errNotJournal = errors.New("image does not match the journal at its position (ahead of it, or of another journal)")

// loadFromSnapshot rebuilds the wallet from its latest image and the
// journal after it. ok false: there is no usable image (or skip), and the
// caller replays the whole journal; a rejected image is logged and counted.
//
// An image is used only if the journal agrees with it: the batch at the
// image's position must exist and end at the image's clock and history
// seq. That catches an image ahead of the journal (its batch never landed
// here, or the journal was rebuilt) without trusting any stored figure. The
// check costs one batch, read as part of the tail.
func (a *actor) loadFromSnapshot(ctx context.Context, skip bool) (w *Wallet, pos uint64, tail int, ok bool) {
	p := a.sys.snaps
	if !p.enabled() {
		return nil, 0, 0, false
	}
	if skip {
		p.rejected.Add(1)
		a.log.Warn("snapshot ignored after an answer in it did not decode; rebuilding the wallet from its whole journal")
		return nil, 0, 0, false
	}
	img, err := p.store.Load(ctx, a.wallet)
	if err == nil && img == nil {
		return nil, 0, 0, false
	}
	if err == nil {
		w, pos, tail, err = a.foldTail(ctx, img)
	}
	if err != nil {
		p.rejected.Add(1)
		a.log.Warn("snapshot ignored; rebuilding the wallet from its whole journal", zap.Error(err))
		return nil, 0, 0, false
	}
	p.loaded.Add(1)
	return w, pos, tail, true
}

func (a *actor) foldTail(ctx context.Context, img *Image) (w *Wallet, pos uint64, tail int, err error) {
	if img.Wallet != a.wallet {
		return nil, 0, 0, fmt.Errorf("image is of wallet %q", img.Wallet)
	}
	if w, pos, err = FromImage(img, a.sys.cfg.Limits); err != nil {
		return nil, 0, 0, err
	}
	defer func() {
		if p := recover(); p != nil { // the tail does not apply on the image
			err = fmt.Errorf("journal after the image does not replay on it: %v", p)
		}
	}()
	checked := false
	last, err := a.sys.journal.Read(ctx, a.wallet, pos-1, func(at uint64, evs []Event) error {
		if !checked {
			checked = true
			if at != pos || !endsAt(evs, img) {
				return errNotJournal
			}
			return nil
		}
		for _, e := range evs {
			w.Apply(e)
		}
		tail += len(evs)
		return nil
	})
	if err == nil && !checked {
		err = errNotJournal
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("image at position %d: %w", pos, err)
	}
	return w, last, tail, nil
}

// endsAt reports whether a batch leaves a wallet at img's clock and
// history seq: events are stamped in non-decreasing time, so the clock is
// the last event's time, and seq the last numbered event's.
func endsAt(evs []Event, img *Image) bool {
	if len(evs) == 0 || evs[len(evs)-1].head().At != img.Clock {
		return false
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if s := evs[i].head().Seq; s != 0 {
			return s == img.Seq
		}
	}
	return true
}

// snapshotDue takes an image when enough events have been journaled since
// the last one and none of this actor's is still being saved (so a hot
// wallet has at most one periodic image in memory). A full queue skips it;
// the next batch tries again.
func (a *actor) snapshotDue() {
	p := a.sys.snaps
	if !p.enabled() || a.pos == 0 || a.snapBusy.Load() {
		return
	}
	if a.sinceSnap < a.snapshotPeriod() {
		return
	}
	a.snapBusy.Store(true)
	if p.offer(a.w.lazyImage(a.pos), func() { a.snapBusy.Store(false) }, false) {
		a.sinceSnap = 0
	} else {
		a.snapBusy.Store(false)
	}
}

// snapshotFinal takes an image as the actor stops (passivation, shutdown)
// if anything was journaled since the last one. At shutdown it waits for
// queue room: nothing is left to decide.
func (a *actor) snapshotFinal(wait bool) {
	if !a.sys.snaps.enabled() || a.pos == 0 || a.sinceSnap == 0 || a.w == nil || !a.w.Exists() {
		return
	}
	if a.sys.snaps.offer(a.w.lazyImage(a.pos), nil, wait) {
		a.sinceSnap = 0
	}
}

// snapshotPeriod is how many events the actor journals between images:
// SnapshotEvery, or more for a big wallet (snapshotSizeRatio), plus a
// quarter of an event per open hold. A hot wallet's image costs mostly its
// open holds, now that its ids go in segments written once: the actor
// copies every hold, the worker encodes and stores each of them, every
// time. The tail an activation replays grows by as much. Measured on
// 50-wide reserve bursts on one wallet holding ~25,000 open holds
// (docs/benchmarks.md): +5% reserves/s and a p99 ~1 ms lower; weighing
// holds four times more changed nothing further.
func (a *actor) snapshotPeriod() int {
	return max(a.sys.cfg.SnapshotEvery, a.w.size()/snapshotSizeRatio+a.w.holds/4)
}

// size is what an image of the wallet holds: grants, open holds, ids.
func (w *Wallet) size() int { return len(w.grants) + w.holds + w.ids.remembered() }
