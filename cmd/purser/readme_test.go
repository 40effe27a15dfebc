package main

// The README's quickstart works: its commands, read from README.md between
// the quickstart markers, run as written against a fresh `purser serve`
// (on random ports instead of `make run`'s 4222). A README edit that
// breaks the walkthrough breaks this test.

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// quickstart returns the command lines of README.md's quickstart block.
func quickstart(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- quickstart -->")
	block, _, ok2 := strings.Cut(rest, "<!-- /quickstart -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- quickstart --> … <!-- /quickstart --> block")
	}
	var cmds [][]string
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "purser ") || strings.HasPrefix(line, "nats ") {
			cmds = append(cmds, shellWords(t, line))
		}
	}
	return cmds
}

// shellWords splits a line as sh would for the README's simple quoting:
// spaces separate words, single quotes group them.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
			}
			inWord = false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in README line %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestReadmeQuickstart(t *testing.T) {
	cmds := quickstart(t)
	if len(cmds) < 5 {
		t.Fatalf("quickstart has %d commands", len(cmds))
	}
	srv := startServe(t, t.TempDir())
	var last cliResult
	for _, c := range cmds {
		switch c[0] {
		case "purser":
			last = cli(t, srv.url, c[1:]...).want(t, 0)
		case "nats":
			out := natsReq(t, srv.url, c[1:])
			if strings.Contains(out, `"error"`) {
				t.Fatalf("%v answered an error: %s", c, out)
			}
		}
	}
	// The walkthrough ends with balance and history: 10,000 − 1,200 − 1,800.
	cli(t, srv.url, "wallet", "balance", "acme").want(t, 0, "available   7,000")
	if !strings.Contains(last.stdout, "settled") {
		t.Fatalf("the last command (history) shows no settled entry:\n%s", last.stdout)
	}
}

// natsReq runs `nats req SUBJECT BODY` with the stock CLI when it is
// installed (make test), else sends the same request with nats.go.
func natsReq(t *testing.T, url string, args []string) string {
	t.Helper()
	if len(args) != 3 || args[0] != "req" {
		t.Fatalf("the quickstart uses only `nats req SUBJECT BODY`, got %v", args)
	}
	if p, _ := exec.LookPath("../../.bin/nats"); p != "" || os.Getenv("PURSER_NATS_CLI") != "" {
		cli := natsCLI(t)
		out, err := exec.Command(cli, append([]string{"--server", url}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("nats %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	nc := dial(t, url)
	msg, err := nc.Request(args[1], []byte(args[2]), 5*time.Second)
	if err != nil {
		t.Fatalf("request %v: %v", args, err)
	}
	return string(msg.Data)
}
