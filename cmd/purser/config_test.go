package main

// A setting's value comes from the flag, else PURSER_<FLAG>, else the
// --config file, else the default; unknown keys in the file are usage
// errors, keys another command takes are not.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// probe runs `purser probe args...` and returns the values its flags
// ended up with.
func probe(t *testing.T, args ...string) (map[string]string, int, string) {
	t.Helper()
	root := newRoot()
	got := map[string]string{}
	p := &cobra.Command{Use: "probe", RunE: func(cmd *cobra.Command, _ []string) error {
		for _, name := range []string{"alpha", "beta", "gamma", "delta"} {
			got[name], _ = cmd.Flags().GetString(name)
		}
		list, _ := cmd.Flags().GetStringArray("tags")
		got["tags"] = strings.Join(list, ",")
		return nil
	}}
	for _, name := range []string{"alpha", "beta", "gamma", "delta"} {
		p.Flags().String(name, "default-"+name, "")
	}
	p.Flags().StringArray("tags", nil, "")
	root.AddCommand(p)
	var stderr bytes.Buffer
	root.SetArgs(append([]string{"probe"}, args...))
	root.SetErr(&stderr)
	err := root.Execute()
	code := 0
	if err != nil {
		code = 1
		if _, ok := err.(usageError); ok {
			code = exitUsage
		}
	}
	return got, code, stderr.String() + errString(err)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "purser.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSettingsPrecedenceFlagEnvFileDefault(t *testing.T) {
	cfg := writeConfig(t, "# comments are fine\nalpha: file-a\nbeta: file-b\ngamma: file-c\ntags: [x, y]\n"+
		"data_dir: /srv/purser # a serve setting: ignored by other commands\n")
	t.Setenv("PURSER_BETA", "env-b")
	t.Setenv("PURSER_ALPHA", "env-a")
	got, code, msg := probe(t, "--config", cfg, "--alpha", "flag-a")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	want := map[string]string{"alpha": "flag-a", "beta": "env-b", "gamma": "file-c", "delta": "default-delta", "tags": "x,y"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}

	// The config path itself may come from the environment.
	t.Setenv("PURSER_CONFIG", cfg)
	if got, _, _ := probe(t); got["gamma"] != "file-c" {
		t.Errorf("PURSER_CONFIG not read: gamma = %q", got["gamma"])
	}
}

func TestConfigFileMistakesAreUsageErrors(t *testing.T) {
	for name, body := range map[string]string{
		"unknown key":  "alpah: typo\n",
		"not a map":    "- alpha\n",
		"nested value": "alpha: {x: 1}\n",
		"bad yaml":     "alpha: [unclosed\n",
		"list for one": "alpha: [a, b]\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, code, msg := probe(t, "--config", writeConfig(t, body)); code != exitUsage {
				t.Fatalf("exit %d, want 2: %s", code, msg)
			}
		})
	}
	if _, code, _ := probe(t, "--config", filepath.Join(t.TempDir(), "missing.yaml")); code != exitUsage {
		t.Fatalf("missing file: exit %d, want 2", code)
	}
	if got, code, _ := probe(t, "--config", writeConfig(t, "")); code != 0 || got["alpha"] != "default-alpha" {
		t.Fatalf("empty file: exit %d, alpha %q", code, got["alpha"])
	}
}

func TestBadEnvironmentValueIsAUsageError(t *testing.T) {
	cmd := purserCmd("reserve", "acme", "10")
	cmd.Env = append(cmd.Env, "PURSER_TIMEOUT=soon")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitUsage || !strings.Contains(string(out), "PURSER_TIMEOUT") {
		t.Fatalf("exit %d: %s", cmd.ProcessState.ExitCode(), out)
	}
}
