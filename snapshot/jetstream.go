package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the default key-value bucket of snapshots (its stream is
// KV_<bucket>); snapshots too large for one message go to the object store
// <bucket>_LARGE (stream OBJ_<bucket>_LARGE).
const Bucket = "PURSER_SNAPSHOTS"

// Config configures the JetStream store.
type Config struct {
	Bucket   string // default Bucket
	Replicas int    // when created; default 1
	// Inline is the largest snapshot kept in the key-value entry itself;
	// larger ones are chunked into the object store. Default 512 KiB (a
	// NATS message is at most 1 MiB by default).
	Inline int
}

// Entry tags: the first byte of a key-value entry.
const (
	tagInline byte = 'I' // the snapshot follows
	tagObject byte = 'O' // the snapshot is the object named after the wallet
)

// kvBlobs keeps each wallet's latest snapshot in a key-value bucket, key =
// wallet: one direct get on activation. A snapshot above Inline (a hot
// wallet with a million open holds is tens of megabytes) is put in the
// object store first, which chunks it, and the entry then points to it, so
// a reader sees the old snapshot or the new one, never a mix. The object
// store also checks a SHA-256 digest on read, besides our CRC.
type kvBlobs struct {
	kv     jetstream.KeyValue
	large  jetstream.ObjectStore
	inline int
	// inLarge names the wallets whose entry this process saw point at the
	// object store (Get or Put): an inline Put then deletes the object,
	// which would otherwise stay behind for good. A wallet is always read
	// (activation) before this process saves it, so none is missed.
	inLarge sync.Map
}

// OpenJetStream opens (creating if needed) the snapshot buckets on js.
// Snapshots are derived data: losing them costs a full replay per wallet,
// never a change, so the buckets need no stronger settings than the
// server's defaults (file storage; fsync as the server is set).
func OpenJetStream(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = Bucket
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Inline <= 0 {
		cfg.Inline = 512 << 10
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Bucket,
		Description: "Purser wallet snapshots: the latest image of each wallet",
		History:     1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas, MaxValueSize: int32(cfg.Inline + 1)})
	if err != nil {
		return nil, fmt.Errorf("snapshot: bucket %s: %w", cfg.Bucket, err)
	}
	large, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: cfg.Bucket + "_LARGE",
		Description: "Purser wallet snapshots too large for one message",
		Storage:     jetstream.FileStorage, Replicas: cfg.Replicas})
	if err != nil {
		return nil, fmt.Errorf("snapshot: bucket %s_LARGE: %w", cfg.Bucket, err)
	}
	s := NewStore(&kvBlobs{kv: kv, large: large, inline: cfg.Inline})
	s.segLimit = min(s.segLimit, cfg.Inline)
	return s, nil
}

// ProbeSubjects are subjects of the buckets OpenJetStream opens (bucket ""
// is Bucket) that no snapshot uses: where a caller can check, with a
// publish the streams refuse, that this connection may write to them.
func ProbeSubjects(bucket string) []string {
	if bucket == "" {
		bucket = Bucket
	}
	const probe = "_route_probe"
	return []string{"$KV." + bucket + "." + probe, "$O." + bucket + "_LARGE.C." + probe, "$O." + bucket + "_LARGE.M." + probe}
}

// A wallet's segments are entries of the same bucket, under
// segmentKey(wallet, slot).

func (b *kvBlobs) GetSegment(ctx context.Context, wallet string, slot int) ([]byte, error) {
	e, err := b.kv.Get(ctx, segmentKey(wallet, slot))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: get segment %s: %w", segmentKey(wallet, slot), err)
	}
	return e.Value(), nil
}

func (b *kvBlobs) PutSegment(ctx context.Context, wallet string, slot int, data []byte) error {
	if _, err := b.kv.Put(ctx, segmentKey(wallet, slot), data); err != nil {
		return fmt.Errorf("snapshot: put segment %s: %w", segmentKey(wallet, slot), err)
	}
	return nil
}

func (b *kvBlobs) SegmentSlots(ctx context.Context, wallet string) ([]int, error) {
	keys, err := b.kv.ListKeysFiltered(ctx, wallet+".*")
	if err != nil {
		return nil, fmt.Errorf("snapshot: list the segments of %s: %w", wallet, err)
	}
	defer keys.Stop()
	var slots []int
	for key := range keys.Keys() {
		if slot, ok := segmentSlot(wallet, key); ok {
			slots = append(slots, slot)
		}
	}
	// The lister ends its channel without an error when ctx ends: the
	// listing would then be short.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot: list the segments of %s: %w", wallet, err)
	}
	return slots, nil
}

func (b *kvBlobs) DeleteSegment(ctx context.Context, wallet string, slot int) error {
	if err := b.kv.Delete(ctx, segmentKey(wallet, slot)); err != nil {
		return fmt.Errorf("snapshot: delete segment %s: %w", segmentKey(wallet, slot), err)
	}
	return nil
}

func (b *kvBlobs) Get(ctx context.Context, wallet string) ([]byte, error) {
	e, err := b.kv.Get(ctx, wallet)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: get %s: %w", wallet, err)
	}
	v := e.Value()
	switch {
	case len(v) > 0 && v[0] == tagInline:
		return v[1:], nil
	case len(v) > 0 && v[0] == tagObject:
		b.inLarge.Store(wallet, struct{}{})
		data, err := b.large.GetBytes(ctx, wallet)
		if err != nil {
			return nil, fmt.Errorf("snapshot: get large %s: %w", wallet, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("snapshot: entry of %s has no known tag", wallet)
}

func (b *kvBlobs) Put(ctx context.Context, wallet string, data []byte) error {
	if len(data) <= b.inline {
		entry := make([]byte, 1+len(data))
		entry[0] = tagInline
		copy(entry[1:], data)
		if _, err := b.kv.Put(ctx, wallet, entry); err != nil {
			return fmt.Errorf("snapshot: put %s: %w", wallet, err)
		}
		if _, was := b.inLarge.Load(wallet); was {
			// The entry no longer points at the object: drop it. The mark
			// goes only with the object, so a failed delete is tried again.
			if err := b.large.Delete(ctx, wallet); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
				return fmt.Errorf("snapshot: delete the large snapshot of %s: %w", wallet, err)
			}
			b.inLarge.Delete(wallet)
		}
		return nil
	}
	if _, err := b.large.Put(ctx, jetstream.ObjectMeta{Name: wallet}, newPacedReader(ctx, data, largeRate)); err != nil {
		return fmt.Errorf("snapshot: put large %s: %w", wallet, err)
	}
	if _, err := b.kv.Put(ctx, wallet, []byte{tagObject}); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", wallet, err)
	}
	b.inLarge.Store(wallet, struct{}{})
	return nil
}

// largeRate paces a large snapshot's put, in bytes a second. The object
// store publishes a snapshot's chunks as fast as it reads them, and ten
// megabytes of them arriving at once held up the journal's appends and
// the replies on the same server: with the hot wallet of issue 4's
// reserve-only bursts, the put was the largest part of the node's p99
// over a node that takes no images. Paced at 512 MiB/s, a 10 MB image
// took ~20 ms to store, off every request's path (the actor takes no
// other image of the wallet meanwhile, which only stretches its period):
// p99 9.1–9.7 → 6.9–7.4 ms, throughput the same. Since format v4 the hot
// image is ~2.7 MB (its ids are in segments), and 128 MiB/s (~21 ms a
// put) takes another 0.5–1 ms off the p99 (6.6–7.4 → 5.5–6.8 ms, six
// alternated runs), throughput and median the same (docs/benchmarks.md).
// A 300 MB image (a million open holds) then takes ~2.3 s, well within
// the snapshot timeout.
const largeRate = 128 << 20

// pacedReader hands out data no faster than rate bytes a second, counted
// from its first read.
type pacedReader struct {
	ctx   context.Context
	data  []byte
	rate  float64
	start time.Time
	sent  int
}

func newPacedReader(ctx context.Context, data []byte, rate int) *pacedReader {
	return &pacedReader{ctx: ctx, data: data, rate: float64(rate)}
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.start.IsZero() {
		r.start = time.Now()
	} else if wait := time.Duration(float64(r.sent)/r.rate*float64(time.Second)) - time.Since(r.start); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return 0, r.ctx.Err()
		}
	}
	n := copy(p, r.data)
	r.data, r.sent = r.data[n:], r.sent+n
	return n, nil
}
