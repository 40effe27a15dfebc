// Command purser is Purser's one binary: `purser serve` runs a node; the
// other subcommands talk to one. This package only wires: flags and
// environment in, a node or a client out.
package main

import (
	"errors"
	"fmt"
	"io"
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

// deniedError is a request answered allowed:false (exit 3). The reply was
// already printed, so main prints nothing more.
type deniedError struct{ reason string }

func (d deniedError) Error() string { return "denied: " + d.reason }

// reportedError is a failure already printed (as JSON on stdout); main
// only sets the exit code.
type reportedError struct{ error }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes one command line and returns its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	var (
		u usageError
		d deniedError
		r reportedError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &d):
		return exitDenied
	case errors.As(err, &r):
		return exitError
	}
	fmt.Fprintln(stderr, "purser:", err)
	msg := err.Error()
	if errors.As(err, &u) || strings.Contains(msg, "unknown flag") || strings.Contains(msg, "unknown command") ||
		strings.Contains(msg, "unknown shorthand flag") || strings.Contains(msg, "required flag") {
		return exitUsage
	}
	return exitError
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "purser",
		Short: "Purser — a usage runtime that decides, in microseconds, whether credits may be spent",
		Long: "Purser — a usage runtime that decides, in microseconds, whether credits may be spent.\n\n" +
			"Every flag can also be set as PURSER_<FLAG> in the environment (dashes become underscores)\n" +
			"or as a key of the --config file; a flag beats the environment, which beats the file.\n" +
			"Exit codes: 0 ok/allowed, 1 error, 2 usage, 3 denied.",
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return loadSettings(cmd) },
	}
	root.PersistentFlags().String("config", "", "YAML config file: keys are flag names (e.g. data-dir: /var/lib/purser)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServe(), newVersion(), newWallet())
	root.AddCommand(newRuntimeCommands()...)
	root.AddCommand(newLoadtest())
	return root
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "PURSER_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// bindEnv lets every flag of cmd be set as PURSER_<FLAG> (dashes become
// underscores); a flag on the command line wins. A flag set this way counts
// as Changed, so the config file (applied after) does not override it.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if e := cmd.Flags().Set(f.Name, v); e != nil {
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
