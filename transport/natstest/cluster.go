// Package natstest runs real NATS servers for tests: a routed JetStream
// cluster on loopback ports and temp dirs, the way Purser runs against one
// with --nats-url and --replicas, in this process or as child processes a
// test can kill. (A single embedded server is transport/embedded's.)
package natstest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster starts n routed JetStream servers in this process (each
// fsyncing every write) on loopback ports and temp dirs, stopped when the
// test ends, and returns once they can place a stream of n replicas.
func Cluster(tb testing.TB, n int) []*server.Server {
	tb.Helper()
	ports := freePorts(tb, 2*n) // n client ports, then n cluster ports
	routes := make([]*url.URL, n)
	for i := range routes {
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])}
	}
	var servers []*server.Server
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("s%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   tb.TempDir(),
			SyncAlways: true,
			Cluster:    server.ClusterOpts{Name: "purser-test", Host: "127.0.0.1", Port: ports[n+i]},
			Routes:     routes,
			NoLog:      true,
			NoSigs:     true,
		}
		s, err := server.NewServer(opts)
		if err != nil {
			tb.Fatal(err)
		}
		go s.Start()
		tb.Cleanup(s.Shutdown)
		servers = append(servers, s)
	}
	for i, s := range servers {
		if !s.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("server %d not ready", i+1)
		}
	}
	awaitPlacement(tb, servers[0].ClientURL(), n)
	return servers
}

// freePorts chooses k free loopback ports. A clustered JetStream server
// needs its routes configured before it starts, so every port is chosen
// first, all held until all are chosen (so no server's client port can
// take another's cluster port) and closed just before the servers take
// them.
func freePorts(tb testing.TB, k int) []int {
	tb.Helper()
	ports := make([]int, k)
	held := make([]net.Listener, 0, k)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		held = append(held, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range held {
		_ = l.Close()
	}
	return ports
}

// awaitPlacement returns once the cluster behind url can place a stream of
// n replicas on its servers: the meta group elects a leader, and the
// leader learns the others are online, on their own schedules, with
// nothing to wait on but trying.
func awaitPlacement(tb testing.TB, url string, n int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var nc *nats.Conn
	for {
		var err error
		if nc, err = nats.Connect(url); err == nil {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("connect to %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	probe := jetstream.StreamConfig{Name: "PROBE", Subjects: []string{"probe"}, Storage: jetstream.MemoryStorage, Replicas: n}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.CreateStream(ctx, probe)
		if err == nil {
			err = js.DeleteStream(ctx, probe.Name)
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the cluster cannot place an R%d stream: %v", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
