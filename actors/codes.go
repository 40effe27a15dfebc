package actors

// Code is an outcome that a user can cause: an error reply of the wire API
// (SPEC §8) or, for Reason, a denial. The set is part of the wire contract:
// append only, never renumber, never rename.
type Code uint8

const (
	OK Code = iota
	ErrInvalidRequest
	ErrInvalidWallet
	ErrInvalidAmount
	ErrAmountOverflow
	ErrWalletNotFound
	ErrHoldNotFound
	ErrHoldClosed
	ErrGrantNotFound
	ErrIdempotencyConflict
	ErrPayloadTooLarge
	ErrLimitExceeded
	ErrOverloaded
	ErrUnavailable
	ErrNotOwner
	codeCount
)

var codeNames = [codeCount]string{
	OK:                     "ok",
	ErrInvalidRequest:      "invalid_request",
	ErrInvalidWallet:       "invalid_wallet",
	ErrInvalidAmount:       "invalid_amount",
	ErrAmountOverflow:      "amount_overflow",
	ErrWalletNotFound:      "wallet_not_found",
	ErrHoldNotFound:        "hold_not_found",
	ErrHoldClosed:          "hold_closed",
	ErrGrantNotFound:       "grant_not_found",
	ErrIdempotencyConflict: "idempotency_conflict",
	ErrPayloadTooLarge:     "payload_too_large",
	ErrLimitExceeded:       "limit_exceeded",
	ErrOverloaded:          "overloaded",
	ErrUnavailable:         "unavailable",
	ErrNotOwner:            "not_owner",
}

// String is the code's wire name.
func (c Code) String() string {
	if c < codeCount {
		return codeNames[c]
	}
	return "unknown"
}

// Error is a refusal with a code: the request applied nothing.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// Is lets errors.Is match any *Error of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

func fail(c Code, msg string) *Error { return &Error{Code: c, Message: msg} }

// Reason says why a reserve, check or extend was denied. Denials are normal
// replies (allowed:false), not errors. Append only.
type Reason uint8

const (
	Allowed Reason = iota
	ReasonInsufficientCredits
	ReasonSpendCapExceeded
	ReasonRateLimited
	ReasonFeatureNotEntitled
	ReasonFeatureLimitExceeded
	ReasonWalletSuspended
	reasonCount
)

var reasonNames = [reasonCount]string{
	Allowed:                    "",
	ReasonInsufficientCredits:  "insufficient_credits",
	ReasonSpendCapExceeded:     "spend_cap_exceeded",
	ReasonRateLimited:          "rate_limited",
	ReasonFeatureNotEntitled:   "feature_not_entitled",
	ReasonFeatureLimitExceeded: "feature_limit_exceeded",
	ReasonWalletSuspended:      "wallet_suspended",
}

// String is the reason's wire name ("" when allowed).
func (r Reason) String() string {
	if r < reasonCount {
		return reasonNames[r]
	}
	return "unknown"
}
