package wire

import (
	"fmt"

	"github.com/purser-dev/purser/actors"
)

// AppendReply appends r, encoded in enc with the field names of SPEC §8,
// to dst. Optional fields (reason, denied_by, hold_id, expires_at,
// retry_after_ms, a grant's expires_at and meta, balance's policies and
// features) are omitted when empty;
// figures are always present, and allocations is always an array.
//
// The error is for a reply type the wire has no shape for (TickReply):
// that is a wiring bug in the caller, reported rather than panicking in a
// request handler.
func AppendReply(dst []byte, enc Encoding, r actors.Reply) ([]byte, error) {
	w := newWriter(dst, enc)
	switch r := r.(type) {
	case actors.ReserveReply:
		w.reserve(r)
	case actors.SettleReply:
		w.object(10)
		w.figure("consumed", r.Consumed)
		w.figure("released", r.Released)
		w.figure("forfeited", r.Forfeited)
		w.figure("overage", r.Overage)
		w.figure("debt", r.Debt)
		w.key("late")
		w.boolean(r.Late)
		w.key("allocations")
		w.allocations(r.Allocations)
		w.figures(r.Figures)
		w.endObject()
	case actors.ReleaseReply:
		w.object(5)
		w.figure("released", r.Released)
		w.figure("forfeited", r.Forfeited)
		w.figures(r.Figures)
		w.endObject()
	case actors.ExtendReply:
		w.extend(r)
	case actors.DebitReply:
		w.object(6)
		w.figure("consumed", r.Consumed)
		w.figure("debt", r.Debt)
		w.key("allocations")
		w.allocations(r.Allocations)
		w.figures(r.Figures)
		w.endObject()
	case actors.BalanceReply:
		w.balance(r)
	case actors.GrantReply:
		w.object(5)
		w.key("grant")
		w.grant(r.Grant)
		w.figure("debt_repaid", r.DebtRepaid)
		w.figures(r.Figures)
		w.endObject()
	case actors.RevokeReply:
		w.object(4)
		w.figure("forfeited", r.Forfeited)
		w.figures(r.Figures)
		w.endObject()
	case actors.ConfigureReply:
		w.configure(r)
	default:
		return dst, fmt.Errorf("wire: no wire shape for reply %T", r)
	}
	return w.b, nil
}

// AppendError appends the error reply {"error": {"code", "message"}}.
func AppendError(dst []byte, enc Encoding, e *actors.Error) []byte {
	w := newWriter(dst, enc)
	w.object(1)
	w.key("error")
	w.object(2)
	w.key("code")
	w.str(e.Code.String())
	w.key("message")
	w.str(e.Message)
	w.endObject()
	w.endObject()
	return w.b
}

func (w *writer) figure(name string, v int64) {
	w.key(name)
	w.int(v)
}

// figures are the three headline numbers every mutating reply ends with.
func (w *writer) figures(f actors.Figures) {
	w.figure("balance", f.Balance)
	w.figure("held", f.Held)
	w.figure("available", f.Available)
}

// count is how many of the optional members are present: msgpack states a
// map's size before its members.
func count(present ...bool) int {
	n := 0
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}

// verdict writes the decision that opens reserve's and extend's replies:
// allowed, then reason and denied_by when there are any; verdictMembers
// counts them.
func (w *writer) verdict(allowed bool, reason actors.Reason, by *actors.DeniedBy) {
	w.key("allowed")
	w.boolean(allowed)
	if reason != actors.Allowed {
		w.key("reason")
		w.str(reason.String())
	}
	if by != nil {
		w.deniedBy(by)
	}
}

func verdictMembers(reason actors.Reason, by *actors.DeniedBy) int {
	return 1 + count(reason != actors.Allowed, by != nil)
}

func (w *writer) reserve(r actors.ReserveReply) {
	hasExpiry := !r.ExpiresAt.IsZero()
	w.object(3 + verdictMembers(r.Reason, r.DeniedBy) + count(r.HoldID != "", hasExpiry, r.RetryAfterMs != 0))
	w.verdict(r.Allowed, r.Reason, r.DeniedBy)
	if r.HoldID != "" {
		w.key("hold_id")
		w.str(r.HoldID)
	}
	if hasExpiry {
		w.key("expires_at")
		w.time(r.ExpiresAt)
	}
	w.figures(r.Figures)
	if r.RetryAfterMs != 0 {
		w.figure("retry_after_ms", r.RetryAfterMs)
	}
	w.endObject()
}

func (w *writer) extend(r actors.ExtendReply) {
	hasExpiry := !r.ExpiresAt.IsZero()
	w.object(4 + verdictMembers(r.Reason, r.DeniedBy) + count(hasExpiry))
	w.verdict(r.Allowed, r.Reason, r.DeniedBy)
	if hasExpiry {
		w.key("expires_at")
		w.time(r.ExpiresAt)
	}
	w.figure("amount", r.Amount)
	w.figures(r.Figures)
	w.endObject()
}

func (w *writer) balance(r actors.BalanceReply) {
	w.object(7 + count(len(r.Policies) > 0, len(r.Features) > 0))
	w.figures(r.Figures)
	w.figure("debt", r.Debt)
	w.key("mode")
	w.str(r.Mode.String())
	w.figure("holds", int64(r.Holds))
	w.key("grants")
	w.array(len(r.Grants))
	for _, g := range r.Grants {
		w.grant(g)
	}
	w.endArray()
	w.usage(r.Policies, r.Features)
	w.endObject()
}

func (w *writer) grant(g actors.GrantView) {
	hasExpiry := !g.ExpiresAt.IsZero()
	w.object(8 + count(hasExpiry, len(g.Meta) > 0))
	w.key("id")
	w.str(g.ID)
	w.key("kind")
	w.str(g.Kind)
	w.figure("priority", g.Priority)
	w.figure("amount", g.Amount)
	w.figure("remaining", g.Remaining)
	w.figure("earmarked", g.Earmarked)
	w.key("effective_at")
	w.time(g.EffectiveAt)
	if hasExpiry {
		w.key("expires_at")
		w.time(g.ExpiresAt)
	}
	w.key("active")
	w.boolean(g.Active)
	if len(g.Meta) > 0 {
		w.key("meta")
		w.meta(g.Meta)
	}
	w.endObject()
}

// configure writes the whole policy. The overdraft is one of two settings
// (SPEC §4: setting one clears the other); the reply names the one that is
// set, and "overdraft_limit": 0 when neither is, which means the same.
func (w *writer) configure(r actors.ConfigureReply) {
	w.object(6)
	w.key("mode")
	w.str(r.Mode.String())
	switch {
	case r.OverdraftPercent != nil:
		w.figure("overdraft_percent", *r.OverdraftPercent)
	case r.OverdraftLimit != nil:
		w.figure("overdraft_limit", *r.OverdraftLimit)
	default:
		w.figure("overdraft_limit", 0)
	}
	w.figure("default_ttl_ms", r.DefaultTTLms)
	w.key("suspended")
	w.boolean(r.Suspended)
	w.governance(r.Policies, r.Features)
	w.endObject()
}
