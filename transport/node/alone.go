package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// ErrAnotherNode: a Purser node already serves on this NATS. Two would
// share the requests (queue group purser); their appends are fenced per
// wallet, but reads and denials journal nothing, so the one whose copy of
// a wallet is stale would answer them from it (docs/operations.md: one
// node at a time on a journal stream).
var ErrAnotherNode = errors.New("another Purser node serves on this NATS")

// alone asks the nats micro discovery subject whether a Purser service
// answers. With none, the server says "no responders" at once, so a start
// waits for nothing; a node that crashed answers nothing, so it does not
// block its own restart. Two nodes starting in the same instant can both
// pass: this catches a second node, it is not a lease.
//
// No answer at all (rather than "no responders") means the check could not
// be made: the user may publish on $SRV or subscribe to replies only with
// the permissions docs/operations.md lists, or the servers are joined by a
// gateway that does not say "no responders". The node starts, with a
// warning.
func alone(nc *nats.Conn, log *zap.Logger) error {
	m, err := nc.Request("$SRV.PING.purser", nil, 2*time.Second)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case errors.Is(err, nats.ErrTimeout):
		log.Warn("could not check for another Purser node on this NATS: $SRV.PING.purser had no answer "+
			"(permissions on $SRV.> and _INBOX.>?); run one node at a time", zap.Error(err))
		return nil
	case err != nil:
		return fmt.Errorf("look for another Purser node: %w", err)
	}
	var who struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(m.Data, &who)
	return fmt.Errorf("%w (service instance %s): stop it first; one node at a time serves a journal (docs/operations.md)", ErrAnotherNode, who.ID)
}
