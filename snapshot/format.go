// Package snapshot stores wallet images (actors.Image) so that activating a
// wallet reads its latest image and the journal after it, not its whole
// journal. It implements actors.SnapshotStore on JetStream (key-value
// bucket PURSER_SNAPSHOTS, one entry per wallet; a snapshot too large for
// one message, such as a wallet with a million open holds, goes to the
// object store PURSER_SNAPSHOTS_LARGE, chunked; jetstream.go) and in
// memory, and owns the on-disk format:
//
//	magic   "PSNP"
//	version uint16, big endian (Version; Decode reads 1 to 3)
//	wallet  uint8 length, then the wallet id
//	length  uint64, big endian: bytes in the body
//	crc     uint32, big endian: CRC-32C (Castagnoli) of the body
//	body    msgpack, layout in body.go
//
// A snapshot that fails any check is refused with an error; the runtime
// then rebuilds the wallet from its whole journal, so a bad snapshot costs
// time, never correctness.
package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// Version is the format Encode writes. Decode reads every version up to it.
const Version = 3

var magic = [4]byte{'P', 'S', 'N', 'P'}

const headerFixed = 4 + 2 + 1 + 8 + 4 // without the wallet id

// Decode's refusals. Each wraps ErrCorrupt except ErrVersion: a snapshot of
// a newer format is not corrupt, only unreadable by this build.
var (
	ErrCorrupt   = errors.New("snapshot: corrupt")
	ErrVersion   = errors.New("snapshot: unknown format version")
	ErrChecksum  = fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	ErrTruncated = fmt.Errorf("%w: truncated", ErrCorrupt)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode writes img in the current format.
func Encode(img *actors.Image) ([]byte, error) {
	b, _, err := encode(img, nil)
	return b, err
}

// encode is Encode copying the rows cache holds (idcache.go); it also
// says where the id columns went.
func encode(img *actors.Image, cache *idCache) ([]byte, idLayout, error) {
	if len(img.Wallet) == 0 || len(img.Wallet) > 255 {
		return nil, idLayout{}, fmt.Errorf("snapshot: wallet id of %d bytes", len(img.Wallet))
	}
	hdr := headerFixed + len(img.Wallet)
	// About 100 bytes per hold or id: one allocation for most wallets.
	b := make([]byte, hdr, hdr+256+100*img.Size())
	b, l, err := appendBody(b, img, cache)
	if err != nil {
		return nil, l, fmt.Errorf("snapshot: wallet %s: %w", img.Wallet, err)
	}
	body := b[hdr:]
	copy(b, magic[:])
	binary.BigEndian.PutUint16(b[4:], Version)
	b[6] = byte(len(img.Wallet))
	copy(b[7:], img.Wallet)
	o := 7 + len(img.Wallet)
	binary.BigEndian.PutUint64(b[o:], uint64(len(body)))
	binary.BigEndian.PutUint32(b[o+8:], crc32.Checksum(body, castagnoli))
	return b, l, nil
}

// Decode reads a snapshot of any known version. It never panics and
// allocates at most a small multiple of len(data), whatever data holds.
// The image shares data's memory (a v3 snapshot's id columns): data must
// not be written afterwards.
func Decode(data []byte) (*actors.Image, error) {
	if len(data) < 7 {
		return nil, ErrTruncated
	}
	if [4]byte(data[:4]) != magic {
		return nil, fmt.Errorf("%w: not a snapshot (magic %q)", ErrCorrupt, data[:4])
	}
	v := binary.BigEndian.Uint16(data[4:])
	switch {
	case v == 0:
		return nil, fmt.Errorf("%w: version 0", ErrCorrupt)
	case v > Version:
		return nil, fmt.Errorf("%w %d (this build reads up to %d)", ErrVersion, v, Version)
	}
	wl := int(data[6])
	if len(data) < headerFixed+wl {
		return nil, ErrTruncated
	}
	wallet := string(data[7 : 7+wl])
	o := 7 + wl
	n := binary.BigEndian.Uint64(data[o:])
	sum := binary.BigEndian.Uint32(data[o+8:])
	body := data[o+12:]
	switch {
	case n > uint64(len(body)):
		return nil, fmt.Errorf("%w: body of %d bytes, header says %d", ErrTruncated, len(body), n)
	case n < uint64(len(body)):
		return nil, fmt.Errorf("%w: %d bytes after the body", ErrCorrupt, uint64(len(body))-n)
	case crc32.Checksum(body, castagnoli) != sum:
		return nil, ErrChecksum
	}
	img := &actors.Image{Wallet: wallet}
	r := &reader{Reader: mpack.Reader{B: body, Short: errShort}, version: v}
	readBody(r, img)
	if r.Err == nil && r.Left() != 0 {
		r.Failf("%d bytes after the image", r.Left())
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: wallet %s: %v", ErrCorrupt, wallet, r.Err)
	}
	return img, nil
}
