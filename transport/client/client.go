// Package client is the typed Go client of Purser's NATS API (SPEC §8):
// msgpack on the wire, error codes as typed errors, a request timeout, and
// safe retries — overloaded, not_owner, timeouts and "no responders" are
// retried with the same request id, so a retry can never apply twice.
//
//	c := client.New(nc)
//	r, err := c.Reserve(ctx, "acme", client.ReserveRequest{ID: "req-42", Amount: 1500})
//	if errors.Is(err, client.ErrWalletNotFound) { ... }
//	if !r.Allowed { ... r.Reason ... }
package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"
)

// Error is a coded refusal from Purser: the request applied nothing.
type Error struct {
	Code    string `msgpack:"code" json:"code"`
	Message string `msgpack:"message" json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is matches any *Error with the same code: errors.Is(err, ErrHoldClosed).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The codes of SPEC §8, for errors.Is.
var (
	ErrInvalidRequest      = &Error{Code: "invalid_request"}
	ErrInvalidWallet       = &Error{Code: "invalid_wallet"}
	ErrInvalidAmount       = &Error{Code: "invalid_amount"}
	ErrAmountOverflow      = &Error{Code: "amount_overflow"}
	ErrWalletNotFound      = &Error{Code: "wallet_not_found"}
	ErrHoldNotFound        = &Error{Code: "hold_not_found"}
	ErrHoldClosed          = &Error{Code: "hold_closed"}
	ErrGrantNotFound       = &Error{Code: "grant_not_found"}
	ErrIdempotencyConflict = &Error{Code: "idempotency_conflict"}
	ErrPayloadTooLarge     = &Error{Code: "payload_too_large"}
	ErrLimitExceeded       = &Error{Code: "limit_exceeded"}
	ErrOverloaded          = &Error{Code: "overloaded"}
	ErrUnavailable         = &Error{Code: "unavailable"}
	ErrNotOwner            = &Error{Code: "not_owner"}
)

// ErrNoNode means no Purser node answered: the request never reached one.
var ErrNoNode = errors.New("no Purser node answered")

// Client calls one Purser deployment over a NATS connection. It is safe
// for concurrent use.
type Client struct {
	nc       *nats.Conn
	prefix   string
	timeout  time.Duration
	attempts int
	backoff  time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithPrefix sets the subject prefix (default "purser").
func WithPrefix(p string) Option { return func(c *Client) { c.prefix = p } }

// WithTimeout bounds each attempt (default 5s); the ctx bounds the call.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetries sets how many times a retryable failure is retried (default
// 3) and the first backoff (default 20ms, doubling, with jitter).
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) { c.attempts, c.backoff = n+1, backoff }
}

// New returns a client on nc.
func New(nc *nats.Conn, opts ...Option) *Client {
	c := &Client{nc: nc, prefix: "purser", timeout: 5 * time.Second, attempts: 4, backoff: 20 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	return c
}

func (c *Client) runtime(op, wallet string) string { return c.prefix + ".v1." + op + "." + wallet }
func (c *Client) admin(op, wallet string) string   { return c.prefix + ".admin.v1." + op + "." + wallet }

// call sends req and decodes the reply into out, retrying what is safe to
// retry. Every mutating request carries its id, so a retry is idempotent.
func (c *Client) call(ctx context.Context, subject string, req, out any) error {
	body, err := msgpack.Marshal(req)
	if err != nil {
		return fmt.Errorf("purser client: encode: %w", err)
	}
	wait := c.backoff
	for attempt := 1; ; attempt++ {
		err = c.once(ctx, subject, body, out)
		if err == nil || attempt >= c.attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return err
		}
		wait *= 2
	}
}

func retryable(err error) bool {
	return errors.Is(err, ErrOverloaded) || errors.Is(err, ErrNotOwner) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, ErrNoNode) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Client) once(ctx context.Context, subject string, body []byte, out any) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.nc.RequestWithContext(actx, subject, body)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w on %s at %s — is `purser serve` running?", ErrNoNode, subject, c.nc.ConnectedUrl())
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("purser client: %s: %w", subject, nats.ErrTimeout)
	case err != nil:
		return err
	}
	if msg.Header.Get("Nats-Service-Error-Code") != "" {
		var e struct {
			Error Error `msgpack:"error"`
		}
		if err := msgpack.Unmarshal(msg.Data, &e); err != nil || e.Error.Code == "" {
			return &Error{Code: "unavailable", Message: msg.Header.Get("Nats-Service-Error")}
		}
		return &e.Error
	}
	if err := msgpack.Unmarshal(msg.Data, out); err != nil {
		return fmt.Errorf("purser client: decode reply of %s: %w", subject, err)
	}
	return nil
}

// Reserve places a hold (strict) or asks permission (optimistic). A denial
// is a reply with Allowed false, not an error.
func (c *Client) Reserve(ctx context.Context, wallet string, r ReserveRequest) (ReserveReply, error) {
	var out ReserveReply
	return out, c.call(ctx, c.runtime("reserve", wallet), r, &out)
}

// Check evaluates a reserve without holding anything.
func (c *Client) Check(ctx context.Context, wallet string, r CheckRequest) (ReserveReply, error) {
	var out ReserveReply
	return out, c.call(ctx, c.runtime("check", wallet), r, &out)
}

// Settle records actual usage against a hold.
func (c *Client) Settle(ctx context.Context, wallet string, r SettleRequest) (SettleReply, error) {
	var out SettleReply
	req := struct {
		SettleRequest `msgpack:",inline"`
		Final         bool `msgpack:"final"`
	}{r, !r.Partial}
	return out, c.call(ctx, c.runtime("settle", wallet), req, &out)
}

// Release voids a hold.
func (c *Client) Release(ctx context.Context, wallet string, r ReleaseRequest) (ReleaseReply, error) {
	var out ReleaseReply
	return out, c.call(ctx, c.runtime("release", wallet), r, &out)
}

// Extend moves a hold's expiry and may raise it.
func (c *Client) Extend(ctx context.Context, wallet string, r ExtendRequest) (ExtendReply, error) {
	var out ExtendReply
	return out, c.call(ctx, c.runtime("extend", wallet), r, &out)
}

// Debit records usage without a hold.
func (c *Client) Debit(ctx context.Context, wallet string, r DebitRequest) (DebitReply, error) {
	var out DebitReply
	return out, c.call(ctx, c.runtime("debit", wallet), r, &out)
}

// Balance reads a wallet.
func (c *Client) Balance(ctx context.Context, wallet string) (BalanceReply, error) {
	var out BalanceReply
	return out, c.call(ctx, c.runtime("balance", wallet), struct{}{}, &out)
}

// Grant adds credits.
func (c *Client) Grant(ctx context.Context, wallet string, r GrantRequest) (GrantReply, error) {
	var out GrantReply
	return out, c.call(ctx, c.admin("grant", wallet), r, &out)
}

// Revoke forfeits a grant.
func (c *Client) Revoke(ctx context.Context, wallet string, r RevokeRequest) (RevokeReply, error) {
	var out RevokeReply
	return out, c.call(ctx, c.admin("revoke", wallet), r, &out)
}

// Configure changes a wallet's settings.
func (c *Client) Configure(ctx context.Context, wallet string, r ConfigureRequest) (ConfigureReply, error) {
	var out ConfigureReply
	return out, c.call(ctx, c.admin("configure", wallet), r, &out)
}

// History reads one page of a wallet's history.
func (c *Client) History(ctx context.Context, wallet string, r HistoryRequest) (HistoryReply, error) {
	var out HistoryReply
	return out, c.call(ctx, c.admin("history", wallet), r, &out)
}
