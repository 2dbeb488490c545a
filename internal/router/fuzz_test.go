package router

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzAnalyze checks that no statement text makes the router panic and that
// the analysis and the plans stay consistent. Seeds: every golden statement.
//
//	go test -run='^$' -fuzz=FuzzAnalyze -fuzztime=30s ./internal/router
func FuzzAnalyze(f *testing.F) {
	for _, c := range readCases(f, filepath.Join("testdata", "core.sql")) {
		f.Add(c.sql)
	}
	for _, s := range []string{"/*", "*/", "/*+ replica */", "SELECT /*+ slave", "-- ", "#", "\x00", "SELECT '\xff'", "KILL 99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(checkAnalyze)
}

// checkAnalyze is the body of FuzzAnalyze.
func checkAnalyze(t *testing.T, sql string) {
	var a *Analysis
	if err := protect(func() { a = Analyze(sql) }); err != nil {
		t.Fatalf("Analyze(%q): %v", sql, err)
	}
	if a == nil {
		t.Fatalf("Analyze(%q) = nil", sql)
	}
	if err := protect(func() { _ = a.Kind.String() }); err != nil {
		t.Fatalf("Analyze(%q): Kind(%d).String(): %v", sql, a.Kind, err)
	}
	if a.Kind > KindEmpty {
		t.Errorf("Analyze(%q): kind %d out of range", sql, a.Kind)
	}
	if a.Kind == KindEmpty && a.Err == nil {
		t.Errorf("Analyze(%q): empty statement without Err", sql)
	}
	if a.Local == LocalKill && a.Kind != KindKill {
		t.Errorf("Analyze(%q): local kill with kind %s", sql, a.Kind)
	}
	// Deterministic, whatever parser the pool hands out.
	var b *Analysis
	if err := protect(func() { b = Analyze(sql) }); err != nil {
		t.Fatalf("Analyze(%q), second call: %v", sql, err)
	}
	if x, y := formatAnalysis(a), formatAnalysis(b); x != y {
		t.Errorf("Analyze(%q) is not deterministic:\n%s\n%s", sql, x, y)
	}
	for _, sc := range sessionContexts {
		var p Plan
		if err := protect(func() { p = Decide(a, sc.s) }); err != nil {
			t.Fatalf("Decide(Analyze(%q), %s): %v", sql, sc.name, err)
		}
		var name string
		if err := protect(func() { name = p.Target.String() }); err != nil {
			t.Fatalf("Decide(Analyze(%q), %s): Target(%d).String(): %v", sql, sc.name, p.Target, err)
		}
		// A refusal carries its error; an analysis error is always one.
		if (p.Target == TargetError) != (p.Err != nil) || a.Err != nil && p.Target != TargetError {
			t.Errorf("Decide(Analyze(%q), %s): target %s with err %v (analysis err %v)", sql, sc.name, name, p.Err, a.Err)
		}
		forwarded := (a.Local == LocalRowCount || a.Local == LocalFoundRows) && p.Target == TargetPinned && (sc.s.Pinned || sc.s.InTxn)
		if a.Err == nil && !forwarded && (p.Target == TargetProxy) != (a.Local != LocalNone) {
			t.Errorf("Decide(Analyze(%q), %s): target %s with local %s", sql, sc.name, name, localString(a.Local))
		}
		if sc.s.Pinned && a.Err == nil && a.Local == LocalNone && p.Target != TargetPinned {
			t.Errorf("Decide(Analyze(%q), %s): target %s for a pinned session", sql, sc.name, name)
		}
		if p.OnReplica && p.Target != TargetPinned {
			t.Errorf("Decide(Analyze(%q), %s): on_replica with target %s", sql, sc.name, name)
		}
		_ = p.Pin.String()
		_ = p.Unpin.String()
	}
}

// TestAnalyzeNoPanic: inputs a client can send that once crashed the router
// (and with it the whole proxy). FuzzAnalyze keeps the raw crashers in
// testdata/fuzz/FuzzAnalyze.
func TestAnalyzeNoPanic(t *testing.T) {
	for _, tt := range []struct{ name, sql string }{
		// scanHint: "*/" found inside the opening "/*".
		{"hint_slash_comment", "/*/ SELECT 1"},
		{"hint_slash_comment_after_keyword", "SELECT /*/ 1 */ 1"},
		// Decimal literal longer than the parser's test_driver supports
		// (81 digits): it panics instead of returning an error.
		{"long_integer_literal", "SELECT * FROM t WHERE id = 1" + strings.Repeat("0", 90)},
		{"long_decimal_literal", "SELECT 0." + strings.Repeat("1", 90)},
	} {
		t.Run(tt.name, func(t *testing.T) { checkAnalyze(t, tt.sql) })
	}
}
