// Package snapshot stores wallet images (actors.Image) so that activating a
// wallet reads its latest image and the journal after it, not its whole
// journal. It implements actors.SnapshotStore on JetStream (key-value
// bucket PURSER_SNAPSHOTS, one entry per wallet, and a hot wallet's id
// segments, segments.go; a snapshot too large for one message, such as a
// wallet with a million open holds, goes to the object store
// PURSER_SNAPSHOTS_LARGE, chunked; jetstream.go) and in memory, and owns
// the on-disk format:
//
//	magic   "PSNP"
//	version uint16, big endian (1 to Version)
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
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/purser-dev/purser/actors"
	"github.com/purser-dev/purser/actors/mpack"
)

// Version is the newest format Decode reads. Encode writes format 5; a
// Store writes format 6 when an image refers to id segments (segments.go)
// and 5 otherwise.
//
//	v1, v2  ids as records
//	v3      ids in columns, all of them in the image (idcols.go)
//	v4      v3, with runs of queued ids in segments stored beside it
//	v5, v6  v3 and v4 whose id answers may name a lapsed hold's principal
//	        and feature (actors.Answer.Attr), for its late settle
//
// v5 and v6 are v3 and v4 laid out the same: only a build that reads an
// answer's attribution may read them, so an older one refuses them
// (ErrVersion) and rebuilds the wallet from its journal.
const Version = 6

const (
	versionColumns   = 3
	versionSegmented = 4
	// The versions written: v3 and v4 with attributions.
	versionColumnsAttr   = 5
	versionSegmentedAttr = 6
)

// segmentedLayout says whether a body of version v has its ids in
// segments (v4, v6) rather than all in columns (v3, v5).
func segmentedLayout(v uint16) bool { return v == versionSegmented || v == versionSegmentedAttr }

var magic = [4]byte{'P', 'S', 'N', 'P'}

const headerFixed = 4 + 2 + 1 + 8 + 4 // without the wallet id

// Decode's refusals. Each wraps ErrCorrupt except ErrVersion: a snapshot of
// a newer format is not corrupt, only unreadable by this build.
var (
	ErrCorrupt   = errors.New("snapshot: corrupt")
	ErrVersion   = errors.New("snapshot: unknown format version")
	ErrChecksum  = fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	ErrTruncated = fmt.Errorf("%w: truncated", ErrCorrupt)
	// ErrSegmented: the snapshot keeps some of its ids in segments stored
	// beside it (format v4 or v6), so only a Store, which reads them, loads it.
	ErrSegmented = errors.New("snapshot: refers to id segments; load it through a Store")
	// ErrUnattributed: a snapshot of a format before v5 that remembers a
	// lapsed hold. It cannot say whom the hold was for, which the hold's
	// late settle counts against (actors.Answer.Attr), and a wallet
	// rebuilt from its journal knows: restoring from it would decide that
	// settle otherwise than a replay, so it is refused like a damaged one
	// and the wallet replays its whole journal, once.
	ErrUnattributed = errors.New("snapshot: remembers a lapsed hold without whom it was for")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode writes img in format v5, every remembered id in the image.
func Encode(img *actors.Image) ([]byte, error) {
	c, rows, err := idSource(img)
	if err != nil {
		return nil, fmt.Errorf("snapshot: wallet %s: %w", img.Wallet, err)
	}
	return encode(img, c, rows, idPlan{})
}

// encode writes img with its remembered ids c and rows as plan says:
// all in the image (v3), or some in segments (v4).
func encode(img *actors.Image, c *actors.IDColumns, rows actors.IDRows, plan idPlan) ([]byte, error) {
	if len(img.Wallet) == 0 || len(img.Wallet) > 255 {
		return nil, fmt.Errorf("snapshot: wallet id of %d bytes", len(img.Wallet))
	}
	hdr := headerFixed + len(img.Wallet)
	// About 100 bytes per hold or id: one allocation for most wallets.
	b := make([]byte, hdr, hdr+256+100*max(0, img.Size()-plan.rows()))
	b, err := appendBody(b, img, c, rows, plan)
	if err != nil {
		return nil, fmt.Errorf("snapshot: wallet %s: %w", img.Wallet, err)
	}
	version := uint16(versionColumnsAttr)
	if len(plan.refs) > 0 {
		version = versionSegmentedAttr
	}
	return seal(b, magic, version, img.Wallet), nil
}

// seal writes the header in front of the body b holds after the header's
// room (headerFixed + len(wallet) bytes).
func seal(b []byte, magic [4]byte, version uint16, wallet string) []byte {
	hdr := headerFixed + len(wallet)
	body := b[hdr:]
	copy(b, magic[:])
	binary.BigEndian.PutUint16(b[4:], version)
	b[6] = byte(len(wallet))
	copy(b[7:], wallet)
	o := 7 + len(wallet)
	binary.BigEndian.PutUint64(b[o:], uint64(len(body)))
	binary.BigEndian.PutUint32(b[o+8:], crc32.Checksum(body, castagnoli))
	return b
}

// sealed is what a header says of the blob it heads.
type sealed struct {
	version uint16
	wallet  string
	body    []byte
	sum     uint32 // the body's CRC-32C, checked
}

// unseal checks a header (magic, a version from 1 to newest, lengths, the
// body's checksum) and returns what it says.
func unseal(data []byte, magic [4]byte, newest uint16) (sealed, error) {
	if len(data) < 7 {
		return sealed{}, ErrTruncated
	}
	if [4]byte(data[:4]) != magic {
		return sealed{}, fmt.Errorf("%w: not a %q blob (magic %q)", ErrCorrupt, magic[:], data[:4])
	}
	v := binary.BigEndian.Uint16(data[4:])
	switch {
	case v == 0:
		return sealed{}, fmt.Errorf("%w: version 0", ErrCorrupt)
	case v > newest:
		return sealed{}, fmt.Errorf("%w %d (this build reads up to %d)", ErrVersion, v, newest)
	}
	wl := int(data[6])
	if len(data) < headerFixed+wl {
		return sealed{}, ErrTruncated
	}
	s := sealed{version: v, wallet: string(data[7 : 7+wl])}
	o := 7 + wl
	n := binary.BigEndian.Uint64(data[o:])
	s.sum = binary.BigEndian.Uint32(data[o+8:])
	s.body = data[o+12:]
	switch {
	case n > uint64(len(s.body)):
		return sealed{}, fmt.Errorf("%w: body of %d bytes, header says %d", ErrTruncated, len(s.body), n)
	case n < uint64(len(s.body)):
		return sealed{}, fmt.Errorf("%w: %d bytes after the body", ErrCorrupt, uint64(len(s.body))-n)
	case crc32.Checksum(s.body, castagnoli) != s.sum:
		return sealed{}, ErrChecksum
	}
	return s, nil
}

// Decode reads a snapshot of any known version that holds all its ids (a
// v4 one that refers to segments gives ErrSegmented). It never panics and
// allocates at most a small multiple of len(data), whatever data holds.
// The image shares data's memory (a v3 snapshot's id columns): data must
// not be written afterwards.
func Decode(data []byte) (*actors.Image, error) {
	img, sg, err := decode(data)
	if err == nil && sg != nil {
		return nil, ErrSegmented
	}
	return img, err
}

// decode is Decode, leaving a v4 or v6 image's ids for the caller to join
// (IDCols nil, sg the parts).
func decode(data []byte) (*actors.Image, *segmentedIDs, error) {
	img, sg, version, err := decodeFormat(data)
	if err == nil && version < versionColumnsAttr && remembersLapsed(img, sg) {
		return nil, nil, fmt.Errorf("%w (format v%d, wallet %s)", ErrUnattributed, version, img.Wallet)
	}
	return img, sg, err
}

// decodeFormat reads a snapshot of any format, as its format says.
func decodeFormat(data []byte) (*actors.Image, *segmentedIDs, uint16, error) {
	h, err := unseal(data, magic, Version)
	if err != nil {
		return nil, nil, 0, err
	}
	wallet := h.wallet
	img := &actors.Image{Wallet: wallet}
	r := &reader{Reader: mpack.Reader{B: h.body, Short: errShort}, version: h.version}
	sg := readBody(r, img)
	if r.Err == nil && r.Left() != 0 {
		r.Failf("%d bytes after the image", r.Left())
	}
	if r.Err != nil {
		return nil, nil, 0, fmt.Errorf("%w: wallet %s: %v", ErrCorrupt, wallet, r.Err)
	}
	return img, sg, h.version, nil
}

// remembersLapsed says whether an image remembers a lapsed hold: an id
// whose first settle would be a late one.
func remembersLapsed(img *actors.Image, sg *segmentedIDs) bool {
	lapsed := func(c *actors.IDColumns) bool {
		return c != nil && bytes.IndexByte(c.Hold, actors.IDHoldLapsed) >= 0
	}
	for i := range img.IDs {
		if img.IDs[i].Hold == actors.IDHoldLapsed {
			return true
		}
	}
	if lapsed(img.IDCols) {
		return true
	}
	if sg != nil {
		if lapsed(sg.head) || lapsed(sg.tail) {
			return true
		}
		for _, ref := range sg.refs {
			if bytes.IndexByte(ref.hold, actors.IDHoldLapsed) >= 0 {
				return true
			}
		}
	}
	return false
}
