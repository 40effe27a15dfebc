package snapshot

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the default object store bucket (its stream is OBJ_<bucket>).
const Bucket = "PURSER_SNAPSHOTS"

// Config configures the JetStream store.
type Config struct {
	Bucket   string // default Bucket
	Replicas int    // when created; default 1
}

// objectBlobs keeps each wallet's snapshot as one object in a JetStream
// object store. An object is split into chunks (128 KiB), so a snapshot may
// be far larger than a NATS message; a put replaces the object whole (its
// metadata names the new chunks, then the old chunks are purged), so a
// reader sees the old snapshot or the new one, and the object store checks
// a SHA-256 digest on read besides our CRC.
type objectBlobs struct {
	os jetstream.ObjectStore
}

// OpenJetStream opens (creating if needed) the snapshot bucket on js.
// Snapshots are derived data: losing the bucket costs a full replay per
// wallet, never a change, so the bucket needs no stronger settings than
// the server's defaults (file storage; fsync as the server is set).
func OpenJetStream(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = Bucket
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	os, err := js.ObjectStore(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		os, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: cfg.Bucket,
			Description: "Purser wallet snapshots: the latest image of each wallet",
			Storage:     jetstream.FileStorage, Replicas: cfg.Replicas})
		if errors.Is(err, jetstream.ErrBucketExists) { // another node made it first
			os, err = js.ObjectStore(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: bucket %s: %w", cfg.Bucket, err)
	}
	return NewStore(&objectBlobs{os: os}), nil
}

func (b *objectBlobs) Get(ctx context.Context, wallet string) ([]byte, error) {
	data, err := b.os.GetBytes(ctx, wallet)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: get %s: %w", wallet, err)
	}
	return data, nil
}

func (b *objectBlobs) Put(ctx context.Context, wallet string, data []byte) error {
	if _, err := b.os.PutBytes(ctx, wallet, data); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", wallet, err)
	}
	return nil
}
