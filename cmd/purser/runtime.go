package main

// The runtime commands — reserve, check, settle, release, extend, debit —
// one per op of SPEC §8's purser.v1 subjects. Each prints the reply and
// exits 0, or 3 when the reply is a denial (allowed:false).

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/purser-dev/purser/transport/client"
	"github.com/purser-dev/purser/transport/wire"
)

func newRuntimeCommands() []*cobra.Command {
	return []*cobra.Command{newReserve(), newCheck(), newSettle(), newRelease(), newExtend(), newDebit()}
}

// clientCommand builds a command that checks its arguments, connects, runs
// the call and disconnects. prepare validates everything it can before
// connecting (a usage error needs no node) and returns the call. The client
// flags are registered on the command; flags registers its own.
func clientCommand(use, short string, nargs int, flags func(*cobra.Command),
	prepare func(args []string) (func(s *session) error, error)) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != nargs {
				return usageError{fmt.Errorf("want %d argument(s), got %d (usage: purser %s)", nargs, len(args), use)}
			}
			// Every client command's first argument is the wallet: refuse
			// a bad one here, rather than let it make a subject NATS
			// refuses or no node answers.
			if !wire.ValidWallet(args[0]) {
				return usageError{fmt.Errorf("WALLET %q: 1 to %d characters of A-Z a-z 0-9 _ -", args[0], wire.MaxWalletLength)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			call, err := prepare(args)
			if err != nil {
				return err
			}
			s, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			defer s.close()
			return call(s)
		},
	}
	cf.register(cmd)
	if flags != nil {
		flags(cmd)
	}
	return cmd
}

// show prints reply as JSON, or as aligned key/value pairs ending with the
// request id. A mutating command's JSON leads with "request_id", the id it
// used, so a script can retry with it; the other keys are the wire reply's.
func show(s *session, id string, reply any, pairs ...string) error {
	if s.out.json {
		if id == "" {
			return s.out.writeJSON(reply)
		}
		return s.out.writeJSONWithID(id, reply)
	}
	s.out.kv(append(pairs, "request id", id)...)
	return nil
}

// showWith prints reply as JSON, or calls human (for tables).
func showWith(s *session, reply any, human func()) error {
	if s.out.json {
		return s.out.writeJSON(reply)
	}
	human()
	return nil
}

func decision(r client.ReserveReply) []string {
	if r.Allowed {
		return []string{"allowed", "yes", "hold", r.HoldID, "expires at", stamp(r.ExpiresAt)}
	}
	by := ""
	if r.DeniedBy != nil {
		by = r.DeniedBy.Principal + " (" + r.DeniedBy.Window + ")"
	}
	retry := ""
	if r.RetryAfterMs > 0 {
		retry = (time.Duration(r.RetryAfterMs) * time.Millisecond).String()
	}
	return []string{"allowed", "no", "reason", r.Reason, "denied by", by, "retry after", retry}
}

// denied is the exit-3 result of a reply with allowed:false.
func denied(allowed bool, reason string) error {
	if allowed {
		return nil
	}
	return deniedError{reason}
}

type spendFlags struct {
	principal, feature string
	meta               []string
}

func (f *spendFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.principal, "principal", "", "principal path inside the wallet (team:research/user:alice)")
	cmd.Flags().StringVar(&f.feature, "feature", "", "feature the spend is for")
	cmd.Flags().StringArrayVar(&f.meta, "meta", nil, "key=value kept with the entry (repeatable)")
}

func newReserve() *cobra.Command {
	var (
		id       string
		ttl      time.Duration
		onExpiry string
		sf       spendFlags
	)
	return clientCommand("reserve WALLET AMOUNT", "Place a hold of AMOUNT credits (strict) or ask permission (optimistic)", 2,
		func(cmd *cobra.Command) {
			idFlag(cmd, &id)
			cmd.Flags().DurationVar(&ttl, "ttl", 0, "hold lifetime, up to 24h (default: the wallet's, 60s unless configured)")
			cmd.Flags().StringVar(&onExpiry, "on-expiry", "", `what expiry does to the hold: "release" (default) or "capture"`)
			sf.register(cmd)
		},
		func(args []string) (func(*session) error, error) {
			amt, err := parseAmount("AMOUNT", args[1], false)
			if err != nil {
				return nil, err
			}
			meta, err := parseMeta(sf.meta)
			if err != nil {
				return nil, err
			}
			ttlms, err := msFlag("ttl", ttl)
			if err != nil {
				return nil, err
			}
			req := client.ReserveRequest{ID: requestID(id), Amount: amt, TTLms: ttlms, OnExpiry: onExpiry,
				Principal: sf.principal, Feature: sf.feature, Meta: meta}
			return func(s *session) error {
				r, err := s.c.Reserve(s.ctx, args[0], req)
				if err != nil {
					return s.fail(false, err)
				}
				return errors.Join(show(s, req.ID, r, append(decision(r), figures(r.Figures)...)...), denied(r.Allowed, r.Reason))
			}, nil
		})
}

func newCheck() *cobra.Command {
	var (
		ttl time.Duration
		sf  spendFlags
	)
	return clientCommand("check WALLET AMOUNT", "Would a reserve of AMOUNT be allowed? Holds nothing, changes nothing", 2,
		func(cmd *cobra.Command) {
			cmd.Flags().DurationVar(&ttl, "ttl", 0, "hold lifetime the reserve would ask for")
			cmd.Flags().StringVar(&sf.principal, "principal", "", "principal path inside the wallet")
			cmd.Flags().StringVar(&sf.feature, "feature", "", "feature the spend is for")
		},
		func(args []string) (func(*session) error, error) {
			amt, err := parseAmount("AMOUNT", args[1], false)
			if err != nil {
				return nil, err
			}
			ttlms, err := msFlag("ttl", ttl)
			if err != nil {
				return nil, err
			}
			req := client.CheckRequest{Amount: amt, TTLms: ttlms, Principal: sf.principal, Feature: sf.feature}
			return func(s *session) error {
				r, err := s.c.Check(s.ctx, args[0], req)
				if err != nil {
					return s.fail(false, err)
				}
				return errors.Join(show(s, "", r, append(decision(r), figures(r.Figures)...)...), denied(r.Allowed, r.Reason))
			}, nil
		})
}

func newSettle() *cobra.Command {
	var (
		id      string
		partial bool
	)
	return clientCommand("settle WALLET HOLD_ID ACTUAL", "Record ACTUAL usage against a hold and close it", 3,
		func(cmd *cobra.Command) {
			idFlag(cmd, &id)
			cmd.Flags().BoolVar(&partial, "partial", false, "partial capture (final:false): keep the rest of the hold open")
		},
		func(args []string) (func(*session) error, error) {
			actual, err := parseAmount("ACTUAL", args[2], true)
			if err != nil {
				return nil, err
			}
			req := client.SettleRequest{ID: requestID(id), HoldID: args[1], Actual: actual, Partial: partial}
			return func(s *session) error {
				r, err := s.c.Settle(s.ctx, args[0], req)
				if err != nil {
					return s.fail(false, err)
				}
				late := ""
				if r.Late {
					late = "yes (the hold had expired; charged directly)"
				}
				return show(s, req.ID, r, append([]string{"consumed", amount(r.Consumed), "released", amount(r.Released),
					"overage", amount(r.Overage), "forfeited", amount(r.Forfeited), "debt", amount(r.Debt),
					"late", late, "paid by", allocations(r.Allocations)}, figures(r.Figures)...)...)
			}, nil
		})
}

func newRelease() *cobra.Command {
	var id string
	return clientCommand("release WALLET HOLD_ID", "Void a hold: its credits return to available", 2,
		func(cmd *cobra.Command) { idFlag(cmd, &id) },
		func(args []string) (func(*session) error, error) {
			req := client.ReleaseRequest{ID: requestID(id), HoldID: args[1]}
			return func(s *session) error {
				r, err := s.c.Release(s.ctx, args[0], req)
				if err != nil {
					return s.fail(false, err)
				}
				return show(s, req.ID, r, append([]string{"released", amount(r.Released), "forfeited", amount(r.Forfeited)},
					figures(r.Figures)...)...)
			}, nil
		})
}

func newExtend() *cobra.Command {
	var (
		id     string
		ttl    time.Duration
		amtStr string
	)
	return clientCommand("extend WALLET HOLD_ID", "Move a hold's expiry to now + --ttl and optionally raise it to --amount", 2,
		func(cmd *cobra.Command) {
			idFlag(cmd, &id)
			cmd.Flags().DurationVar(&ttl, "ttl", 0, "new lifetime from now, up to 24h (required)")
			cmd.Flags().StringVar(&amtStr, "amount", "", "the hold's new total (an incremental authorization)")
			_ = cmd.MarkFlagRequired("ttl")
		},
		func(args []string) (func(*session) error, error) {
			var amt int64
			if amtStr != "" {
				var err error
				if amt, err = parseAmount("--amount", amtStr, false); err != nil {
					return nil, err
				}
			}
			ttlms, err := msFlag("ttl", ttl)
			if err != nil {
				return nil, err
			}
			req := client.ExtendRequest{ID: requestID(id), HoldID: args[1], TTLms: ttlms, Amount: amt}
			return func(s *session) error {
				r, err := s.c.Extend(s.ctx, args[0], req)
				if err != nil {
					return s.fail(false, err)
				}
				return errors.Join(show(s, req.ID, r, append([]string{"allowed", yesNo(r.Allowed), "reason", r.Reason,
					"expires at", stamp(r.ExpiresAt), "amount", amount(r.Amount)}, figures(r.Figures)...)...),
					denied(r.Allowed, r.Reason))
			}, nil
		})
}

func newDebit() *cobra.Command {
	var (
		id string
		sf spendFlags
	)
	return clientCommand("debit WALLET AMOUNT", "Record usage without a hold (never denied; may create debt)", 2,
		func(cmd *cobra.Command) {
			idFlag(cmd, &id)
			sf.register(cmd)
		},
		func(args []string) (func(*session) error, error) {
			amt, err := parseAmount("AMOUNT", args[1], false)
			if err != nil {
				return nil, err
			}
			meta, err := parseMeta(sf.meta)
			if err != nil {
				return nil, err
			}
			req := client.DebitRequest{ID: requestID(id), Amount: amt, Principal: sf.principal, Feature: sf.feature, Meta: meta}
			return func(s *session) error {
				r, err := s.c.Debit(s.ctx, args[0], req)
				if err != nil {
					return s.fail(false, err)
				}
				return show(s, req.ID, r, append([]string{"consumed", amount(r.Consumed), "debt", amount(r.Debt),
					"paid by", allocations(r.Allocations)}, figures(r.Figures)...)...)
			}, nil
		})
}
