package main

// `purser wallet …`: the admin ops (grant, revoke, configure, history on
// purser.admin.v1) and balance — what an operator runs when a customer
// buys credits or asks where theirs went.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/purser-dev/purser/transport/client"
)

func newWallet() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Grant, revoke and configure a wallet; read its balance and history",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for \"purser wallet\"", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("wallet needs a subcommand: " + subcommands(cmd))}
		},
	}
	cmd.AddCommand(newGrant(), newRevoke(), newConfigure(), newBalance(), newHistory())
	return cmd
}

func subcommands(cmd *cobra.Command) string {
	s := ""
	for i, c := range cmd.Commands() {
		if i > 0 {
			s += ", "
		}
		s += c.Name()
	}
	return s
}

func newGrant() *cobra.Command {
	var (
		id, kind, effective, expires string
		priority                     int64
		meta                         []string
		cmd                          *cobra.Command
	)
	cmd = clientCommand("grant WALLET AMOUNT", "Add AMOUNT credits to a wallet (creates it)", 2,
		func(cmd *cobra.Command) {
			idFlag(cmd, &id)
			cmd.Flags().StringVar(&kind, "kind", "paid", "promotional, paid, or any lowercase word (included, rollover …)")
			cmd.Flags().Int64Var(&priority, "priority", 0, "burn-down priority, lower first (default by kind: promotional 10, paid 90, others 50)")
			cmd.Flags().StringVar(&effective, "effective-at", "", "when the grant becomes active: RFC 3339 or a duration from now (default now)")
			cmd.Flags().StringVar(&expires, "expires-at", "", "when it expires: RFC 3339 or a duration from now, e.g. 720h (default never)")
			cmd.Flags().StringArrayVar(&meta, "meta", nil, "key=value kept with the grant (repeatable)")
		},
		func(args []string) (func(*session) error, error) {
			amt, err := parseAmount("AMOUNT", args[1], false)
			if err != nil {
				return nil, err
			}
			req := client.GrantRequest{ID: requestID(id), Amount: amt, Kind: kind}
			if cmd.Flags().Changed("priority") {
				req.Priority = &priority
			}
			if req.EffectiveAt, err = parseTime("effective-at", effective); err != nil {
				return nil, err
			}
			if req.ExpiresAt, err = parseTime("expires-at", expires); err != nil {
				return nil, err
			}
			if req.Meta, err = parseMeta(meta); err != nil {
				return nil, err
			}
			return func(s *session) error {
				r, err := s.c.Grant(s.ctx, args[0], req)
				if err != nil {
					return s.fail(true, err)
				}
				g := r.Grant
				return show(s, req.ID, r, append([]string{"grant", g.ID, "kind", g.Kind,
					"priority", strconv.FormatInt(g.Priority, 10), "amount", amount(g.Amount),
					"effective at", stamp(g.EffectiveAt), "expires at", stamp(g.ExpiresAt), "active", yesNo(g.Active),
					"debt repaid", nonZero(r.DebtRepaid)}, figures(r.Figures)...)...)
			}, nil
		})
	return cmd
}

func nonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return amount(n)
}

func newRevoke() *cobra.Command {
	var id string
	return clientCommand("revoke WALLET GRANT_ID", "Revoke a grant: its free credits are forfeited at once", 2,
		func(cmd *cobra.Command) { idFlag(cmd, &id) },
		func(args []string) (func(*session) error, error) {
			req := client.RevokeRequest{ID: requestID(id), GrantID: args[1]}
			return func(s *session) error {
				r, err := s.c.Revoke(s.ctx, args[0], req)
				if err != nil {
					return s.fail(true, err)
				}
				return show(s, req.ID, r, append([]string{"forfeited", amount(r.Forfeited)}, figures(r.Figures)...)...)
			}, nil
		})
}

func newConfigure() *cobra.Command {
	var (
		id, mode, limit    string
		policies, features string
		percent            int64
		defaultTTL         time.Duration
		suspended          bool
		cmd                *cobra.Command
	)
	cmd = clientCommand("configure WALLET", "Change a wallet's settings (each flag given replaces that setting; creates the wallet)", 1,
		func(cmd *cobra.Command) {
			idFlag(cmd, &id)
			cmd.Flags().StringVar(&mode, "mode", "", "strict (holds, zero overdraft) or optimistic (no holds, overdraft limit)")
			cmd.Flags().StringVar(&limit, "overdraft-limit", "", "optimistic mode: absolute overdraft limit in credits")
			cmd.Flags().Int64Var(&percent, "overdraft-percent", 0, "optimistic mode: limit as a percent of active grants' amounts")
			cmd.Flags().DurationVar(&defaultTTL, "default-ttl", 0, "hold lifetime when a reserve gives none")
			cmd.Flags().BoolVar(&suspended, "suspended", false, "suspend (true) or resume (false) the wallet: reserves are denied wallet_suspended")
			cmd.Flags().StringVar(&policies, "policies", "", `all policies as JSON, replacing the current ones ('{}' clears), e.g. '{"*":{"caps":[{"window":"day","limit":5000}]},"team:a":{"rates":[{"window":"minute","requests":60}]}}'`)
			cmd.Flags().StringVar(&features, "features", "", `all features as JSON, replacing the current ones ('{}' clears), e.g. '{"gpt-4":{"enabled":true,"limit":{"window":"day","amount":900}}}'`)
		},
		func(args []string) (func(*session) error, error) {
			fl := cmd.Flags()
			req := client.ConfigureRequest{ID: requestID(id), Mode: mode}
			if fl.Changed("overdraft-limit") {
				n, err := parseAmount("--overdraft-limit", limit, true)
				if err != nil {
					return nil, err
				}
				req.OverdraftLimit = &n
			}
			if fl.Changed("overdraft-percent") {
				req.OverdraftPercent = &percent
			}
			if fl.Changed("default-ttl") {
				ttl, err := msFlag("default-ttl", defaultTTL)
				if err != nil {
					return nil, err
				}
				req.DefaultTTLms = &ttl
			}
			if fl.Changed("suspended") {
				req.Suspended = &suspended
			}
			if fl.Changed("policies") {
				if err := strictJSON(policies, &req.Policies); err != nil {
					return nil, usageError{fmt.Errorf("--policies: %w", err)}
				}
				if req.Policies == nil {
					req.Policies = map[string]client.Policy{}
				}
			}
			if fl.Changed("features") {
				if err := strictJSON(features, &req.Features); err != nil {
					return nil, usageError{fmt.Errorf("--features: %w", err)}
				}
				if req.Features == nil {
					req.Features = map[string]client.Feature{}
				}
			}
			if req.Mode == "" && req.OverdraftLimit == nil && req.OverdraftPercent == nil && req.DefaultTTLms == nil &&
				req.Suspended == nil && req.Policies == nil && req.Features == nil {
				return nil, usageError{errors.New("give at least one of --mode, --overdraft-limit, --overdraft-percent, --default-ttl, --suspended, --policies, --features")}
			}
			return func(s *session) error {
				r, err := s.c.Configure(s.ctx, args[0], req)
				if err != nil {
					return s.fail(true, err)
				}
				od := ""
				switch {
				case r.OverdraftLimit != nil:
					od = amount(*r.OverdraftLimit)
				case r.OverdraftPercent != nil:
					od = strconv.FormatInt(*r.OverdraftPercent, 10) + "%"
				}
				return show(s, req.ID, r, "mode", r.Mode, "overdraft", od,
					"default ttl", (time.Duration(r.DefaultTTLms) * time.Millisecond).String(), "suspended", yesNo(r.Suspended),
					"policies", strconv.Itoa(len(r.Policies)), "features", strconv.Itoa(len(r.Features)))
			}, nil
		})
	return cmd
}

func newBalance() *cobra.Command {
	return clientCommand("balance WALLET", "Show a wallet's balance, open holds and grants in burn-down order", 1, nil,
		func(args []string) (func(*session) error, error) {
			return func(s *session) error {
				r, err := s.c.Balance(s.ctx, args[0])
				if err != nil {
					return s.fail(false, err)
				}
				return showWith(s, r, func() { printBalance(s.out, r) })
			}, nil
		})
}

func printBalance(out *printer, r client.BalanceReply) {
	out.kv(append(figures(r.Figures), "debt", amount(r.Debt), "open holds", amount(int64(r.Holds)), "mode", r.Mode)...)
	if len(r.Grants) == 0 {
		return
	}
	out.line("")
	rows := make([][]string, len(r.Grants))
	for i, g := range r.Grants {
		rows[i] = []string{g.ID, g.Kind, strconv.FormatInt(g.Priority, 10), amount(g.Amount), amount(g.Remaining),
			amount(g.Earmarked), stamp(g.EffectiveAt), orDash(stamp(g.ExpiresAt)), yesNo(g.Active)}
	}
	out.table([]string{"GRANT", "KIND", "PRIORITY", "AMOUNT", "REMAINING", "EARMARKED", "EFFECTIVE", "EXPIRES", "ACTIVE"}, rows)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// strictJSON decodes s into v, refusing unknown fields, so a typo in a
// policy is a usage error here rather than a surprise on the node.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
