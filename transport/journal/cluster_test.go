package journal

import (
	"testing"

	"github.com/purser-dev/purser/transport/natstest"
)

// The journal against a three-server JetStream cluster (R3 stream), as
// `purser serve --nats-url ... --replicas 3` runs it: real nats-servers on
// loopback ports and temp dirs, routed to each other, each fsyncing every
// write. Atomic batches, fences and reads go through the clustered
// (Raft-replicated) paths of the server, which an R1 stream never takes.

var clusterSetup = setup{name: "cluster", cluster: true}

var startCluster = natstest.Cluster

func TestClusterRoundTrip(t *testing.T) { testRoundTrip(t, clusterSetup) }

func TestClusterFenceStaleWriter(t *testing.T) { testFenceStaleWriter(t, clusterSetup) }

func TestClusterFenceInSharedBatch(t *testing.T) { testFenceInSharedBatch(t, clusterSetup) }

func TestClusterConcurrentWalletsCoalesced(t *testing.T) {
	testConcurrentWalletsCoalesced(t, clusterSetup)
}
