package actors

import (
	"slices"
	"strings"
)

// Image is a wallet's whole state as plain data: what a snapshot stores.
// Restoring it (FromImage) gives a wallet that behaves exactly like the one
// a replay of the journal up to Pos builds; the derived structures (burn
// order, timer and expiry heaps, the id table's index) are rebuilt, not
// stored.
//
// An Image is immutable once made: the actor hands it to a background
// writer and keeps going. It shares strings, allocation slices, meta maps
// and id columns with the wallet, which never mutates those in place; the
// holds' earmarks, which a hold's slot rewrites, are copied (lazyImage).
//
// The msgpack tags name the fields for tools that dump an image; the
// snapshot package's v1 format writes the same fields positionally.
type Image struct {
	Wallet string `msgpack:"w"`
	Pos    uint64 `msgpack:"p"` // journal position of the last batch folded in

	// The limits Apply depends on (id eviction). A wallet replayed under
	// other limits may differ, so an image built under others is not used.
	MaxRememberedIDs int   `msgpack:"lm"`
	IDRetention      int64 `msgpack:"lr"` // ns

	Exists        bool     `msgpack:"e"`
	Seq           uint64   `msgpack:"s"`
	Clock         int64    `msgpack:"c"`
	Settings      Settings `msgpack:"st"`
	Debt          int64    `msgpack:"d"`
	Free          int64    `msgpack:"f"`
	Held          int64    `msgpack:"hd"`
	Total         int64    `msgpack:"t"`
	SpentOriginal Sum128   `msgpack:"so"`

	Grants []GrantImage `msgpack:"g"` // by id
	Holds  []HoldImage  `msgpack:"h"` // open holds, in no particular order
	// IDs is the id table's eviction queue, oldest first. Open holds' ids
	// are pinned outside it and travel with their hold. An id answers
	// through its newest record (a pinned one before any queued one), as
	// remember and pin leave the index, so the index is not stored. In an
	// image the actor took for a snapshot (lazyImage) it is empty and the
	// records are referenced: read the ids with IDRows or Records.
	IDs []RecordImage `msgpack:"i"`
	// IDCols, when set, holds the oldest remembered ids, before IDs, in
	// columns (idcolumns.go): what a v3 snapshot decodes to, and what an
	// image of a wallet restored from one shares with it.
	IDCols       *IDColumns `msgpack:"ic,omitempty"`
	EvictedYoung uint64     `msgpack:"ey"`

	Gov *GovImage `msgpack:"gv,omitempty"` // governance (govimage.go); nil: none

	// refs, when set, stands for IDs until fill: see Wallet.lazyImage.
	// refs[0] is the refsFirst-th record id table refsEpoch queued.
	refs                 []idRef
	refsEpoch, refsFirst uint64
}

// idRef is a queued id record and its hold status when the image was
// taken: the one field of a queued record that can still change (a lapsed
// hold's late settle closes it).
type idRef struct {
	r    *record
	hold holdStatus
}

// Grant states as stored in an image; the values are part of the snapshot
// format.
const (
	ImagePending uint8 = uint8(grantPending)
	ImageActive  uint8 = uint8(grantActive)
	ImageExpired uint8 = uint8(grantExpired)
	ImageRevoked uint8 = uint8(grantRevoked)
)

// GrantImage is one live grant.
type GrantImage struct {
	ID          string `msgpack:"i"`
	Kind        string `msgpack:"k"`
	Priority    int64  `msgpack:"p"`
	Amount      int64  `msgpack:"m"`
	Remaining   int64  `msgpack:"r"`
	Earmarked   int64  `msgpack:"e"`
	EffectiveAt int64  `msgpack:"ea"`
	ExpiresAt   int64  `msgpack:"x"`
	State       uint8  `msgpack:"s"` // ImagePending … ImageRevoked
	Meta        Meta   `msgpack:"md,omitempty"`
}

// HoldImage is one open hold with its reserve's answer (the id record
// pinned while the hold is open).
type HoldImage struct {
	ID        string       `msgpack:"i"`
	Amount    int64        `msgpack:"m"`
	ExpiresAt int64        `msgpack:"x"`
	OnExpiry  OnExpiry     `msgpack:"oe"`
	Principal string       `msgpack:"pr,omitempty"`
	Feature   string       `msgpack:"f,omitempty"`
	Earmarks  []Allocation `msgpack:"a"`
	Answer    Answer       `msgpack:"r"`
}

// Hold statuses of a remembered id, as stored in an image.
const (
	IDNoHold     uint8 = uint8(noHold)
	IDHoldClosed uint8 = uint8(holdClosed)
	IDHoldLapsed uint8 = uint8(holdLapsed)
)

// RecordImage is one remembered id in the eviction queue.
type RecordImage struct {
	Answer Answer `msgpack:"r"`
	At     int64  `msgpack:"t"`
	Hold   uint8  `msgpack:"h"` // IDNoHold, IDHoldClosed or IDHoldLapsed
}

// Image copies the wallet's state, pos being the journal position of the
// last batch it folded in. It is O(grants + open holds + remembered ids)
// and allocates four slices or so (the holds' earmarks are copied, as
// their slots are reused, into one list while they fit); the caller may
// hand the result to another goroutine.
func (w *Wallet) Image(pos uint64) *Image {
	img := w.lazyImage(pos)
	img.fill()
	return img
}

// lazyImage is Image with the id table's records referenced, not copied:
// the actor takes it on its hot path, and the snapshot worker's encoder
// reads them in place (IDRows) off it. A queued record's answer and time
// never change once it is queued, and evicting it only drops the queue's
// pointer, so the worker may read them while the actor goes on; the hold
// status, which can change, is copied here. For a wallet at its id bound
// this is a pointer per id instead of a 150-byte record: the difference
// between a millisecond and ten of the actor's time at every snapshot.
func (w *Wallet) lazyImage(pos uint64) *Image {
	img := &Image{Wallet: w.id, Pos: pos,
		MaxRememberedIDs: w.limits.MaxRememberedIDs, IDRetention: int64(w.limits.IDRetention),
		Exists: w.exists, Seq: w.seq, Clock: w.clock, Settings: w.settings,
		Debt: w.debt, Free: w.free, Held: w.held, Total: w.total, SpentOriginal: w.spentOriginal,
		EvictedYoung: w.ids.evictedYoung}
	img.Grants = make([]GrantImage, 0, len(w.grants))
	for _, g := range w.grants {
		img.Grants = append(img.Grants, GrantImage{ID: g.id, Kind: g.kind, Priority: g.priority,
			Amount: g.amount, Remaining: g.remaining, Earmarked: g.earmarked, EffectiveAt: g.effectiveAt,
			ExpiresAt: g.expiresAt, State: uint8(g.state), Meta: g.meta})
	}
	// Grants are few: sorting them makes equal wallets give equal images
	// where it is cheap. Holds may number a million; their order is free.
	slices.SortFunc(img.Grants, func(a, b GrantImage) int { return strings.Compare(a.ID, b.ID) })
	img.Holds = make([]HoldImage, 0, w.holds)
	// The holds' earmarks are copied (their slots are reused), into one
	// list for all of them.
	var marks []Allocation
	w.holdSlab.eachOpen(func(hd *hold) {
		if cap(marks)-len(marks) < len(hd.earmarks()) {
			marks = make([]Allocation, 0, max(2*(w.holds-len(img.Holds)), len(hd.earmarks())))
		}
		off := len(marks)
		marks = append(marks, hd.earmarks()...)
		img.Holds = append(img.Holds, HoldImage{ID: hd.id(), Amount: hd.amount, ExpiresAt: hd.expiresAt, OnExpiry: hd.onExpiry,
			Principal: hd.principal, Feature: hd.feature, Earmarks: marks[off:len(marks):len(marks)], Answer: hd.rec.answer})
	})
	if f := w.ids.frozen; f != nil {
		img.IDCols = f.image()
	}
	live := w.ids.queue[w.ids.head:]
	img.refsEpoch, img.refsFirst = w.ids.epoch, w.ids.enqueued-uint64(len(live))
	img.refs = make([]idRef, len(live))
	for i, q := range live {
		img.refs[i] = idRef{q.r, q.hold}
	}
	img.Gov = w.govImage()
	return img
}

// IDRows are an image's remembered ids after IDCols, oldest first: its
// IDs, or, in an image the actor took for a snapshot worker (lazyImage),
// the id table's queued records it references, read in place. An encoder
// reads them here rather than have them copied into IDs first: at a
// wallet's id bound that copy is 100,000 records of ~150 bytes, most of
// a snapshot's allocation.
type IDRows struct {
	ids          []RecordImage
	refs         []idRef
	epoch, first uint64
}

// IDRows returns img's remembered ids after IDCols.
func (img *Image) IDRows() IDRows {
	return IDRows{img.IDs, img.refs, img.refsEpoch, img.refsFirst}
}

// Origin says, for rows an actor's image references in place, which id
// table they are in and the number of the first among all that table has
// queued: rows of two images with the same epoch and number are the same
// record, and a queued record's id, answer, op and time never change (its
// hold status may: read it with Hold). ok is false for other rows.
func (r IDRows) Origin() (epoch, first uint64, ok bool) {
	return r.epoch, r.first, r.refs != nil
}

// Slice returns rows [i, j) (0 <= i <= j <= Len), with their Origin.
func (r IDRows) Slice(i, j int) IDRows {
	if r.refs != nil {
		return IDRows{refs: r.refs[i:j], epoch: r.epoch, first: r.first + uint64(i)}
	}
	return IDRows{ids: r.ids[i:j]}
}

// RowsOf returns rs as rows.
func RowsOf(rs []RecordImage) IDRows { return IDRows{ids: rs} }

// Len is the number of rows.
func (r IDRows) Len() int {
	if r.refs != nil {
		return len(r.refs)
	}
	return len(r.ids)
}

// Answer is row i's answer; the caller must not modify it.
func (r IDRows) Answer(i int) *Answer {
	if r.refs != nil {
		return &r.refs[i].r.answer
	}
	return &r.ids[i].Answer
}

// At is when row i was remembered.
func (r IDRows) At(i int) int64 {
	if r.refs != nil {
		return r.refs[i].r.at
	}
	return r.ids[i].At
}

// Hold is row i's hold status (IDNoHold, IDHoldClosed, IDHoldLapsed).
func (r IDRows) Hold(i int) uint8 {
	if r.refs != nil {
		return uint8(r.refs[i].hold)
	}
	return r.ids[i].Hold
}

// records returns the rows as records: IDs itself, or copies of the
// referenced ones.
func (r IDRows) records() []RecordImage {
	if r.refs == nil {
		return r.ids
	}
	out := make([]RecordImage, len(r.refs))
	for i, ref := range r.refs {
		out[i] = RecordImage{Answer: ref.r.answer, At: ref.r.at, Hold: uint8(ref.hold)}
	}
	return out
}

// fill copies the referenced id records into IDs (see lazyImage), for
// Image, whose caller owns the result.
func (img *Image) fill() {
	img.IDs, img.refs, img.refsEpoch, img.refsFirst = img.IDRows().records(), nil, 0, 0
}

// Size is the number of grants, open holds and remembered ids: what
// restoring the image costs, roughly.
func (img *Image) Size() int {
	return len(img.Grants) + len(img.Holds) + img.IDRows().Len() + img.IDCols.Live()
}

// OpCode is the type of Answer.Op, named so that a codec outside this
// package (snapshot) can write and read it. Its values are part of the
// journal and snapshot formats.
type OpCode = opCode
