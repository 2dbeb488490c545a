package router

import (
	"fmt"
	"github.com/switchyard-db/switchyard/internal/sqltext"
	"path/filepath"
	"sync"
	"testing"
)

func TestScanHint(t *testing.T) {
	tests := []struct {
		sql  string
		want Hint
	}{
		{"", HintNone},
		{"SELECT 1", HintNone},
		{"/*master*/ SELECT 1", HintPrimary},
		{"/* master */SELECT 1", HintPrimary},
		{"/*MASTER*/ SELECT 1", HintPrimary},
		{" \t\r\n/*+ primary */ SELECT 1", HintPrimary},
		{"/*+ master */ SELECT 1", HintPrimary},
		{"/*+writer*/ SELECT 1", HintPrimary},
		{"/*+ replica */ SELECT 1", HintReplica},
		{"/*+ REPLICA */ SELECT 1", HintReplica},
		{"/*+ slave */ SELECT 1", HintReplica},
		{"/* reader */ SELECT 1", HintReplica},
		// Right after the first keyword (optimizer-hint position).
		{"SELECT /*+ replica */ * FROM t", HintReplica},
		{"select/*+ replica */ 1", HintReplica},
		{"SELECT /* c */ /*+ primary */ 1", HintPrimary},
		{"INSERT /*+ replica */ INTO t VALUES (1)", HintReplica},
		// Several leading comments: the first hint wins.
		{"/* app=web */ /*+ replica */ SELECT 1", HintReplica},
		{"/*+ primary */ /*+ replica */ SELECT 1", HintPrimary},
		{"/* app */ SELECT /*+ replica */ 1", HintReplica},
		// Not routing hints.
		{"SELECT /*+ MAX_EXECUTION_TIME(10) */ * FROM t", HintNone},
		{"SELECT /*+ replica MAX_EXECUTION_TIME(10) */ 1", HintNone},
		{"/*!40101 SET NAMES utf8 */", HintNone},
		{"/* primary key lookup */ SELECT 1", HintNone},
		{"SELECT * FROM t /*+ replica */", HintNone},
		{"SELECT c /*+ replica */ FROM t", HintNone},
		{"SELECT '/*+ replica */'", HintNone},
		{"(SELECT /*+ replica */ 1)", HintNone},
		// Line comments are not skipped: a hint after one is not seen.
		{"-- c\n/*+ replica */ SELECT 1", HintNone},
		// Unterminated or degenerate comments.
		{"/*+ replica", HintNone},
		{"/*", HintNone},
		{"/**/", HintNone},
		{"/**/ SELECT 1", HintNone},
		{"SELECT /*+ replica", HintNone},
		// "*/" overlapping the opening "/*" must not be taken as its end.
		{"/*/ SELECT 1", HintNone},
		{"/*/*/ SELECT 1", HintNone},
		{"SELECT /*/ 1", HintNone},
	}
	for _, tt := range tests {
		var got Hint
		if err := protect(func() { got = scanHint(tt.sql) }); err != nil {
			t.Errorf("scanHint(%q): %v", tt.sql, err)
			continue
		}
		if got != tt.want {
			t.Errorf("scanHint(%q) = %s, want %s", tt.sql, hintString(got), hintString(tt.want))
		}
	}
}

func TestFirstKeyword(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"", ""},
		{"SELECT 1", "SELECT"},
		{"select 1", "select"},
		{" \t\r\n INSERT INTO t", "INSERT"},
		{"/* c */ UPDATE t", "UPDATE"},
		{"/* a *//* b */DELETE FROM t", "DELETE"},
		{"-- c\nSET @a = 1", "SET"},
		{"# c\nSHOW TABLES", "SHOW"},
		{"-- a\n# b\n/* c */ XA START 'x'", "XA"},
		{"((SELECT 1))", "SELECT"},
		{";; ;SHOW TABLES", "SHOW"},
		{"SQL_CALC_FOUND_ROWS", "SQL_CALC_FOUND_ROWS"},
		{"SELECT*FROM t", "SELECT"},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH"},
		// Versioned comments are skipped like plain comments.
		{"/*!40101 SET NAMES utf8 */", "SET"},
		// Nothing but comments, or a comment that never ends.
		{"/* c */", ""},
		{"/* unterminated SELECT 1", ""},
		{"-- only a comment", ""},
		{"# only a comment", ""},
		// "--" without a following space is not a comment.
		{"--c\nSELECT 1", ""},
		{"123", ""},
		{")(*&^%", ""},
	}
	for _, tt := range tests {
		var got string
		if err := protect(func() { got = sqltext.FirstKeyword(tt.sql) }); err != nil {
			t.Errorf("sqltext.FirstKeyword(%q): %v", tt.sql, err)
			continue
		}
		if got != tt.want {
			t.Errorf("sqltext.FirstKeyword(%q) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

func TestDecide(t *testing.T) {
	var (
		autocommit = Session{RWSplit: true}
		noSplit    = Session{}
		pinned     = Session{Pinned: true, RWSplit: true}
		inTxn      = Session{InTxn: true, RWSplit: true}
		txn        = Session{InTxn: true, Pinned: true, RWSplit: true}
	)
	sel := &Analysis{Kind: KindSelect}
	selPrimary := &Analysis{Kind: KindSelect, Hint: HintPrimary}
	selReplica := &Analysis{Kind: KindSelect, Hint: HintReplica}
	begin := &Analysis{Kind: KindBegin}
	beginRO := &Analysis{Kind: KindBegin, Flags: FlagReadOnlyTxn}
	beginROPrimary := &Analysis{Kind: KindBegin, Flags: FlagReadOnlyTxn, Hint: HintPrimary}
	beginROReplica := &Analysis{Kind: KindBegin, Flags: FlagReadOnlyTxn, Hint: HintReplica}
	errA := Analyze("LOAD DATA LOCAL INFILE 'x' INTO TABLE t")
	lastID := Analyze("SELECT LAST_INSERT_ID()")
	kill := Analyze("KILL 5")

	tests := []struct {
		name      string
		a         *Analysis
		s         Session
		target    Target
		pin       Pin
		unpin     Pin
		onReplica bool
	}{
		{"plain select splits", sel, autocommit, TargetReplica, 0, 0, false},
		{"plain select without split", sel, noSplit, TargetPrimary, 0, 0, false},
		{"plain select pinned", sel, pinned, TargetPinned, 0, 0, false},
		{"plain select in txn without pinned conn", sel, inTxn, TargetPinned, 0, 0, false},

		{"primary hint", selPrimary, autocommit, TargetPrimary, 0, 0, false},
		{"primary hint without split", selPrimary, noSplit, TargetPrimary, 0, 0, false},
		{"replica hint outside txn", selReplica, autocommit, TargetReplica, 0, 0, false},
		{"pinned overrides primary hint", selPrimary, pinned, TargetPinned, 0, 0, false},
		{"pinned overrides replica hint", selReplica, pinned, TargetPinned, 0, 0, false},
		{"txn overrides replica hint", selReplica, txn, TargetPinned, 0, 0, false},
		{"in txn overrides replica hint", selReplica, inTxn, TargetPinned, 0, 0, false},
		{"pin overrides replica hint", &Analysis{Kind: KindSelect, Hint: HintReplica, Flags: FlagUserVarWrite}, autocommit, TargetPinned, PinUserVar, 0, false},
		{"pin overrides primary hint", &Analysis{Kind: KindSelect, Hint: HintPrimary, Flags: FlagLockFunc}, autocommit, TargetPinned, PinLockFunc, 0, false},

		{"begin", begin, autocommit, TargetPinned, 0, 0, false},
		{"begin without split", begin, noSplit, TargetPinned, 0, 0, false},
		{"begin read only splits", beginRO, autocommit, TargetPinned, PinReadOnlyTxn, 0, true},
		{"begin read only without split", beginRO, noSplit, TargetPinned, PinReadOnlyTxn, 0, false},
		{"begin read only with primary hint", beginROPrimary, autocommit, TargetPinned, PinReadOnlyTxn, 0, false},
		{"begin read only with replica hint", beginROReplica, autocommit, TargetPinned, PinReadOnlyTxn, 0, true},
		{"begin read only already pinned", beginRO, pinned, TargetPinned, PinReadOnlyTxn, 0, false},
		{"begin read only in txn", beginRO, txn, TargetPinned, PinReadOnlyTxn, 0, false},

		{"error wins over txn", errA, txn, TargetError, 0, 0, false},
		{"error wins over hint", &Analysis{Kind: KindSelect, Hint: HintReplica, Err: errA.Err, Flags: FlagUserVarWrite}, autocommit, TargetError, 0, 0, false},
		{"local last_insert_id in txn", lastID, txn, TargetProxy, 0, 0, false},
		{"local last_insert_id autocommit", lastID, autocommit, TargetProxy, 0, 0, false},
		{"local kill pinned", kill, pinned, TargetProxy, 0, 0, false},

		{"show goes to primary", &Analysis{Kind: KindShow}, autocommit, TargetPrimary, 0, 0, false},
		{"explain goes to primary", &Analysis{Kind: KindExplain}, autocommit, TargetPrimary, 0, 0, false},
		{"select reading user var splits", &Analysis{Kind: KindSelect, Flags: FlagUserVarRead}, autocommit, TargetReplica, 0, 0, false},
		{"temp table pins", &Analysis{Kind: KindDDL, Flags: FlagTempTable | FlagWrites}, autocommit, TargetPinned, PinTempTable, 0, false},
		{"set transaction pins", &Analysis{Kind: KindSet, Flags: FlagNextTxn}, autocommit, TargetPinned, PinNextTxn, 0, false},
		{"calc found rows pins", &Analysis{Kind: KindSelect, Flags: FlagSQLCalcFoundRows}, noSplit, TargetPinned, PinFoundRows, 0, false},
		{"prepare pins", &Analysis{Kind: KindPrepare}, autocommit, TargetPinned, PinPrepare, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.a
			p := Decide(tt.a, tt.s)
			if p.Analysis != tt.a {
				t.Errorf("Plan.Analysis is not the analysis passed in")
			}
			if p.Target != tt.target || p.Pin != tt.pin || p.Unpin != tt.unpin || p.OnReplica != tt.onReplica {
				t.Errorf("Decide(%+v) = {target=%s pin=%q unpin=%q on_replica=%v}, want {target=%s pin=%q unpin=%q on_replica=%v}",
					tt.s, p.Target, p.Pin, p.Unpin, p.OnReplica, tt.target, tt.pin, tt.unpin, tt.onReplica)
			}
			if *tt.a != before {
				t.Errorf("Decide modified the analysis: %+v, was %+v", *tt.a, before)
			}
		})
	}
}

// TestDecideUnsafeFlagsNeverSplit: any flag that makes a SELECT unsafe on a
// replica keeps it off replicas, whatever the session.
func TestDecideUnsafeFlagsNeverSplit(t *testing.T) {
	unsafe := []Flag{FlagLockingRead, FlagUserVarWrite, FlagLockFunc, FlagWrites, FlagIntoFile,
		FlagLastInsertID, FlagSQLCalcFoundRows, FlagMulti, FlagUnparsed, FlagTempTable, FlagNextTxn}
	for _, f := range unsafe {
		for _, s := range []Session{{RWSplit: true}, {}} {
			p := Decide(&Analysis{Kind: KindSelect, Flags: f}, s)
			if p.Target == TargetReplica || p.OnReplica {
				t.Errorf("SELECT with %s in %+v: target=%s on_replica=%v, want never a replica", flagString(f), s, p.Target, p.OnReplica)
			}
		}
	}
	for k := KindOther; k <= KindEmpty; k++ {
		if k == KindSelect {
			continue
		}
		p := Decide(&Analysis{Kind: k}, Session{RWSplit: true})
		if p.Target == TargetReplica {
			t.Errorf("kind %s without a hint goes to a replica", k)
		}
	}
}

func TestLockTablesPins(t *testing.T) {
	tests := []struct {
		sql    string
		s      Session
		target Target
		pin    Pin
		unpin  Pin
	}{
		{"LOCK TABLES t READ", Session{RWSplit: true}, TargetPinned, PinLockTables, 0},
		{"LOCK TABLES t WRITE, u READ", Session{}, TargetPinned, PinLockTables, 0},
		{"LOCK TABLE t READ LOCAL", Session{Pinned: true}, TargetPinned, PinLockTables, 0},
		{"/*+ replica */ LOCK TABLES t READ", Session{RWSplit: true}, TargetPinned, PinLockTables, 0},
		{"/*master*/ LOCK TABLES t READ", Session{RWSplit: true}, TargetPinned, PinLockTables, 0},
		{"lock tables t write", Session{InTxn: true, Pinned: true}, TargetPinned, PinLockTables, 0},
		// UNLOCK TABLES on the connection that holds the locks.
		{"UNLOCK TABLES", Session{Pinned: true, RWSplit: true}, TargetPinned, 0, PinLockTables},
		{"unlock table", Session{Pinned: true}, TargetPinned, 0, PinLockTables},
		// Without a pinned connection there is nothing to unlock: any
		// primary connection will do, and it must not pin.
		{"UNLOCK TABLES", Session{RWSplit: true}, TargetPrimary, 0, PinLockTables},
	}
	for _, tt := range tests {
		a := Analyze(tt.sql)
		p := Decide(a, tt.s)
		if p.Target != tt.target || p.Pin != tt.pin || p.Unpin != tt.unpin {
			t.Errorf("%q in %+v: target=%s pin=%q unpin=%q, want target=%s pin=%q unpin=%q",
				tt.sql, tt.s, p.Target, p.Pin, p.Unpin, tt.target, tt.pin, tt.unpin)
		}
	}
}

func TestStringers(t *testing.T) {
	seen := map[string]Kind{}
	for k := KindOther; k <= KindEmpty; k++ {
		n := k.String()
		if n == "unknown" || n == "" {
			t.Errorf("Kind(%d) has no name", k)
		}
		if prev, dup := seen[n]; dup {
			t.Errorf("Kind(%d) and Kind(%d) are both named %q", prev, k, n)
		}
		seen[n] = k
	}
	if got := Kind(255).String(); got != "unknown" {
		t.Errorf("Kind(255).String() = %q, want unknown", got)
	}
	for tg, want := range map[Target]string{TargetPrimary: "primary", TargetReplica: "replica", TargetPinned: "pinned", TargetProxy: "proxy", TargetError: "error"} {
		if got := tg.String(); got != want {
			t.Errorf("Target(%d).String() = %q, want %q", tg, got, want)
		}
	}
	for p, want := range map[Pin]string{
		0:                                     "",
		PinLockTables:                         "lock_tables",
		PinReadOnlyTxn:                        "read_only_transaction",
		PinUserVar | PinTempTable:             "temporary_table,user_variable",
		PinLockFunc | PinPrepare | PinNextTxn: "get_lock,text_prepare,set_transaction",
	} {
		if got := p.String(); got != want {
			t.Errorf("Pin(%#x).String() = %q, want %q", uint16(p), got, want)
		}
	}
}

// TestEmptyAlwaysCarriesErr: every way of sending nothing is refused.
func TestEmptyAlwaysCarriesErr(t *testing.T) {
	for _, sql := range []string{"", " ", "\n\t", ";", " ; ; ", "/* c */", "/**/", "-- c", "# c", "-- c\n", "/*!40101 */"} {
		a := Analyze(sql)
		if a.Kind != KindEmpty || a.Err == nil {
			t.Errorf("Analyze(%q): kind=%s err=%v, want empty with an error", sql, a.Kind, a.Err)
			continue
		}
		if p := Decide(a, Session{RWSplit: true}); p.Target != TargetError {
			t.Errorf("Analyze(%q): target %s, want error", sql, p.Target)
		}
	}
}

// TestAnalyzeConcurrent runs the golden statements from several goroutines
// (the parsers are pooled) and expects the sequential results; run with
// -race. Ten rounds per worker make the race detector catch a parser reused
// while its statements are still being classified (8 of 8 runs on 2 cores).
func TestAnalyzeConcurrent(t *testing.T) {
	cases := readCases(t, filepath.Join("testdata", "core.sql"))
	want := make([]string, len(cases))
	for i, c := range cases {
		if err := protect(func() { want[i] = formatAnalysis(Analyze(c.sql)) }); err != nil {
			t.Skipf("Analyze panics (reported by TestGolden): %v", err)
		}
	}
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; n < 10*len(cases); n++ {
				i := (n + w*len(cases)/workers) % len(cases)
				if got := formatAnalysis(Analyze(cases[i].sql)); got != want[i] {
					errs <- fmt.Sprintf("worker %d: Analyze(%q) = %s, want %s", w, cases[i].sql, got, want[i])
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
