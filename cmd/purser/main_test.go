package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestMain lets the test binary be `purser` itself: with PURSER_RUN_MAIN=1
// it runs main with its arguments. End-to-end tests start real `purser`
// processes this way (and kill them with SIGKILL) without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("PURSER_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// purserCmd is a `purser args...` process.
func purserCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PURSER_RUN_MAIN=1")
	return cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a running `purser serve` process.
type server struct {
	cmd *exec.Cmd
	url string
}

// startServe runs `purser serve` on dir and returns once it says it is
// serving (it prints that line only after the node answers requests).
func startServe(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	// Port 0: the server binds a free port itself and serve says which
	// (a port found free beforehand can be taken by then: the other
	// packages' tests run beside these).
	args := append([]string{"serve", "--data-dir", dir, "--nats-listen", "127.0.0.1:0",
		"--http-listen", "", "--log-level", "warn"}, extra...)
	cmd := purserCmd(args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// A killed node leaves its tmpfs batch staging behind (for repair).
		_ = os.RemoveAll(stagingDir("auto", dir))
	})
	lines := bufio.NewScanner(stderr)
	var said []string // what it said before it exited, for the failure
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), " serving on "); ok {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			url, _, _ := strings.Cut(rest, " ")
			return &server{cmd: cmd, url: url}
		}
		said = append(said[max(0, len(said)-9):], lines.Text())
	}
	t.Fatalf("purser serve exited before serving (%v):\n%s", lines.Err(), strings.Join(said, "\n"))
	return nil
}

// dial connects to the NATS server at url for the rest of the test.
func dial(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
