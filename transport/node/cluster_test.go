package node

// Nodes against a three-server JetStream cluster, as `purser serve
// --nats-url ... --replicas 3` runs: the journal, the snapshot buckets and
// the API on R3 streams, requests from a client on another server of the
// cluster, a node replaced by another on a third server, and two nodes
// writing one wallet.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/purser-dev/purser/transport/natstest"
)

func startClusterNode(t *testing.T, url string, beside bool) *Node {
	t.Helper()
	n, err := Start(context.Background(), Config{NATSURL: url, Replicas: 3, BesideAnother: beside})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

// awaitResponders waits until a request on subject finds a responder. A
// node is ready once its own server has its subscriptions; a client on
// another server of the cluster sees them when the routes have carried
// them, and finds no responders until then (transport/client retries it,
// as a service's client should).
func awaitResponders(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := nc.Request(subject, []byte("{}"), 5*time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no responders after 10 s", subject)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClusterNodeRestartsAndFences(t *testing.T) {
	servers := natstest.Cluster(t, 3)
	a := startClusterNode(t, servers[0].ClientURL(), false)
	nc, err := nats.Connect(servers[1].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	awaitResponders(t, nc, "purser.admin.v1.grant.acme")
	first, before := walletBeforeRestart(client{t: t, nc: nc})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Another node, on another server, takes over from the journal and
	// the snapshots it finds on the cluster.
	b := startClusterNode(t, servers[2].ClientURL(), false)
	awaitResponders(t, nc, "purser.v1.balance.acme")
	walletAfterRestart(client{t: t, nc: nc}, first, before)

	// A second live node writing the same wallet fences the first out of
	// it, and nothing is applied twice.
	d := startClusterNode(t, servers[0].ClientURL(), true)
	secondWriterIsFenced(t, b, d)
}
