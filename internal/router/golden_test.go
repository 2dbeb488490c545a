package router

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current router")

// goldenCase is one statement of testdata/core.sql.
type goldenCase struct {
	notes []string // "--- " lines before the statement
	sql   string
}

// sessionContexts are the session situations every golden case is decided under.
var sessionContexts = []struct {
	name string
	s    Session
}{
	{"autocommit", Session{RWSplit: true}},
	{"txn", Session{InTxn: true, Pinned: true, RWSplit: true}},
	{"no_split", Session{RWSplit: false}},
}

// readCases splits a .sql file into cases: statements are separated by lines
// containing only ";;"; lines starting with "--- " are notes for the reader.
// A case that is empty once notes are removed is the empty query. A trailing
// empty chunk after the last separator is ignored.
func readCases(tb testing.TB, path string) []goldenCase {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	var (
		cases []goldenCase
		cur   goldenCase
		lines []string
	)
	flush := func() {
		cur.sql = strings.TrimSpace(strings.Join(lines, "\n"))
		cases = append(cases, cur)
		cur, lines = goldenCase{}, nil
	}
	all := strings.Split(text, "\n")
	if n := len(all); n > 0 && all[n-1] == "" {
		all = all[:n-1]
	}
	for _, l := range all {
		switch {
		case strings.TrimSpace(l) == ";;":
			flush()
		case strings.HasPrefix(l, "--- "):
			cur.notes = append(cur.notes, strings.TrimPrefix(l, "--- "))
		default:
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 || len(cur.notes) > 0 {
		flush()
	}
	return cases
}

var flagNames = []struct {
	f    Flag
	name string
}{
	{FlagLockingRead, "locking_read"},
	{FlagUserVarWrite, "user_var_write"},
	{FlagUserVarRead, "user_var_read"},
	{FlagLockFunc, "lock_func"},
	{FlagTempTable, "temp_table"},
	{FlagLastInsertID, "last_insert_id"},
	{FlagNextTxn, "next_txn"},
	{FlagReadOnlyTxn, "read_only_txn"},
	{FlagWrites, "writes"},
	{FlagSessionVars, "session_vars"},
	{FlagMulti, "multi"},
	{FlagUnparsed, "unparsed"},
	{FlagIntoFile, "into_file"},
	{FlagLocalInfile, "local_infile"},
	{FlagSQLCalcFoundRows, "sql_calc_found_rows"},
	{FlagNeedsPrimary, "needs_primary"},
	{FlagAutocommit, "autocommit"},
	{FlagSessionCounters, "session_counters"},
}

// flagString names every set bit, "none" for no flags. Bits without a name
// print as bitN so that a new flag shows up in the golden diff.
func flagString(f Flag) string {
	var parts []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			parts = append(parts, fn.name)
			f &^= fn.f
		}
	}
	for i := 0; i < 32; i++ {
		if f&(1<<i) != 0 {
			parts = append(parts, fmt.Sprintf("bit%d", i))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

func hintString(h Hint) string {
	switch h {
	case HintNone:
		return "none"
	case HintPrimary:
		return "primary"
	case HintReplica:
		return "replica"
	}
	return fmt.Sprintf("hint(%d)", h)
}

func localString(l Local) string {
	switch l {
	case LocalNone:
		return "none"
	case LocalKill:
		return "kill"
	case LocalLastInsertID:
		return "last_insert_id"
	case LocalConnectionID:
		return "connection_id"
	case LocalRowCount:
		return "row_count"
	case LocalFoundRows:
		return "found_rows"
	case LocalSetConsistency:
		return "set_consistency"
	case LocalShowConsistency:
		return "show_consistency"
	}
	return fmt.Sprintf("local(%d)", l)
}

// pinString is Pin.String plus unnamed bits.
func pinString(p Pin) string {
	s := p.String()
	for i := len(pinNames); i < 16; i++ {
		if p&(1<<i) != 0 {
			if s != "" {
				s += ","
			}
			s += fmt.Sprintf("bit%d", i)
		}
	}
	return s
}

// formatAnalysis is the analysis line of a golden block.
func formatAnalysis(a *Analysis) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind=%s flags=%s hint=%s", a.Kind, flagString(a.Flags), hintString(a.Hint))
	if a.DB != "" {
		fmt.Fprintf(&b, " db=%q", a.DB)
	}
	if a.Local != LocalNone {
		fmt.Fprintf(&b, " local=%s", localString(a.Local))
	}
	if a.Label != "" {
		fmt.Fprintf(&b, " label=%q", a.Label)
	}
	if a.Local == LocalKill || a.KillID != 0 || a.KillQuery {
		fmt.Fprintf(&b, " kill=%d", a.KillID)
		if a.KillQuery {
			b.WriteString(" kill_query")
		}
	}
	if a.Err != nil {
		fmt.Fprintf(&b, "\nerr=%d (%s) %s", a.Err.Code, a.Err.State, a.Err.Message)
	}
	return b.String()
}

// formatPlan is one context line of a golden block (without the name).
func formatPlan(p Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "target=%s", p.Target)
	if p.Pin != 0 {
		fmt.Fprintf(&b, " pin=%s", pinString(p.Pin))
	}
	if p.Unpin != 0 {
		fmt.Fprintf(&b, " unpin=%s", pinString(p.Unpin))
	}
	if p.OnReplica {
		b.WriteString(" on_replica")
	}
	return b.String()
}

// protect runs f and turns a panic into an error carrying the stack.
func protect(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	f()
	return nil
}

// renderCase writes the golden block of one case.
func renderCase(b *strings.Builder, c goldenCase) error {
	for _, n := range c.notes {
		fmt.Fprintf(b, "## %s\n", n)
	}
	if c.sql == "" {
		b.WriteString("-- (empty)\n")
	} else {
		for _, l := range strings.Split(c.sql, "\n") {
			fmt.Fprintf(b, "-- %s\n", strings.TrimRight(l, " \t"))
		}
	}
	var a *Analysis
	if err := protect(func() { a = Analyze(c.sql) }); err != nil {
		return fmt.Errorf("Analyze(%q): %v", c.sql, err)
	}
	b.WriteString(formatAnalysis(a))
	b.WriteByte('\n')
	for _, sc := range sessionContexts {
		var p Plan
		if err := protect(func() { p = Decide(a, sc.s) }); err != nil {
			return fmt.Errorf("Decide(%q, %s): %v", c.sql, sc.name, err)
		}
		fmt.Fprintf(b, "  %-11s %s\n", sc.name+":", formatPlan(p))
	}
	b.WriteByte('\n')
	return nil
}

func TestGolden(t *testing.T) {
	in := filepath.Join("testdata", "core.sql")
	out := filepath.Join("testdata", "core.golden")
	cases := readCases(t, in)
	if len(cases) < 120 {
		t.Errorf("%s has %d cases, want at least 120", in, len(cases))
	}
	var b strings.Builder
	b.WriteString("# Generated by TestGolden from core.sql; do not edit.\n")
	b.WriteString("# Regenerate: go test ./internal/router -run TestGolden -update\n")
	b.WriteString("# Contexts: autocommit={RWSplit}, txn={InTxn,Pinned,RWSplit}, no_split={}\n\n")
	for _, c := range cases {
		if err := renderCase(&b, c); err != nil {
			t.Error(err)
		}
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(out, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/router -run TestGolden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date (run with -update if the change is intended):\n%s",
			out, lineDiff(string(want), got))
	}
}

// lineDiff returns a line diff of a and b: changed lines with three lines
// of context, "..." for skipped runs.
func lineDiff(a, b string) string {
	x := strings.Split(a, "\n")
	y := strings.Split(b, "\n")
	// LCS table; the golden files are a few thousand lines at most.
	n, m := len(x), len(y)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte
		text string
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{' ', x[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', x[i]})
			i++
		default:
			ops = append(ops, op{'+', y[j]})
			j++
		}
	}
	const ctx = 3
	show := make([]bool, len(ops))
	for k, o := range ops {
		if o.kind != ' ' {
			for c := max(k-ctx, 0); c <= min(k+ctx, len(ops)-1); c++ {
				show[c] = true
			}
		}
	}
	var out strings.Builder
	out.WriteString("--- want (golden)\n+++ got\n")
	gap := false
	for k, o := range ops {
		if !show[k] {
			gap = true
			continue
		}
		if gap {
			out.WriteString("...\n")
			gap = false
		}
		fmt.Fprintf(&out, "%c%s\n", o.kind, o.text)
	}
	return out.String()
}
