// Command purser is Purser's one binary: `purser serve` runs a node; the
// other subcommands talk to one. This package only wires: flags and
// environment in, a node or a client out.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes scripts can rely on.
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitDenied = 3
)

// usageError marks a mistake in the command line (exit 2).
type usageError struct{ error }

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "purser:", err)
		var u usageError
		if errors.As(err, &u) || strings.Contains(err.Error(), "unknown flag") ||
			strings.Contains(err.Error(), "unknown command") {
			os.Exit(exitUsage)
		}
		os.Exit(exitError)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "purser",
		Short:         "Purser — a usage runtime that decides, in microseconds, whether credits may be spent",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServe(), newVersion())
	root.AddCommand(newLoadtest())
	return root
}

// bindEnv lets every flag of cmd be set as PURSER_<FLAG> (dashes become
// underscores); a flag on the command line wins.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := "PURSER_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %w", name, v, e)}
			}
		}
	})
	return err
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "purser", version)
		},
	}
}
