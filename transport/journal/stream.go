package journal

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// metaPartitions is the stream metadata key that fixes P for the life of
// the stream.
const metaPartitions = "purser_partitions"

// Partition is the wallet's partition: FNV-1a 32 of its id mod p. Stable
// across processes and versions: it is part of the on-disk layout.
func Partition(wallet string, p uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(wallet))
	return h.Sum32() % p
}

// streamConfig is the journal stream as Purser needs it: file storage,
// nothing ever deleted or purged (a wallet's state is the fold of its
// journal), direct gets for fast reads of one subject, atomic batches for
// group commit.
func streamConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:               cfg.Stream,
		Description:        "Purser wallet journal: one message per actor batch",
		Subjects:           []string{cfg.Prefix + ".*.*"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardNew,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxAge:             0,
		MaxMsgsPerSubject:  -1,
		Replicas:           cfg.Replicas,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: cfg.Mode == ModeBatch,
		Metadata:           map[string]string{metaPartitions: strconv.FormatUint(uint64(cfg.Partitions), 10)},
	}
}

// ensureStream creates the stream or checks an existing one, and returns
// its handle (Read's direct gets) and the partition count to use (the
// stream's, when it exists).
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Stream, uint32, error) {
	want := streamConfig(cfg)
	st, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, want)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("journal: stream %s: %w", cfg.Stream, err)
	}
	got := st.CachedInfo().Config
	if err := checkStream(got, want); err != nil {
		return nil, 0, err
	}
	if cfg.Mode == ModeGroupSync && (got.Replicas > 1 || got.PersistMode == jetstream.AsyncPersistMode) {
		// The journal's fsync covers what the server wrote before its ack:
		// a replicated or async-persist store acks before it writes.
		return nil, 0, fmt.Errorf("journal: stream %s (%d replicas, persist mode %d) does not write before it acks, "+
			"which group sync needs", got.Name, got.Replicas, got.PersistMode)
	}
	if want.AllowAtomicPublish && !got.AllowAtomicPublish {
		// Streams made by ModeSingle (or older builds) get atomic publish
		// switched on; a server < 2.12 ignores the field, caught below.
		got.AllowAtomicPublish = true
		st, err = js.UpdateStream(ctx, got)
		if err != nil {
			return nil, 0, fmt.Errorf("journal: enable atomic publish on %s: %w", cfg.Stream, err)
		}
		if !st.CachedInfo().Config.AllowAtomicPublish {
			return nil, 0, fmt.Errorf("journal: server does not support atomic batch publish (needs nats-server >= 2.12); use ModeSingle")
		}
	}
	p, err := strconv.ParseUint(got.Metadata[metaPartitions], 10, 32)
	if err != nil || p == 0 {
		return nil, 0, fmt.Errorf("journal: stream %s has no valid %s metadata", cfg.Stream, metaPartitions)
	}
	return st, uint32(p), nil
}

// checkStream refuses a stream that would break the journal's contract:
// wrong subjects, deletable messages, or memory storage.
func checkStream(got, want jetstream.StreamConfig) error {
	switch {
	case len(got.Subjects) != 1 || got.Subjects[0] != want.Subjects[0]:
		return fmt.Errorf("journal: stream %s has subjects %v, want %v", got.Name, got.Subjects, want.Subjects)
	case got.Storage != jetstream.FileStorage:
		return fmt.Errorf("journal: stream %s is not file-backed", got.Name)
	case !got.DenyDelete || !got.DenyPurge:
		return fmt.Errorf("journal: stream %s allows deletes or purges", got.Name)
	case !got.AllowDirect:
		return fmt.Errorf("journal: stream %s does not allow direct gets", got.Name)
	case got.MaxAge != 0 || got.MaxMsgs > 0 || got.MaxBytes > 0 || got.MaxMsgsPerSubject > 0:
		return fmt.Errorf("journal: stream %s has limits that would drop journal messages", got.Name)
	}
	return nil
}

// probeWallet names the subject of the route probe. The probe is never
// stored (its fence refuses it), and a wallet of that name, if any, is
// not disturbed by it.
const probeWallet = "_route_probe"

// AwaitRoute returns once a publish from this connection to subject
// reaches the stream that holds it; what names those subjects in errors
// and logs. A stream just created on a cluster, or opened through a server
// that has just joined one, may not be routable yet from the server this
// connection uses: a publish then gets "no responders" and a journal
// append goes through resolution (a read and a resend; nothing is lost,
// but every first append of a starting node would pay it). The probe
// carries a fence no subject can meet, so the stream refuses it (wrong
// last sequence) and stores nothing. Each try waits at most probeTimeout;
// after routeWait in all (or ctx) it fails rather than hang a node's
// start, and at once when the server refuses this connection the publish.
// New calls it for the journal; the node for the snapshot buckets.
func AwaitRoute(ctx context.Context, nc *nats.Conn, subject, what string, log *zap.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, routeWait)
	defer cancel()
	start, warned := time.Now(), time.Duration(0)
	for {
		err := probeRoute(ctx, nc, subject)
		if err == nil || errors.Is(err, errProbeStored) {
			return err
		}
		// A publish the server refuses for permissions comes back as an
		// asynchronous error and the probe times out: no wait fixes that.
		if last := nc.LastError(); errors.Is(last, nats.ErrPermissionViolation) && strings.Contains(last.Error(), subject) {
			return fmt.Errorf("this connection may not publish to %s (%s): %w", what, subject, last)
		}
		// "No responders" comes back at once: one warning per 5 s of
		// waiting, not one per try.
		if waited := time.Since(start); waited-warned >= 5*time.Second {
			warned = waited
			log.Warn("the stream of "+what+" does not answer from this server yet; still trying",
				zap.Duration("waited", waited), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no route to the stream of %s: %w", what, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

const (
	probeTimeout = 2 * time.Second
	routeWait    = 60 * time.Second
)

// probeRoute sends the probe once: nil when the stream refused it as it
// must.
func probeRoute(ctx context.Context, nc *nats.Conn, subject string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	m := nats.NewMsg(subject)
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(math.MaxUint64, 10))
	reply, err := nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return err
	}
	ack, err := parseAck(reply.Data)
	switch {
	case err != nil:
		return fmt.Errorf("probe reply %q: %w", reply.Data, err)
	case ack.Error == nil:
		return fmt.Errorf("%w at %d", errProbeStored, ack.Seq)
	case ack.Error.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence &&
		ack.Error.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequenceConstant:
		return fmt.Errorf("probe refused: %w", ack.Error)
	}
	return nil
}

// errProbeStored: the stream stored a message no wallet owns, so it did
// not check the fence, and no append to it would be safe either.
var errProbeStored = errors.New("journal: the stream stored the route probe: it does not check fences")
