package wire

import (
	"strconv"
	"strings"

	"github.com/purser-dev/purser/actors"
)

// Encoding is the body format of a request; its reply uses the same one.
type Encoding uint8

const (
	Msgpack Encoding = iota // the default (SPEC §8)
	JSON
)

func (e Encoding) String() string {
	if e == JSON {
		return "json"
	}
	return "msgpack"
}

// ContentType is the value of a Content-Type header for e.
func (e Encoding) ContentType() string {
	if e == JSON {
		return "application/json"
	}
	return "application/msgpack"
}

// Detect picks the encoding of a request: JSON when its Content-Type is
// application/json (parameters such as charset ignored) or its body starts
// with '{' after optional whitespace, msgpack otherwise. No msgpack request
// can start with '{' (0x7b is a positive fixint, never a map), so sniffing
// cannot misread a valid msgpack body.
func Detect(body []byte, contentType string) Encoding {
	if contentType != "" {
		mt, _, _ := strings.Cut(contentType, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return JSON
		}
	}
	for _, c := range body {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return JSON
		}
		return Msgpack
	}
	return Msgpack
}

// Header names of the NATS micro service error convention.
const (
	HeaderError     = "Nats-Service-Error"
	HeaderErrorCode = "Nats-Service-Error-Code"
)

// Status maps a code to the HTTP-like number put in Nats-Service-Error-Code,
// so generic NATS tooling can tell a caller's mistake (4xx) from a
// condition worth retrying (429, 503):
//
//	400 invalid_request, invalid_wallet, invalid_amount
//	404 wallet_not_found, hold_not_found, grant_not_found
//	409 hold_closed, idempotency_conflict
//	413 payload_too_large
//	422 amount_overflow, limit_exceeded (well-formed, but the wallet cannot take it)
//	429 overloaded
//	503 unavailable, not_owner
//	500 anything else (a code this node does not know: a bug)
func Status(c actors.Code) int {
	switch c {
	case actors.ErrInvalidRequest, actors.ErrInvalidWallet, actors.ErrInvalidAmount:
		return 400
	case actors.ErrWalletNotFound, actors.ErrHoldNotFound, actors.ErrGrantNotFound:
		return 404
	case actors.ErrHoldClosed, actors.ErrIdempotencyConflict:
		return 409
	case actors.ErrPayloadTooLarge:
		return 413
	case actors.ErrAmountOverflow, actors.ErrLimitExceeded:
		return 422
	case actors.ErrOverloaded:
		return 429
	case actors.ErrUnavailable, actors.ErrNotOwner:
		return 503
	}
	return 500
}

// ErrorHeaders are the NATS service error headers for e. The map converts
// to nats.Header as is.
func ErrorHeaders(e *actors.Error) map[string][]string {
	return map[string][]string{
		HeaderError:     {e.Message},
		HeaderErrorCode: {strconv.Itoa(Status(e.Code))},
	}
}

// quote renders user input inside an error message, cut short so that a
// 64 KiB field name cannot make a 64 KiB message.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

func invalidRequest(msg string) *actors.Error {
	return &actors.Error{Code: actors.ErrInvalidRequest, Message: msg}
}

func invalidAmount(msg string) *actors.Error {
	return &actors.Error{Code: actors.ErrInvalidAmount, Message: msg}
}
