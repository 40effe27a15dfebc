package main

// Human output is aligned key/value lists and tables (text/tabwriter),
// amounts with thousands separators, times in local RFC 3339; --json prints
// the reply as one JSON document with the wire's field names.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/purser-dev/purser/transport/client"
)

type printer struct {
	w    io.Writer
	json bool
}

func newPrinter(w io.Writer, asJSON bool) *printer { return &printer{w: w, json: asJSON} }

func (p *printer) writeJSON(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONWithID prints v (a JSON object) with "request_id" as its first
// key, keeping the reply's own key order.
func (p *printer) writeJSONWithID(id string, v any) error {
	obj, err := json.Marshal(v)
	if err != nil {
		return err
	}
	idJSON, _ := json.Marshal(id)
	flat := append([]byte(`{"request_id":`), idJSON...)
	if len(obj) > 2 {
		flat = append(flat, ',')
	}
	flat = append(flat, obj[1:]...)
	var buf bytes.Buffer
	if err := json.Indent(&buf, flat, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = p.w.Write(buf.Bytes())
	return err
}

// kv prints aligned "key  value" lines; empty values are skipped.
func (p *printer) kv(pairs ...string) {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", pairs[i], pairs[i+1])
		}
	}
	_ = tw.Flush()
}

// table prints a header and rows in aligned columns.
func (p *printer) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func (p *printer) line(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

// amount formats n with thousands separators: 1234567 → "1,234,567".
func amount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// stamp formats t in local time, RFC 3339; the zero time is "".
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// figures are the three headline numbers every reply ends with.
func figures(f client.Figures) []string {
	return []string{"balance", amount(f.Balance), "held", amount(f.Held), "available", amount(f.Available)}
}

func allocations(as []client.Allocation) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Grant + ":" + amount(a.Amount)
	}
	return strings.Join(parts, " ")
}

// parseAmount reads a positive (or, with zeroOK, non-negative) integer
// amount; "1,500" and "1_500" are accepted for readability. Money never
// passes through a float.
func parseAmount(name, s string, zeroOK bool) (int64, error) {
	clean := strings.NewReplacer(",", "", "_", "").Replace(s)
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil || n < 0 || (n == 0 && !zeroOK) {
		want := "a positive integer"
		if zeroOK {
			want = "a non-negative integer"
		}
		return 0, usageError{fmt.Errorf("%s %q: want %s (the wallet's smallest credit unit)", name, s, want)}
	}
	return n, nil
}

// parseTime reads an RFC 3339 time, or a duration from now ("720h", "-1h").
func parseTime(name, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		t := time.Now().Add(d).Truncate(time.Second)
		return &t, nil
	}
	return nil, usageError{fmt.Errorf("--%s %q: want an RFC 3339 time (2026-01-31T00:00:00Z) or a duration from now (720h)", name, s)}
}

// parseMeta reads repeated --meta key=value flags.
func parseMeta(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--meta %q: want key=value", kv)}
		}
		m[k] = v
	}
	return m, nil
}

// msFlag converts a duration flag to the wire's _ms integer (0 = absent).
// A part of a millisecond would be lost on the wire (and --ttl 500us would
// become 0, the wallet's default): it is a usage error instead.
func msFlag(flag string, d time.Duration) (int64, error) {
	if d < 0 || d%time.Millisecond != 0 {
		return 0, usageError{fmt.Errorf("--%s %s: a whole number of milliseconds, at least 1ms", flag, d)}
	}
	return d.Milliseconds(), nil
}
