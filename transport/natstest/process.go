package natstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Process is a nats-server running as a child process, so that a test can
// kill it as a crash does (SIGKILL), which a server in the test's own
// process cannot be.
type Process struct {
	Name string // its server name: s1, s2, …
	URL  string // its client URL
	cmd  *exec.Cmd
}

// Kill ends the server with SIGKILL: nothing of it runs after, no
// leadership is handed over, no file is closed.
func (p *Process) Kill() error {
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	_ = p.cmd.Wait()
	return nil
}

// ProcessCluster starts n routed JetStream servers as child processes
// (each fsyncing every write: sync_interval always) on loopback ports and
// temp dirs, killed when the test ends, and returns once they can place a
// stream of n replicas. The nats-server binary is built from the module's
// own nats-server dependency.
func ProcessCluster(tb testing.TB, n int) []*Process {
	tb.Helper()
	bin := serverBinary(tb)
	ports := freePorts(tb, 2*n)
	routes := make([]string, n)
	for i := range routes {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[n+i])
	}
	var ps []*Process
	for i := range n {
		dir := tb.TempDir()
		conf := fmt.Sprintf(`server_name: s%d
listen: "127.0.0.1:%d"
jetstream { store_dir: %q, sync_interval: always }
cluster { name: purser-test, listen: "127.0.0.1:%d", routes: [%s] }
`, i+1, ports[i], filepath.Join(dir, "js"), ports[n+i], strings.Join(routes, ", "))
		path := filepath.Join(dir, "server.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			tb.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", path)
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		p := &Process{Name: fmt.Sprintf("s%d", i+1), URL: fmt.Sprintf("nats://127.0.0.1:%d", ports[i]), cmd: cmd}
		tb.Cleanup(func() {
			if p.cmd.ProcessState == nil {
				_ = p.Kill()
			}
		})
		ps = append(ps, p)
	}
	awaitPlacement(tb, ps[0].URL, n)
	return ps
}

// serverBinary builds nats-server from the module's dependency (the
// version go.mod pins) into the test's temp dir: the build cache makes it a
// link of a second or so.
func serverBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "nats-server")
	// The go command on PATH: the one running these tests.
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		tb.Fatalf("build nats-server: %v\n%s", err, out)
	}
	return bin
}
