package wire

import (
	"strconv"

	"github.com/purser-dev/purser/actors"
)

// DefaultMaxPayload is the largest request body accepted (SPEC §8: 64 KiB).
const DefaultMaxPayload = 64 << 10

// History is the request of the history op (it reads the journal, so it is
// no actors.Command).
type History struct {
	AfterSeq uint64 // entries with seq > AfterSeq; 0 = from the start
	Limit    int    // 1..MaxHistoryLimit, DefaultHistoryLimit when absent
}

const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000 // a larger limit is served as this one (SPEC §8)
)

// Decoder turns request bodies into commands. It holds no state, so one
// value serves every goroutine. The zero value uses DefaultMaxPayload.
//
// It checks what only the wire can see — field names, types, presence,
// an explicit ttl_ms of 0 (which the core reads as "absent"), amounts > 0 —
// and leaves the rest (ids, lengths, meta bounds, ranges that depend on
// wallet state) to the core's validation, which applies to any caller.
type Decoder struct {
	MaxPayload int // bytes; <= 0 means DefaultMaxPayload
}

func (d Decoder) check(body []byte) *actors.Error {
	limit := d.MaxPayload
	if limit <= 0 {
		limit = DefaultMaxPayload
	}
	if len(body) > limit {
		return &actors.Error{Code: actors.ErrPayloadTooLarge,
			Message: "request body is " + strconv.Itoa(len(body)) + " bytes; the limit is " + strconv.Itoa(limit)}
	}
	return nil
}

func (d Decoder) read(op Op, body []byte, enc Encoding, v *values) *actors.Error {
	if err := d.check(body); err != nil {
		return err
	}
	// An empty body is the empty object in either encoding, so that
	// `nats req purser.v1.balance.acme ''` works.
	if len(body) == 0 {
		return nil
	}
	if enc == JSON {
		return v.read(op, &jsonSource{b: body})
	}
	return readMsgpack(op, body, v)
}

// Decode decodes the body of a request for op (any op but OpHistory) into
// its command. Every failure is an *actors.Error with the code SPEC §8
// promises, and the request must then be answered with it unapplied.
func (d Decoder) Decode(op Op, body []byte, enc Encoding) (actors.Command, *actors.Error) {
	if op == OpInvalid || op >= opCount || op == OpHistory {
		return nil, invalidRequest("no command for op " + quote(op.String()))
	}
	var v values
	if err := d.read(op, body, enc, &v); err != nil {
		return nil, err
	}
	return v.command(op)
}

// DecodeHistory decodes the body of a history request.
func (d Decoder) DecodeHistory(body []byte, enc Encoding) (History, *actors.Error) {
	var v values
	if err := d.read(OpHistory, body, enc, &v); err != nil {
		return History{}, err
	}
	h := History{Limit: DefaultHistoryLimit}
	if v.seen.has(fAfterSeq) {
		if v.afterSeq < 0 {
			return History{}, invalidRequest("after_seq must be an integer >= 0")
		}
		h.AfterSeq = uint64(v.afterSeq)
	}
	if v.seen.has(fLimit) {
		if v.limit < 1 {
			return History{}, invalidRequest("limit must be an integer >= 1")
		}
		h.Limit = int(min(v.limit, MaxHistoryLimit))
	}
	return h, nil
}

// command builds op's command from what was read, checking presence and
// the values only the wire can judge.
func (v *values) command(op Op) (actors.Command, *actors.Error) {
	switch op {
	case OpReserve, OpCheck:
		return v.reserve(op)
	case OpSettle:
		if !v.seen.has(fActual) || v.actual < 0 {
			return nil, invalidAmount("actual must be an integer >= 0")
		}
		final := true
		if v.seen.has(fFinal) {
			final = v.final
		}
		return actors.Settle{ID: v.id, HoldID: v.holdID, Actual: v.actual, Final: final}, nil
	case OpRelease:
		return actors.Release{ID: v.id, HoldID: v.holdID}, nil
	case OpExtend:
		// The core reads Amount 0 as "keep the amount": an explicit 0 must
		// be refused here, where it is still visible.
		if v.seen.has(fAmount) && v.amount <= 0 {
			return nil, invalidAmount("amount must be an integer > 0 (the hold's new total)")
		}
		if err := v.checkTTL(true); err != nil {
			return nil, err
		}
		return actors.Extend{ID: v.id, HoldID: v.holdID, TTLms: v.ttl, Amount: v.amount}, nil
	case OpDebit:
		if err := v.checkAmount(); err != nil {
			return nil, err
		}
		return actors.Debit{ID: v.id, Amount: v.amount, Principal: v.principal, Feature: v.feature, Meta: v.meta}, nil
	case OpBalance:
		return actors.Balance{}, nil
	case OpGrant:
		return v.grant()
	case OpRevoke:
		return actors.Revoke{ID: v.id, GrantID: v.grantID}, nil
	case OpConfigure:
		return v.configure()
	}
	return nil, invalidRequest("no command for op " + quote(op.String()))
}

func (v *values) checkAmount() *actors.Error {
	if v.amount <= 0 {
		return invalidAmount("amount must be an integer > 0")
	}
	return nil
}

// checkTTL refuses an explicit ttl_ms outside 1..24h; the core cannot see
// an explicit 0, which it reads as "use the default".
func (v *values) checkTTL(required bool) *actors.Error {
	if !v.seen.has(fTTL) && !required {
		return nil
	}
	if v.ttl <= 0 || v.ttl > actors.MaxTTL.Milliseconds() {
		return invalidRequest("ttl_ms must be between 1 and 86400000")
	}
	return nil
}

func (v *values) reserve(op Op) (actors.Command, *actors.Error) {
	if err := v.checkAmount(); err != nil {
		return nil, err
	}
	if err := v.checkTTL(false); err != nil {
		return nil, err
	}
	oe := actors.ExpireRelease
	if v.seen.has(fOnExpiry) {
		switch v.onExpiry {
		case "release":
		case "capture":
			oe = actors.ExpireCapture
		default:
			return nil, invalidRequest(`on_expiry must be "release" or "capture"`)
		}
	}
	if op == OpCheck {
		return actors.Check{Amount: v.amount, TTLms: v.ttl, OnExpiry: oe, Principal: v.principal,
			Feature: v.feature, Meta: v.meta}, nil
	}
	return actors.Reserve{ID: v.id, Amount: v.amount, TTLms: v.ttl, OnExpiry: oe, Principal: v.principal,
		Feature: v.feature, Meta: v.meta}, nil
}

func (v *values) grant() (actors.Command, *actors.Error) {
	if err := v.checkAmount(); err != nil {
		return nil, err
	}
	g := actors.Grant{ID: v.id, Amount: v.amount, Kind: v.kind, EffectiveAt: v.effectiveAt,
		ExpiresAt: v.expiresAt, Meta: v.meta}
	if v.seen.has(fPriority) {
		p := v.priority
		g.Priority = &p
	}
	return g, nil
}

func (v *values) configure() (actors.Command, *actors.Error) {
	c := actors.Configure{ID: v.id}
	if v.seen.has(fMode) {
		var m actors.Mode
		switch v.mode {
		case "strict":
			m = actors.Strict
		case "optimistic":
			m = actors.Optimistic
		default:
			return nil, invalidRequest(`mode must be "strict" or "optimistic"`)
		}
		c.Mode = &m
	}
	if v.seen.has(fOverdraftLimit) {
		n := v.overdraftLimit
		c.OverdraftLimit = &n
	}
	if v.seen.has(fOverdraftPercent) {
		n := v.percent
		c.OverdraftPercent = &n
	}
	if v.seen.has(fDefaultTTL) {
		n := v.defaultTTL
		c.DefaultTTLms = &n
	}
	if v.seen.has(fSuspended) {
		b := v.suspended
		c.Suspended = &b
	}
	c.Policies, c.Features = v.policies, v.features
	return c, nil
}
