package main

// `purser wallet history` pages through a wallet's journal: one page by
// default (with the --after to pass for the next), every page with --all.

import (
	"errors"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/purser-dev/purser/transport/client"
)

func newHistory() *cobra.Command {
	var (
		after uint64
		limit int
		all   bool
	)
	return clientCommand("history WALLET", "List a wallet's history: every credit granted, held, spent, expired or forgiven", 1,
		func(cmd *cobra.Command) {
			cmd.Flags().Uint64Var(&after, "after", 0, "start after this sequence number")
			cmd.Flags().IntVar(&limit, "limit", 100, "entries per page (the node caps a page at 1,000)")
			cmd.Flags().BoolVar(&all, "all", false, "follow next_seq through every page")
		},
		func(args []string) (func(*session) error, error) {
			if limit < 1 {
				return nil, usageError{errors.New("--limit must be at least 1")}
			}
			return func(s *session) error {
				var entries []client.HistoryEntry
				next := after
				for {
					r, err := s.c.History(s.ctx, args[0], client.HistoryRequest{AfterSeq: next, Limit: limit})
					if err != nil {
						return s.fail(true, err)
					}
					entries = append(entries, r.Entries...)
					next = r.NextSeq
					if !all || next == 0 {
						break
					}
				}
				return showWith(s, client.HistoryReply{Entries: entries, NextSeq: next}, func() {
					printHistory(s.out, entries)
					if next != 0 {
						s.out.line("more: purser wallet history %s --after %d (or --all)", args[0], next)
					}
				})
			}, nil
		})
}

func printHistory(out *printer, entries []client.HistoryEntry) {
	rows := make([][]string, len(entries))
	for i, e := range entries {
		rows[i] = []string{strconv.FormatUint(e.Seq, 10), stamp(e.At), e.Type, amount(e.Amount),
			orDash(e.RequestID), orDash(e.HoldID), orDash(e.Grant), orDash(allocations(e.Allocations))}
	}
	out.table([]string{"SEQ", "AT", "TYPE", "AMOUNT", "REQUEST", "HOLD", "GRANT", "ALLOCATIONS"}, rows)
}
