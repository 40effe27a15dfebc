package wire

import (
	"testing"

	"github.com/purser-dev/purser/actors"
	"github.com/vmihailenco/msgpack/v5"
)

// The hot path of a runtime request: parse the subject, decode a reserve,
// encode its reply.

func BenchmarkParseSubject(b *testing.B) {
	var s Subjects
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Parse("purser.v1.reserve.acme-corp"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, enc Encoding, body []byte) {
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := d.Decode(OpReserve, body, enc); err != nil {
			b.Fatal(err)
		}
	}
}

var reserveFields = obj{"id": "req-7f3a9c2e", "amount": 1500, "ttl_ms": 30000, "principal": "team:research/user:alice"}

func BenchmarkDecodeReserveJSON(b *testing.B) {
	benchDecode(b, JSON, []byte(`{"id":"req-7f3a9c2e","amount":1500,"ttl_ms":30000,"principal":"team:research/user:alice"}`))
}

func BenchmarkDecodeReserveMsgpack(b *testing.B) {
	body, err := msgpack.Marshal(reserveFields)
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, Msgpack, body)
}

func benchEncode(b *testing.B, enc Encoding) {
	var r actors.Reply = actors.ReserveReply{Allowed: true, HoldID: "req-7f3a9c2e", ExpiresAt: tNano, Figures: fig}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendReply(buf[:0], enc, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeReserveReplyJSON(b *testing.B)    { benchEncode(b, JSON) }
func BenchmarkEncodeReserveReplyMsgpack(b *testing.B) { benchEncode(b, Msgpack) }
