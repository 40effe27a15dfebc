package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// BenchmarkServerPaths compares the server's ways of storing k fenced
// messages on k subjects, sequentially from one client, fsync always:
// one atomic batch (staged on disk, the server's default, or on a tmpfs:
// "atomicshm"), one fast batch (non-atomic, ADR-50 "fast ingest", gap
// mode "ok" so a failed check drops only its message), and k pipelined
// async publishes. Only the atomic commit shares one fsync among its
// messages (stream.go processJetStreamAtomicBatchMsg, coalesceSync); a
// fast batch and async publishes are stored and fsynced one message at a
// time. docs/journal.md records the figures.
//
//	go test -run '^$' -bench BenchmarkServerPaths -benchtime 200x ./transport/journal/
func BenchmarkServerPaths(b *testing.B) {
	for _, k := range []int{1, 16, 64} {
		for _, mode := range []string{"atomic", "atomicshm", "fast", "async"} {
			if k == 1 && (mode == "atomic" || mode == "atomicshm") {
				continue
			}
			b.Run(fmt.Sprintf("%s/msgs%d", mode, k), func(b *testing.B) {
				e := startEnvStaged(b, b.TempDir(), mode == "atomicshm")
				_, js := e.open(b, Config{})
				ctx := context.Background()
				st, _ := js.Stream(ctx, DefaultStream)
				cfg := st.CachedInfo().Config
				cfg.AllowBatchPublish = true
				if _, err := js.UpdateStream(ctx, cfg); err != nil {
					b.Fatal(err)
				}
				nc := js.Conn()
				inbox := nc.NewInbox()
				replies := make(chan *nats.Msg, 4096)
				sub, _ := nc.ChanSubscribe(inbox+".>", replies)
				defer sub.Unsubscribe()
				data := make([]byte, 200)
				last := make([]uint64, k)
				b.ResetTimer()
				for n := range b.N {
					msgs := make([]*nats.Msg, k)
					for i := range msgs {
						msgs[i] = &nats.Msg{Subject: fmt.Sprintf("%s.1.w%d", DefaultPrefix, i), Data: data, Header: nats.Header{}}
						msgs[i].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(last[i], 10))
					}
					switch mode {
					case "atomic", "atomicshm":
						ack, err := jetstreamext.PublishMsgBatch(ctx, js, msgs, jetstreamext.BatchFlowControl{})
						if err != nil {
							b.Fatal(err)
						}
						for i := range last {
							last[i] = ack.Sequence - uint64(k) + 1 + uint64(i)
						}
					case "fast":
						id := fmt.Sprintf("%s.b%d", inbox, n)
						for i, m := range msgs {
							op := 1
							switch {
							case i == k-1:
								op = 2
							case i == 0:
								op = 0
							}
							m.Reply = fmt.Sprintf("%s.500.ok.%d.%d.$FI", id, i+1, op)
							if err := nc.PublishMsg(m); err != nil {
								b.Fatal(err)
							}
						}
						for {
							r := <-replies
							var a struct {
								Type  string `json:"type"`
								Seq   uint64 `json:"seq"`
								Count uint64 `json:"count"`
								Error any    `json:"error"`
							}
							if err := json.Unmarshal(r.Data, &a); err != nil {
								b.Fatal(err)
							}
							if a.Error != nil {
								b.Fatalf("%s", r.Data)
							}
							if a.Type == "" && a.Count > 0 {
								for i := range last {
									last[i] = a.Seq - uint64(k) + 1 + uint64(i)
								}
								break
							}
						}
					case "async":
						for i, m := range msgs {
							m.Reply = fmt.Sprintf("%s.a%d.%d", inbox, n, i)
							if err := nc.PublishMsg(m); err != nil {
								b.Fatal(err)
							}
						}
						for range k {
							r := <-replies
							var a pubAck
							if err := json.Unmarshal(r.Data, &a); err != nil {
								b.Fatal(err)
							}
							if a.Error != nil {
								b.Fatalf("%s", r.Data)
							}
							var i int
							fmt.Sscanf(r.Subject[len(inbox)+1:], fmt.Sprintf("a%d.%%d", n), &i)
							last[i] = a.Seq
						}
					}
				}
				b.ReportMetric(float64(k*b.N)/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/batch")
			})
		}
	}
}
