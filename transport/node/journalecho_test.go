package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/transport/wire"
)

// The journal echo journals every request once, on its key's subject,
// before it answers, whatever arrives at once for one key; and a node
// closed leaves no stream of it behind.
func TestJournalEchoJournalsEachRequestOnce(t *testing.T) {
	dir := t.TempDir()
	n, err := Start(context.Background(), Config{DataDir: dir, NATSListen: "127.0.0.1:0", JournalEcho: true})
	if err != nil {
		t.Fatal(err)
	}
	nc := connect(t, n)
	var subjects wire.Subjects
	const keys, each = 3, 25
	var wg sync.WaitGroup
	errs := make(chan error, keys*each)
	for k := range keys {
		for i := range each {
			wg.Go(func() {
				body := fmt.Appendf(nil, "request %d of key %d", i, k)
				m, err := nc.Request(subjects.JournalEcho(fmt.Sprintf("k%d", k)), body, 5*time.Second)
				switch {
				case err != nil:
					errs <- err
				case !bytes.Equal(m.Data, body):
					errs <- fmt.Errorf("reply %q to %q", m.Data, body)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	m, err := nc.Request(subjects.JournalEcho(strings.Repeat("x", wire.MaxWalletLength+1)), []byte("x"), 5*time.Second)
	if err != nil || !strings.HasPrefix(string(m.Data), wire.JournalEchoError) {
		t.Errorf("a key too long: %v %q, want an error reply", err, m.Data)
	}

	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := js.Stream(ctx, journalEchoStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(journalEchoPrefix+".>"))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.State.Subjects) != keys {
		t.Fatalf("subjects %v, want %d keys", info.State.Subjects, keys)
	}
	for subject, count := range info.State.Subjects {
		if count != each {
			t.Errorf("%s holds %d messages, want %d", subject, count, each)
		}
	}

	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, dir)
	js, err = jetstream.New(connect(t, n))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Stream(ctx, journalEchoStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("after the node closed: %v, want the stream gone", err)
	}
}
