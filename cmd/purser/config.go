package main

// Settings come from four places, in this order of precedence: a flag on
// the command line, PURSER_<FLAG> in the environment, a key of the
// --config file, the flag's default. One mechanism serves every command, so
// a setting has the same name everywhere: `--data-dir`, `PURSER_DATA_DIR`,
// `data-dir:`.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// loadSettings applies the environment, then the config file, to the flags
// of cmd that the command line left unset.
func loadSettings(cmd *cobra.Command) error {
	if err := bindEnv(cmd); err != nil {
		return err
	}
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		return nil
	}
	settings, err := readConfig(path)
	if err != nil {
		return usageError{err}
	}
	known := allFlagNames(cmd.Root())
	for _, s := range settings {
		f := cmd.Flags().Lookup(s.key)
		if f == nil {
			// One file can serve `serve` and the client commands: a key
			// another command takes is not a typo.
			if !known[s.key] {
				return usageError{fmt.Errorf("%s: unknown setting %q (keys are flag names; see --help)", path, s.key)}
			}
			continue
		}
		if f.Changed || s.key == "config" {
			continue
		}
		if t := f.Value.Type(); len(s.values) != 1 && !strings.HasSuffix(t, "Slice") && !strings.HasSuffix(t, "Array") {
			return usageError{fmt.Errorf("%s: %s takes one value, not a list of %d", path, s.key, len(s.values))}
		}
		for _, v := range s.values {
			if err := cmd.Flags().Set(s.key, v); err != nil {
				return usageError{fmt.Errorf("%s: %s: %w", path, s.key, err)}
			}
		}
	}
	return nil
}

type setting struct {
	key    string
	values []string // one per element for list-valued flags such as --meta
}

// readConfig reads a YAML (or JSON, which is YAML) map of flag names to
// scalars or lists of scalars. Keys may use dashes or underscores.
func readConfig(path string) ([]setting, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file sets nothing
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a map of setting: value", path)
	}
	var out []setting
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		s := setting{key: strings.ReplaceAll(strings.ToLower(k.Value), "_", "-")}
		switch v.Kind {
		case yaml.ScalarNode:
			s.values = []string{v.Value}
		case yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("%s:%d: %s: list items must be plain values", path, e.Line, k.Value)
				}
				s.values = append(s.values, e.Value)
			}
		default:
			return nil, fmt.Errorf("%s:%d: %s: want a value or a list of values", path, v.Line, k.Value)
		}
		out = append(out, s)
	}
	return out, nil
}

// allFlagNames is every flag name of every command under root.
func allFlagNames(root *cobra.Command) map[string]bool {
	names := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { names[f.Name] = true }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return names
}
