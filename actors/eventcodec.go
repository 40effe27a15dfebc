package actors

import (
	"errors"
	"fmt"
	"slices"

	"github.com/purser-dev/purser/actors/mpack"
)

// The journal stores one actor batch as one message: a msgpack array of
// [kind, event] pairs. Kinds are part of the on-disk format: append only.
const (
	kindGrantCreated uint8 = iota + 1
	kindGrantActivated
	kindDebtRepaid
	kindHoldPlaced
	kindAuthorized
	kindHoldExtended
	kindSettled
	kindReleased
	kindHoldExpired
	kindDebited
	kindGrantExpired
	kindRevoked
	kindConfigured
)

// MaxBatchEvents bounds a decoded batch, so a corrupt length cannot make
// the decoder allocate without bound.
const MaxBatchEvents = 1 << 20

func eventKind(e Event) uint8 {
	switch e.(type) {
	case *GrantCreated:
		return kindGrantCreated
	case *GrantActivated:
		return kindGrantActivated
	case *DebtRepaid:
		return kindDebtRepaid
	case *HoldPlaced:
		return kindHoldPlaced
	case *Authorized:
		return kindAuthorized
	case *HoldExtended:
		return kindHoldExtended
	case *Settled:
		return kindSettled
	case *Released:
		return kindReleased
	case *HoldExpired:
		return kindHoldExpired
	case *Debited:
		return kindDebited
	case *GrantExpired:
		return kindGrantExpired
	case *Revoked:
		return kindRevoked
	case *Configured:
		return kindConfigured
	}
	panic(fmt.Sprintf("purser: no kind for event %T", e))
}

// AppendEvents encodes a batch of events, appending to buf, in the format
// msgpack/v5 writes for the event structs by reflection (see
// eventcodec_encode.go).
func AppendEvents(buf []byte, evs []Event) ([]byte, error) {
	// Room for typical events at once (a HoldPlaced takes about 160
	// bytes), rather than growing from nothing by doubling.
	const typical = 192
	b := mpack.AppendArrayLen(slices.Grow(buf, 5+typical*len(evs)), len(evs)*2)
	for _, e := range evs {
		var err error
		// The kind is written as a uint8, never in compact form.
		if b, err = appendEvent(append(b, 0xcc, eventKind(e)), e); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ErrCorruptBatch is returned for a journal message that does not decode.
var ErrCorruptBatch = errors.New("purser: corrupt event batch")

// DecodeEvents decodes a batch written by AppendEvents (see
// eventcodec_decode.go for what it accepts). Bytes after the batch are
// ignored.
func DecodeEvents(data []byte) ([]Event, error) {
	var r evReader // set in place: a literal would be built in a temporary and copied
	r.B, r.Short = data, errShortBatch
	n := r.arrayLen()
	if r.Err != nil || n < 0 || n%2 != 0 || n/2 > MaxBatchEvents {
		return nil, fmt.Errorf("%w: bad batch header", ErrCorruptBatch)
	}
	evs := make([]Event, 0, n/2)
	for range n / 2 {
		kind := uint8(r.uint())
		if r.Err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorruptBatch, r.Err)
		}
		e := r.event(kind)
		if e == nil {
			return nil, fmt.Errorf("%w: unknown event kind %d", ErrCorruptBatch, kind)
		}
		if r.Err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorruptBatch, r.Err)
		}
		evs = append(evs, e)
	}
	return evs, nil
}
