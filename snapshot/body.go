package snapshot

import (
	"math"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// Body layout of format v1: msgpack arrays with fields in a fixed order.
// Positional, not keyed: a million holds would otherwise carry a million
// copies of every field name. Changing it means a new format version and
// keeping this decoder for v1 files (testdata/v1.snap proves it).
//
//	image   [pos, maxIDs, idRetentionNs, exists, seq, clock, settings,
//	         debt, free, held, total, spentOriginal (or [hi, lo] past int64),
//	         [grant…], [hold…], [record…], evictedYoung]
//	settings [mode, overdraftLimit, overdraftPercent, percentSet, defaultTTLms, suspended]
//	grant   [id, kind, priority, amount, remaining, earmarked, effectiveAt, expiresAt, state, meta|nil]
//	hold    [id, amount, expiresAt, onExpiry, principal, feature, [alloc…], answer]
//	record  [answer, at, holdStatus]
//	answer  [id, op, hash, [n0…n7], [alloc…]]
//	alloc   [grant, amount]
//
// Format v2 appends one field to image (governance, govbody.go, or nil)
// and one to answer (the governance a configure's reply showed, or nil).
// Format v3 writes the records as columns instead (idcols.go); format v4
// writes some of them in segments stored beside the image (segments.go).
const (
	imageFields    = 16
	settingsFields = 6
	grantFields    = 10
	holdFields     = 8
	recordFields   = 3
	answerFields   = 5
	answerN        = 8
)

func appendBody(b []byte, img *actors.Image, c *actors.IDColumns, rows actors.IDRows, plan idPlan) ([]byte, error) {
	b = mpack.AppendArrayLen(b, imageFields+1)
	b = mpack.AppendUint(b, img.Pos)
	b = mpack.AppendInt(b, int64(img.MaxRememberedIDs))
	b = mpack.AppendInt(b, img.IDRetention)
	b = mpack.AppendBool(b, img.Exists)
	b = mpack.AppendUint(b, img.Seq)
	b = mpack.AppendInt(b, img.Clock)
	s := img.Settings
	b = mpack.AppendArrayLen(b, settingsFields)
	b = mpack.AppendUint(b, uint64(s.Mode))
	b = mpack.AppendInt(b, s.OverdraftLimit)
	b = mpack.AppendInt(b, s.OverdraftPercent)
	b = mpack.AppendBool(b, s.PercentSet)
	b = mpack.AppendInt(b, s.DefaultTTLms)
	b = mpack.AppendBool(b, s.Suspended)
	for _, v := range []int64{img.Debt, img.Free, img.Held, img.Total} {
		b = mpack.AppendInt(b, v)
	}
	b = appendSum128(b, img.SpentOriginal)
	b = mpack.AppendArrayLen(b, len(img.Grants))
	for i := range img.Grants {
		b = appendGrant(b, &img.Grants[i])
	}
	b = mpack.AppendArrayLen(b, len(img.Holds))
	for i := range img.Holds {
		h := &img.Holds[i]
		b = mpack.AppendArrayLen(b, holdFields)
		b = mpack.AppendStr(b, h.ID)
		b = mpack.AppendInt(b, h.Amount)
		b = mpack.AppendInt(b, h.ExpiresAt)
		b = mpack.AppendUint(b, uint64(h.OnExpiry))
		b = mpack.AppendStr(b, h.Principal)
		b = mpack.AppendStr(b, h.Feature)
		b = appendAllocs(b, h.Earmarks)
		b = appendAnswer(b, &h.Answer)
	}
	var err error
	if len(plan.refs) == 0 {
		b, err = appendColumns(b, c, rows)
	} else {
		b, err = appendSegmented(b, c, plan)
	}
	if err != nil {
		return nil, err
	}
	b = mpack.AppendUint(b, img.EvictedYoung)
	return appendGovImage(b, img.Gov), nil
}

func appendGrant(b []byte, g *actors.GrantImage) []byte {
	b = mpack.AppendArrayLen(b, grantFields)
	b = mpack.AppendStr(b, g.ID)
	b = mpack.AppendStr(b, g.Kind)
	for _, v := range []int64{g.Priority, g.Amount, g.Remaining, g.Earmarked, g.EffectiveAt, g.ExpiresAt} {
		b = mpack.AppendInt(b, v)
	}
	b = mpack.AppendUint(b, uint64(g.State))
	if g.Meta == nil {
		return append(b, 0xc0)
	}
	b = mpack.AppendMapLen(b, len(g.Meta))
	for k, v := range g.Meta {
		b = mpack.AppendStr(mpack.AppendStr(b, k), v)
	}
	return b
}

func appendAnswer(b []byte, a *actors.Answer) []byte {
	b = mpack.AppendArrayLen(b, answerFields+1)
	b = mpack.AppendStr(b, a.ID)
	b = mpack.AppendUint(b, uint64(a.Op))
	return appendAnswerTail(b, a)
}

// appendAnswerTail writes an answer's fields after its id and op: hash,
// figures, allocations, governance.
func appendAnswerTail(b []byte, a *actors.Answer) []byte {
	b = mpack.AppendUint(b, a.Hash)
	b = mpack.AppendArrayLen(b, answerN)
	for _, v := range a.N {
		b = mpack.AppendInt(b, v)
	}
	b = appendAllocs(b, a.Allocs)
	return appendGovernance(b, a.Gov)
}

// appendSum128 writes a sum below 2⁶³−1 as the int every format had
// there, and any other as [hi, lo]: no format version for a field only a
// wallet granted 2⁶³−1 or more in all ever needs. A build before it
// refuses such a snapshot as corrupt and replays the wallet's journal.
// Before it, the sum saturated at 2⁶³−1: an int of that value may be a
// cut sum, so readSum128 refuses it, and the wallet is rebuilt from its
// journal, where the sum is exact.
func appendSum128(b []byte, s actors.Sum128) []byte {
	if s.Hi == 0 && s.Lo < math.MaxInt64 {
		return mpack.AppendInt(b, int64(s.Lo))
	}
	b = mpack.AppendArrayLen(b, 2)
	b = mpack.AppendUint(b, s.Hi)
	return mpack.AppendUint(b, s.Lo)
}

func readSum128(r *reader) actors.Sum128 {
	if r.Left() > 0 && r.B[r.Off] == 0x92 { // fixarray of 2
		r.Off++
		s := actors.Sum128{Hi: r.uint(), Lo: r.uint()}
		if s.Hi == 0 && s.Lo < math.MaxInt64 {
			r.Failf("sum %d written as [hi, lo]", s.Lo)
		}
		return s
	}
	switch v := r.int(); {
	case v < 0:
		r.Failf("negative sum %d", v)
	case v == math.MaxInt64:
		r.Failf("a sum of 2^63-1 written as an int: cut at int64 by an older build")
	default:
		return actors.Sum128Of(v)
	}
	return actors.Sum128{}
}

// v2 is whether the body being read has format v2's extra fields.
func (r *reader) v2() int {
	if r.version >= 2 {
		return 1
	}
	return 0
}

func appendAllocs(b []byte, as []actors.Allocation) []byte {
	b = mpack.AppendArrayLen(b, len(as))
	for _, a := range as {
		b = mpack.AppendArrayLen(b, 2)
		b = mpack.AppendStr(b, a.Grant)
		b = mpack.AppendInt(b, a.Amount)
	}
	return b
}

// Smallest encodings, to bound element counts by the bytes left.
const (
	minGrant  = 1 + grantFields
	minHold   = 1 + holdFields + minAnswer
	minRecord = 1 + minAnswer + 2
	minAnswer = 1 + answerFields + answerN
	minAlloc  = 3
)

// readBody reads an image; a v4 one's ids come back as their parts, for
// the caller to join (img.IDCols stays nil).
func readBody(r *reader, img *actors.Image) (sg *segmentedIDs) {
	if !r.fields(imageFields+r.v2(), "image") {
		return nil
	}
	img.Pos = r.uint()
	img.MaxRememberedIDs = int(r.small(math.MaxInt32, "max remembered ids"))
	img.IDRetention = r.int()
	img.Exists = r.bool()
	img.Seq = r.uint()
	img.Clock = r.int()
	if r.fields(settingsFields, "settings") {
		s := &img.Settings
		s.Mode = actors.Mode(r.small(math.MaxUint8, "mode"))
		s.OverdraftLimit = r.int()
		s.OverdraftPercent = r.int()
		s.PercentSet = r.bool()
		s.DefaultTTLms = r.int()
		s.Suspended = r.bool()
	}
	img.Debt, img.Free, img.Held, img.Total = r.int(), r.int(), r.int(), r.int()
	img.SpentOriginal = readSum128(r)
	if n := r.arrayLen(minGrant, "grants"); n > 0 {
		img.Grants = make([]actors.GrantImage, n)
		for i := 0; i < n && r.Err == nil; i++ {
			readGrant(r, &img.Grants[i])
		}
	}
	if n := r.arrayLen(minHold, "holds"); n > 0 {
		img.Holds = make([]actors.HoldImage, n)
		for i := 0; i < n && r.fields(holdFields, "hold"); i++ {
			h := &img.Holds[i]
			h.ID = r.str()
			h.Amount = r.int()
			h.ExpiresAt = r.int()
			h.OnExpiry = actors.OnExpiry(r.small(math.MaxUint8, "on expiry"))
			h.Principal = r.str()
			h.Feature = r.str()
			h.Earmarks = readAllocs(r)
			readAnswer(r, &h.Answer)
		}
	}
	if segmentedLayout(r.version) {
		sg = readSegmented(r)
	} else if r.version >= versionColumns {
		img.IDCols = readIDCols(r)
	} else if n := r.arrayLen(minRecord, "ids"); n > 0 {
		img.IDs = make([]actors.RecordImage, n)
		for i := 0; i < n && r.fields(recordFields, "record"); i++ {
			rec := &img.IDs[i]
			readAnswer(r, &rec.Answer)
			rec.At = r.int()
			rec.Hold = uint8(r.small(math.MaxUint8, "hold status"))
		}
	}
	img.EvictedYoung = r.uint()
	if r.v2() == 1 {
		img.Gov = readGovImage(r)
	}
	return sg
}

func readGrant(r *reader, g *actors.GrantImage) {
	if !r.fields(grantFields, "grant") {
		return
	}
	g.ID, g.Kind = r.str(), r.str()
	g.Priority, g.Amount, g.Remaining, g.Earmarked = r.int(), r.int(), r.int(), r.int()
	g.EffectiveAt, g.ExpiresAt = r.int(), r.int()
	g.State = uint8(r.small(math.MaxUint8, "grant state"))
	if r.isNil() {
		return
	}
	n := r.length(0x80, 0xde, 0xdf, 2, "meta")
	g.Meta = make(actors.Meta, n)
	for i := 0; i < n && r.Err == nil; i++ {
		k := r.str()
		g.Meta[k] = r.str()
	}
}

func readAnswer(r *reader, a *actors.Answer) {
	if !r.fields(answerFields+r.v2(), "answer") {
		return
	}
	a.ID = r.idStr()
	a.Op = actors.OpCode(r.small(math.MaxUint8, "op"))
	readAnswerTail(r, a, r.v2() == 1)
}

// readAnswerTail reads what appendAnswerTail writes (before v2: without
// the governance).
func readAnswerTail(r *reader, a *actors.Answer, gov bool) {
	a.Hash = r.uint()
	if r.fields(answerN, "answer figures") {
		for i := range a.N {
			a.N[i] = r.int()
		}
	}
	a.Allocs = readAllocs(r)
	if gov {
		a.Gov = readGovernance(r)
	}
}

func readAllocs(r *reader) []actors.Allocation {
	n := r.arrayLen(minAlloc, "allocations")
	if n == 0 {
		return nil
	}
	as := r.allocs(n)
	for i := 0; i < n && r.fields(2, "allocation"); i++ {
		as[i] = actors.Allocation{Grant: r.name(), Amount: r.int()}
	}
	return as
}
