package actors

import (
	"context"
	"errors"
)

// Journal persists wallets' events; the wallet's state is always exactly
// the fold of its journal (SPEC §7). The runtime defines it; the transport
// implements it on JetStream, memjournal.go in memory for tests.
//
// A position is opaque to the runtime except that 0 means "nothing yet" and
// positions of one wallet grow with each append.
type Journal interface {
	// Append appends one batch of events for wallet, fenced: it lands only
	// if the wallet's last position is still prev. It must not block the
	// caller: done is called exactly once, from any goroutine, with the
	// batch's new position, or with an error: ErrFenced when another writer
	// appended first (the caller no longer owns the wallet), any other error
	// when the batch did not land (an implementation that cannot tell
	// resolves the unknown outcome before calling done).
	Append(wallet string, prev uint64, events []Event, done func(pos uint64, err error))

	// Read calls fn with each batch of wallet after position from, in order,
	// and returns the last position read (from if there was none).
	Read(ctx context.Context, wallet string, from uint64, fn func(pos uint64, events []Event) error) (uint64, error)
}

// ErrFenced: the journal refused an append because its expected previous
// position was stale — another node appended for this wallet.
var ErrFenced = errors.New("purser: journal append fenced: wallet owned elsewhere")

// ErrBatchTooLarge: the journal refused an append for its size and wrote
// nothing. The runtime then decides the batch again in halves.
var ErrBatchTooLarge = errors.New("purser: journal batch too large")
